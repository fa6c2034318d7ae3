"""The optbus command says a failure in one plain line with a documented exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from nats.errors import NoServersError
from typer.testing import CliRunner

from optbus.runtime.migration import BusNotMigrated
from optbus_cli.database_urls import MalformedDatabaseUrl
from optbus_cli.exit_codes import ExitCode
from optbus_cli.failures import explain
from optbus_cli.main import app
from optbus_cli.readiness import ServiceExited, ServicesNotReady
from optbus_cli.service_processes import ServiceProcesses, start_replicas
from optbus_persistence.schema import SchemaMissing

runner = CliRunner()
UNREACHABLE_DATABASE = "postgresql://optbus:s3cret-pw@127.0.0.1:9/optbus"
UNREACHABLE_NATS = "nats://svc:nats-pw@127.0.0.1:9"


def _optbus(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command as a user runs it: its own process, its own exit code."""
    return subprocess.run(
        [sys.executable, "-c", "from optbus_cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (psycopg.OperationalError("connection refused"), ExitCode.UNREACHABLE),
        (psycopg.errors.UndefinedTable("relation x does not exist"), ExitCode.NOT_AS_DECLARED),
        (psycopg.errors.InsufficientPrivilege("permission denied"), ExitCode.FAILED),
        (NoServersError(), ExitCode.UNREACHABLE),
        (BusNotMigrated(["stream MD is missing"]), ExitCode.NOT_AS_DECLARED),
        (SchemaMissing("no schema"), ExitCode.NOT_AS_DECLARED),
        (FileNotFoundError(2, "No such file or directory", "x.csv"), ExitCode.BAD_INPUT),
        (ConnectionRefusedError(111, "Connection refused"), ExitCode.UNREACHABLE),
        (ExceptionGroup("tasks", [NoServersError()]), ExitCode.UNREACHABLE),
        (ServicesNotReady("services not ready after 90 s: risk"), ExitCode.UNREACHABLE),
        (ServiceExited("service failed during the replay: greeks"), ExitCode.UNREACHABLE),
        (MalformedDatabaseUrl("not a PostgreSQL URL"), ExitCode.BAD_INPUT),
        (ZeroDivisionError("division by zero"), ExitCode.BUG),
    ],
)
def test_each_kind_of_failure_has_its_documented_exit_code(
    error: BaseException, code: ExitCode
) -> None:
    assert explain(error)[0] == code


def test_an_unexpected_error_says_how_to_see_where_it_happened() -> None:
    assert explain(ZeroDivisionError("division by zero"))[1] == (
        "unexpected error: ZeroDivisionError: division by zero (set OPTBUS_DEBUG=1 to see where)"
    )


def test_an_unreachable_database_is_one_line_without_a_traceback() -> None:
    result = _optbus("dq", "--database-url", UNREACHABLE_DATABASE)
    assert result.returncode == ExitCode.UNREACHABLE
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("optbus: the database does not answer: ")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("url", ["not-a-url", "mysql://optbus@db/optbus"])
def test_a_database_url_postgresql_cannot_parse_is_bad_usage_in_one_line(url: str) -> None:
    result = _optbus("dq", "--database-url", url)

    assert result.returncode == ExitCode.BAD_INPUT
    assert result.stderr.startswith("optbus: the database URL (--database-url or DATABASE_URL)")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_database_url_with_a_port_that_is_not_a_number_is_bad_usage_without_its_password() -> (
    None
):
    result = _optbus("dq", "--database-url", "postgresql://optbus:s3cret-pw@db:54x32/optbus")

    assert result.returncode == ExitCode.BAD_INPUT
    assert result.stderr.strip() == (
        "optbus: the database URL's port '54x32' is not a number: "
        "write it as postgresql://user@host:5432/database (user:password@ with a password)"
    )


def test_services_that_cannot_reach_nats_in_time_are_a_dependency_unavailable(
    tmp_path: Path,
) -> None:
    processes = ServiceProcesses(os.environ | {"NATS_URL": UNREACHABLE_NATS}, tmp_path)
    try:
        with pytest.raises(ServicesNotReady) as raised:
            start_replicas(processes, {"risk": 1}, timeout=1.0)
    finally:
        processes.stop_all()

    assert explain(raised.value)[0] == ExitCode.UNREACHABLE
    assert str(tmp_path) in explain(raised.value)[1]


def test_status_exits_non_zero_when_nothing_answers() -> None:
    result = _optbus(
        "status", "--nats-url", UNREACHABLE_NATS, "--database-url", UNREACHABLE_DATABASE
    )
    assert result.returncode == ExitCode.UNREACHABLE


def test_status_never_prints_a_password_of_its_urls() -> None:
    result = _optbus(
        "status", "--nats-url", UNREACHABLE_NATS, "--database-url", UNREACHABLE_DATABASE
    )
    shown = result.stdout + result.stderr
    assert ("s3cret-pw" in shown, "nats-pw" in shown) == (False, False)
    assert "postgresql://optbus:***@127.0.0.1:9/optbus" in shown.replace("\n", "")


def test_the_kill_switch_with_nats_down_is_one_line_and_exit_4() -> None:
    result = _optbus("killswitch", "engage", "--reason", "test", "--nats-url", UNREACHABLE_NATS)
    assert result.returncode == ExitCode.UNREACHABLE
    assert (result.stdout + result.stderr).strip().count("\n") == 0
    assert "sent" not in result.stdout


def test_pricing_a_file_with_a_bad_row_exits_1(tmp_path: Path) -> None:
    source = tmp_path / "chain.csv"
    source.write_text("kind,underlying,strike,expiry_years,rate,price\ncall,100,100,0.5,0.05,x\n")
    result = runner.invoke(app, ["price", "-i", str(source), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == ExitCode.FAILED


def test_pricing_with_allow_errors_exits_0_despite_a_bad_row(tmp_path: Path) -> None:
    source = tmp_path / "chain.csv"
    source.write_text("kind,underlying,strike,expiry_years,rate,price\ncall,100,100,0.5,0.05,x\n")
    result = runner.invoke(
        app, ["price", "-i", str(source), "-o", str(tmp_path / "out.csv"), "--allow-errors"]
    )
    assert result.exit_code == ExitCode.OK


def test_pricing_a_csv_saved_with_a_byte_order_mark_prices_it(tmp_path: Path) -> None:
    source = tmp_path / "chain.csv"
    header_and_row = "kind,underlying,strike,expiry_years,rate,price\ncall,100,100,0.5,0.05,5.0\n"
    source.write_bytes(b"\xef\xbb\xbf" + header_and_row.encode())

    result = runner.invoke(app, ["price", "-i", str(source), "-o", str(tmp_path / "out.csv")])

    assert result.exit_code == ExitCode.OK, result.output


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the CSV is empty"),
        (b"a,b\n1,2\n", "missing required column(s)"),
        (b"\xc8\x01\xff\xfe binary", "not UTF-8 text"),
    ],
)
def test_pricing_a_file_that_is_not_a_pricing_csv_exits_2_with_the_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    source = tmp_path / "input.csv"
    source.write_bytes(content)
    result = runner.invoke(app, ["price", "-i", str(source)])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert reason in result.output
