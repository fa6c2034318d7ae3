"""The TimescaleDB script, read as text: no TimescaleDB runs where the tests run, so what can be
checked here is that `optbus db migrate` can run it again (every policy is idempotent) and
that it sets the policies docs/operations.md promises (retention is added by the migration's
code, from the settings)."""

from __future__ import annotations

import re
from importlib import resources

SCRIPT = resources.files("optbus_persistence").joinpath("sql", "timescaledb.sql").read_text()


def _policy_calls() -> list[str]:
    return re.findall(r"add_\w+_policy\([^;]*\)", SCRIPT)


def test_the_script_sets_the_compression_and_minute_bar_refresh_policies() -> None:
    called = {re.match(r"add_(\w+)_policy", call).group(1) for call in _policy_calls()}  # type: ignore[union-attr]
    assert called == {"compression", "continuous_aggregate"}


def test_every_policy_is_added_only_if_it_does_not_exist() -> None:
    assert all("if_not_exists => TRUE" in call for call in _policy_calls())
