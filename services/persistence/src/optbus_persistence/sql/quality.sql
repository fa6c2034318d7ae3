-- The data-quality monitor's reports: one row per DataQualityReported event (control.dq),
-- insert-only and unique on event_id, so a report stored twice is stored once. `checks` holds
-- every field's coverage (name, group, present, total, coverage, threshold, passed).
CREATE TABLE IF NOT EXISTS data_quality_reports (
    time          timestamptz NOT NULL,
    event_id      text PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL,
    passed        boolean     NOT NULL,
    failed_checks text[]      NOT NULL,
    checks        jsonb       NOT NULL
);
CREATE INDEX IF NOT EXISTS data_quality_reports_time ON data_quality_reports (time);
