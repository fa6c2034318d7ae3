"""``optbus backtest --compare RUN_A RUN_B``: two stored runs' figures side by side."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from optbus_backtest.figures import HEADLINE_FIGURES, Figure
from optbus_backtest.options import BacktestInputError
from optbus_backtest.store import StoredRun, load_run, where


def _difference(figure: Figure, a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return ""
    change = b - a
    if change == 0:
        return "="
    return ("+" if change > 0 else "-") + figure.format(abs(change))


def compare_rows(a: StoredRun, b: StoredRun) -> list[tuple[str, str, str, str]]:
    """(figure, run A, run B, B minus A) for the headline figures, then the runs' identity."""
    rows = []
    for figure in HEADLINE_FIGURES:
        value_a, value_b = figure.value(a.performance), figure.value(b.performance)
        rows.append((figure.label, figure.format(value_a), figure.format(value_b),
                     _difference(figure, value_a, value_b)))  # fmt: skip
    same_log = "same" if a.trade_log_sha256 == b.trade_log_sha256 else "differs"
    rows += [
        ("trade-log sha256", a.trade_log_sha256[:16], b.trade_log_sha256[:16], same_log),
        ("source", a.source, b.source, ""),
        ("stored", f"{a.created:%Y-%m-%d %H:%M:%S}", f"{b.created:%Y-%m-%d %H:%M:%S}", ""),
    ]
    return rows


def compare_table(a: StoredRun, b: StoredRun) -> Table:
    """The two runs as a rich table, with the difference B minus A."""
    table = Table(title=f"backtest {a.run_id} vs {b.run_id}")
    table.add_column("figure", no_wrap=True)
    for heading in (a.run_id, b.run_id, "B - A"):
        table.add_column(heading, justify="right", overflow="fold")
    for row in compare_rows(a, b):
        table.add_row(*row)
    return table


def load_pair(database_url: str, run_a: str, run_b: str) -> tuple[StoredRun, StoredRun]:
    """Both stored runs; a BacktestInputError names any run id the database does not hold."""
    a, b = load_run(database_url, run_a), load_run(database_url, run_b)
    if a is None or b is None:
        missing = [run_id for run_id, run in ((run_a, a), (run_b, b)) if run is None]
        raise BacktestInputError(
            f"no stored backtest run {', '.join(repr(m) for m in missing)} in the database at "
            f"{where(database_url)} (runs are stored by `optbus backtest` when it can reach it)"
        )
    return a, b


def compare_command(database_url: str, run_a: str, run_b: str, console: Console) -> None:
    """Print the two stored runs side by side."""
    console.print(compare_table(*load_pair(database_url, run_a, run_b)))
