"""How the benchmarks print a figure: the median of n runs with their minimum and maximum."""

from __future__ import annotations

import statistics


def spread(values: list[float], digits: int = 0) -> str:
    """median (min–max), with thousands separated and `digits` decimals."""
    fmt = f"{{:,.{digits}f}}"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{fmt.format(mid)} ({fmt.format(low)}–{fmt.format(high)})"
