"""How the benchmarks print a figure: the median of n runs with their minimum and maximum,
and, for a figure with a target, the target and its verdict, alike in every benchmark.

A target is met only when the whole spread meets it (the worst run), on the engine it names.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
NO_DATABASE = "no database"  # the engine of a figure that reads none


def spread(values: list[float], digits: int = 0) -> str:
    """median (min–max), with thousands separated and `digits` decimals."""
    fmt = f"{{:,.{digits}f}}"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{fmt.format(mid)} ({fmt.format(low)}–{fmt.format(high)})"


@dataclass(frozen=True)
class Target:
    """A bound a figure must reach (`at_least`) or stay under, on one engine or on any."""

    bound: float
    at_least: bool
    unit: str = ""
    engine: str | None = None  # "sqlite" or "postgresql"; None: whichever the run used
    digits: int = 0

    def text(self) -> str:
        """≥ 300 /s, < 50 ms, … (with the engine when the target names one)."""
        sign = "≥" if self.at_least else "<"
        where = f" on {ENGINE_NAMES[self.engine]}" if self.engine else ""
        return f"{sign} {self.bound:,.{self.digits}f}{self.unit}{where}"

    def met_by(self, values: list[float]) -> bool:
        """Whether every run meets the bound."""
        return min(values) >= self.bound if self.at_least else max(values) < self.bound


def verdict(values: list[float], target: Target, engine: str) -> str:
    """met, NOT met, or why this run does not judge the target."""
    if target.engine is not None and target.engine != engine:
        return f"judged on {ENGINE_NAMES[target.engine]} only"
    return "met" if target.met_by(values) else "NOT met"


def target_line(
    name: str, values: list[float], target: Target, *, engine: str, digits: int | None = None
) -> str:
    """`inbound ratio (SQLite): 0.61 (0.58–0.63), n=3 — target ≥ 0.5 — met`."""
    shown = spread(values, target.digits if digits is None else digits)
    return (
        f"{name} ({ENGINE_NAMES.get(engine, engine)}): {shown}{target.unit}, n={len(values)} "
        f"— target {target.text()} — {verdict(values, target, engine)}"
    )
