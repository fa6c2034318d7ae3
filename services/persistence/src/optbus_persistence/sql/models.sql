-- The model registry: one row per trained model (never changed once written), and its status
-- history (active, kept with the reason it was not promoted, retired when replaced). Both are
-- insert-only, so the writer role needs no UPDATE; `model_registry` shows each model's current
-- status. The model files themselves are in the JetStream object store `optbus_models`.
CREATE TABLE IF NOT EXISTS models (
    model_version    text PRIMARY KEY,
    model_hash       text        NOT NULL,
    kind             text        NOT NULL,
    object_name      text        NOT NULL,
    registered_at    timestamptz NOT NULL,
    features_version text        NOT NULL,
    feature_names    text[]      NOT NULL,
    params           jsonb       NOT NULL,
    train_first_day  date        NOT NULL,
    train_last_day   date        NOT NULL,
    rows             integer     NOT NULL,
    days             integer     NOT NULL,
    metrics          jsonb       NOT NULL,
    library_versions jsonb       NOT NULL,
    metadata         jsonb       NOT NULL
);
CREATE TABLE IF NOT EXISTS model_status_changes (
    time          timestamptz NOT NULL,
    model_version text        NOT NULL REFERENCES models (model_version),
    status        text        NOT NULL CHECK (status IN ('active', 'kept', 'retired')),
    reason        text        NOT NULL,
    PRIMARY KEY (model_version, status)
);
CREATE OR REPLACE VIEW model_registry AS
SELECT m.model_version, m.model_hash, m.kind, m.object_name, m.registered_at,
       m.train_first_day, m.train_last_day, m.rows, m.days, m.metrics,
       s.status, s.reason AS status_reason, s.time AS status_since
FROM models m
JOIN LATERAL (
    SELECT c.status, c.reason, c.time FROM model_status_changes c
    WHERE c.model_version = m.model_version
    ORDER BY c.time DESC, c.status = 'retired' DESC
    LIMIT 1
) s ON true;
