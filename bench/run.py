"""`make bench`: run every bench/bench_*.py, write bench/results.json, print a table.

Each benchmark module has ``run(scale: float) -> list[record]``; every record is measured
beside its reference in the same run (see _records.record). ``--scale 0.1`` runs a tenth of
the sizes, for a quick smoke test (the figures are then not the documented ones).
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def _format(value: float) -> str:
    """Throughputs with thousands separators, small numbers in scientific notation."""
    if value != value:  # NaN
        return "nan"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 0.01:
        return f"{value:.2f}"
    return f"{value:.2e}"


def print_table(records: list[dict[str, object]]) -> None:
    """The records as an aligned text table on stdout."""
    header = ("name", "value", "unit", "reference", "reference value", "ratio")
    rows = [
        (
            str(r["name"]),
            _format(float(r["value"])),  # type: ignore[arg-type]
            str(r["unit"]),
            str(r["reference"]),
            _format(float(r["reference_value"])),  # type: ignore[arg-type]
            _format(float(r["ratio"])),  # type: ignore[arg-type]
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def _merged(
    output: Path, records: list[dict[str, object]], only: list[str]
) -> list[dict[str, object]]:
    """``output``'s figures with ``records`` in their places (new ones at the end) when only
    some benchmarks ran; else just ``records``."""
    if not only or not output.exists():
        return records
    fresh = {record["name"]: record for record in records}
    merged = [fresh.pop(str(old["name"]), old) for old in json.loads(output.read_text())]
    return merged + list(fresh.values())


def main() -> None:
    """Run the benchmarks and record the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the sizes")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results.json")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="run only bench_<NAME>.py (repeatable); its figures replace theirs in --output",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH_DIR))
    print(f"python {platform.python_version()} on {platform.machine()}, scale {args.scale}")
    paths = [BENCH_DIR / f"bench_{name}.py" for name in args.only] or sorted(
        BENCH_DIR.glob("bench_*.py")
    )
    missing = [path.name for path in paths if not path.exists()]
    if missing:
        parser.error(f"no such benchmark: {', '.join(missing)}")
    records: list[dict[str, object]] = []
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        records += importlib.import_module(path.stem).run(args.scale)
    args.output.write_text(json.dumps(_merged(args.output, records, args.only), indent=2) + "\n")
    print_table(records)
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
