"""`python -m bench`: every benchmark in turn, each printing its figures."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = (
    ["bench.dispatch_bench"],
    ["bench.tick_bench"],
    ["bench.inbound_bench"],
    ["bench.report_bench"],
    ["bench.import_bench"],
    ["bench.intake_bench"],
    ["bench.startup_bench"],
)


def main() -> int:
    """Run each benchmark in its own process (fresh memory figures); stop on the first failure."""
    for module in BENCHMARKS:
        print(f"\n$ python -m {' '.join(module)}", flush=True)
        code = subprocess.call([sys.executable, "-m", *module])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
