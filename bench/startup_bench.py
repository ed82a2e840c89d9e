"""Start-up of the command line: wall time of `dondoc due`, `plan validate` and `--help`.

Each run is a fresh process of the installed `dondoc` script (on this checkout's code), so the
figure includes the interpreter's own start-up, every import and the command's work, as the
operator waits for it. `plan validate` reads the example plan against the example units file
(`--units`), without a database; the same command against a database's units is shown too, for
comparison (it imports SQLAlchemy, the models and Alembic's revision check). Prints n, the median
and min–max per command; the target is under 0.4 s for the first three.
Run: `.venv/bin/python -m bench.startup_bench [--runs 15]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import NO_DATABASE, Target, target_line

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "plans" / "examples"
PLAN = str(EXAMPLES / "kh-gddt-2023.yaml")
UNITS = str(EXAMPLES / "units.yaml")
TARGET_S = 0.4
STARTUP = Target(TARGET_S, at_least=False, unit=" s", digits=2)
# name → (arguments, whether the target applies)
COMMANDS = {
    "due": (["due", "trước ngày 20/9/2023", "--issued", "2023-08-01"], True),
    "plan validate": (["plan", "validate", PLAN, "--units", UNITS], True),
    "--help": (["--help"], True),
    "validate (db)": (["plan", "validate", PLAN], False),
}


def dondoc(env: dict[str, str], cwd: Path, *args: str) -> float:
    """Run the `dondoc` script beside this interpreter; its wall time. A failure stops here."""
    argv = [str(Path(sys.executable).with_name("dondoc")), *args]
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"dondoc {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return elapsed


def main() -> int:
    """Time each command `--runs` times after one warm-up run (page cache, .pyc files)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        database = folder / "dondoc.db"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DONDOC_DATABASE_URL": f"sqlite:///{database}",
        }
        print(f"{'command':<14} {'n':>3} {'median':>8} {'min–max':>15}  target < {TARGET_S} s")
        slow = False
        for label, (arguments, targeted) in COMMANDS.items():
            if not targeted and not database.exists():  # the database the last row reads
                dondoc(env, folder, "init")
                dondoc(env, folder, "units", "import", UNITS)
            dondoc(env, folder, *arguments)
            times = [dondoc(env, folder, *arguments) for _ in range(args.runs)]
            median = statistics.median(times)
            slow |= targeted and median >= TARGET_S
            spread = f"{min(times):.3f}–{max(times):.3f} s"
            note = "" if targeted else "  (for comparison)"
            print(f"{label:<14} {len(times):>3} {median:>6.3f} s {spread:>15}{note}")
            if targeted:
                print(target_line(f"  start-up, {label}", times, STARTUP, engine=NO_DATABASE))
            if targeted and database.exists():
                raise SystemExit(f"dondoc {' '.join(arguments)} created the database")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
