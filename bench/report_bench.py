"""Benchmark the consolidated report: 5,000 units × 20 tasks (100k assignments), every format.

`--indicators`: the same plan with 3 indicators per task (a ratio, a number, a yes/no), the
schools under 25 communes (the tables subtotal them) and values from every unit that reported.
"""

# Run: `.venv/bin/python -m bench.report_bench`. The database is populated in one subprocess
# and each format measured in another, so every figure is that process's own peak RSS (VmHWM,
# the high-water mark of resident memory: it counts SQLAlchemy rows, the report model,
# library buffers and the interpreter alike; tracemalloc would miss C allocations).

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.database import backend, bench_database
from bench.figures import Target, target_line
from plans.clock import at_local
from reports.figures import build_report
from reports.files import FORMATS, write_report
from storage.db import make_engine
from storage.models import (
    Assignment,
    IndicatorValue,
    Occurrence,
    Plan,
    Report,
    Task,
    TaskIndicator,
    Unit,
)
from storage.schema import migrate

ROOT = Path(__file__).resolve().parents[1]
SELF = [sys.executable, "-m", "bench.report_bench"]  # each format measured in its own process
UNITS = 5_000
TASKS = 20
COMMUNES = 25  # with --indicators: the schools' parents, so the tables have subtotals
INDICATORS = (  # per task, with --indicators: (code, name, kind, combine, unit, targets)
    ("phong", "Phòng học kiên cố", "ratio", "rate", "phòng", "100%", "100%"),
    ("ns", "Kinh phí sửa chữa", "number", "sum", "triệu đồng", None, None),
    ("ht", "Đã quán triệt", "yesno", "count_yes", "", None, "có"),
)
AT = date(2026, 11, 23)
PLAN_CODE = "KH-BENCH"
TARGETS = {"md": 5.0, "html": 5.0, "docx": 20.0, "xlsx": 20.0}
PEAK_TARGET_MB = 500
PEAK = Target(PEAK_TARGET_MB, at_least=False, unit=" MB")
NOTES = (
    "Đã tổ chức quán triệt đến toàn thể cán bộ, giáo viên",
    "Đang rà soát số liệu, dự kiến hoàn thành trong tháng",
    "Vướng kinh phí sửa chữa phòng học, đề nghị hỗ trợ",
    "Thiếu giáo viên Tin học, Tiếng Anh",
    "",
)


def populate(engine: Engine, seed: int = 2026, *, indicators: bool = False) -> int:
    """Bulk-insert the units, plan, tasks, assignments, occurrences and reports; count reports."""
    rng = random.Random(seed)
    now = datetime(2026, 1, 2, tzinfo=UTC)
    units = [{"id": 1, "code": "UBND", "name": "UBND huyện Cẩm Giàng", "aliases": []}]
    units.append(
        {
            "id": 2,
            "code": "PGDDT",
            "name": "Phòng Giáo dục và Đào tạo",
            "parent_code": "UBND",
            "aliases": [],
        }
    )
    units += [
        {
            "id": 3 + i,
            "code": f"T{i:05d}",
            "name": f"Trường số {i + 1} xã Cẩm Vũ",
            "parent_code": "PGDDT",
            "aliases": [],
        }
        for i in range(UNITS)
    ]
    tasks = [
        {
            "id": 1 + t,
            "plan_id": 1,
            "key": f"III.{t + 1}",
            "position": t,
            "title": f"Nhiệm vụ số {t + 1}: rà soát, đánh giá và báo cáo kết quả thực hiện",
            "owner_code": "TRUONG",
            "partners": [],
            "due_text": "…",
            "due_kind": "dated",
        }
        for t in range(TASKS)
    ]
    dues = [date(2026, 3, 31) + timedelta(days=19 * t) for t in range(TASKS)]
    assignments, occurrences, reports = [], [], []
    for u in range(UNITS):
        for t in range(TASKS):
            ident = u * TASKS + t + 1
            due = dues[t]
            assignments.append({"id": ident, "task_id": 1 + t, "unit_id": 3 + u})
            occurrences.append(
                {"id": ident, "assignment_id": ident, "period": "once", "due_date": due}
            )
            reports += _history(rng, ident, due)
    specs, values = _indicators(rng, reports) if indicators else ([], [])
    if indicators:
        units += _communes(units)
    with engine.begin() as conn:
        conn.execute(insert(Unit), units)
        conn.execute(
            insert(Plan),
            [
                {
                    "id": 1,
                    "code": PLAN_CODE,
                    "number": "99/KH-UBND",
                    "title": "Kế hoạch thử tải",
                    "issuer": "UBND huyện Cẩm Giàng",
                    "issued": date(2026, 1, 5),
                    "coordinator_code": "PGDDT",
                    "reminders": {},
                    "imported_at": now,
                }
            ],
        )
        conn.execute(insert(Task), tasks)
        conn.execute(insert(Assignment), assignments)
        conn.execute(insert(Occurrence), occurrences)
        conn.execute(insert(Report), reports)
        if specs:
            conn.execute(insert(TaskIndicator), specs)
            conn.execute(insert(IndicatorValue), values)
    return len(reports)


def _communes(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """25 communes under the office; each school moves under one of them."""
    first = len(units) + 1
    communes = [
        {"id": first + c, "code": f"XA{c:02d}", "name": f"Cụm xã số {c + 1}", "aliases": []}
        for c in range(COMMUNES)
    ]
    for commune in communes:
        commune["parent_code"] = "PGDDT"
    for n, unit in enumerate(units[2:]):
        unit["parent_code"] = communes[n % COMMUNES]["code"]
    return communes


def _indicators(
    rng: random.Random, reports: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Three indicators per task, and values from each occurrence's first report."""
    specs = [
        {
            "id": t * len(INDICATORS) + n + 1,
            "task_id": 1 + t,
            "position": n,
            "code": code,
            "name": name,
            "kind": kind,
            "combine": how,
            "measure": unit,
            "target": target,
            "target_unit": target_unit,
            "active": True,
        }
        for t in range(TASKS)
        for n, (code, name, kind, how, unit, target, target_unit) in enumerate(INDICATORS)
    ]
    values: list[dict[str, Any]] = []
    first: dict[int, datetime] = {}
    for report in reports:
        first.setdefault(report["occurrence_id"], report["created_at"])
    for occurrence_id, when in first.items():
        task = (occurrence_id - 1) % TASKS
        whole = rng.randint(8, 30)
        figures = (
            {"kind": "ratio", "number": str(rng.randint(whole // 2, whole)), "whole": str(whole)},
            {"kind": "number", "number": f"{rng.randint(0, 9_000) / 10:.1f}"},
            {"kind": "yesno", "number": str(int(rng.random() < 0.8))},
        )
        for n, figure in enumerate(figures):
            indicator_id = task * len(INDICATORS) + n + 1
            values.append(
                {
                    "occurrence_id": occurrence_id,
                    "indicator_id": indicator_id,
                    "created_at": when,
                    "whole": None,
                    **figure,
                }
            )
    return specs, values


def _history(rng: random.Random, occurrence_id: int, due: date) -> list[dict[str, Any]]:
    """A realistic report history: silence, progress, difficulties, done on time or late."""
    roll = rng.random()
    if roll < 0.25:
        return []
    start = at_local(due - timedelta(days=20), 9)
    first = start + timedelta(days=rng.randint(0, 15), minutes=rng.randint(0, 600))
    history = [_report(rng, occurrence_id, "in_progress", first, percent=rng.randint(10, 80))]
    if roll < 0.35:
        history[0]["status"] = "blocked"
    elif roll < 0.85:
        done = at_local(due + timedelta(days=rng.randint(-6, 4)), 10)
        history.append(_report(rng, occurrence_id, "done", done))
        if roll > 0.82:
            history[-1]["returned_at"] = done + timedelta(days=1)
            history[-1]["return_reason"] = "Thiếu minh chứng"
    return [h for h in history if h["created_at"] < at_local(AT + timedelta(days=30), 0)]


def _report(
    rng: random.Random, occurrence_id: int, status: str, when: datetime, percent: int | None = None
) -> dict[str, Any]:
    """One report row."""
    return {
        "occurrence_id": occurrence_id,
        "status": status,
        "percent": percent,
        "note": rng.choice(NOTES),
        "evidence": ["file-id"] * rng.randint(0, 2),
        "created_at": when,
        "returned_at": None,
        "return_reason": None,
    }


def run_one(url: str, fmt: str, out_dir: Path) -> dict[str, Any]:
    """Build the report and write one format; timings and peak RSS of this process."""
    engine = make_engine(url)
    rss_before = _peak_rss_mb()
    started = time.perf_counter()
    with Session(engine) as session:
        report = build_report(session, plan_code=PLAN_CODE, at=AT)
    built = time.perf_counter()
    path = write_report(report, fmt, out_dir / f"report.{fmt}")  # type: ignore[arg-type]
    written = time.perf_counter()
    return {
        "format": fmt,
        "rows": len(report.rows),
        "figures": sum(len(t.lines) * len(t.specs) for t in report.indicators),
        "build_s": built - started,
        "write_s": written - built,
        "total_s": written - started,
        "rss_after_imports_mb": rss_before,
        "peak_rss_mb": _peak_rss_mb(),
        "size_mb": path.stat().st_size / 1e6,
    }


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    # /proc's VmHWM starts afresh at exec; ru_maxrss (the fallback off Linux) may carry the
    # parent's figure across fork and exec.
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Populate a temporary database, then measure each format in its own process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--indicators", action="store_true", help="3 indicators per task")
    parser.add_argument("--populate", action="store_true", help="internal: fill the database")
    parser.add_argument("--one", choices=FORMATS, help="internal: measure one format")
    parser.add_argument("--url")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each format")
    args = parser.parse_args()
    if args.populate:
        engine = make_engine(args.url)
        migrate(engine)
        started = time.perf_counter()
        count = populate(engine, indicators=args.indicators)
        engine.dispose()  # the last connection to close folds the write-ahead log into the file
        print(
            f"database: {UNITS:,} units × {TASKS} tasks = {UNITS * TASKS:,} assignments, "
            f"{count:,} reports, populated in {time.perf_counter() - started:.1f} s"
        )
        return
    if args.one:
        print(json.dumps(run_one(args.url, args.one, args.out)))
        return
    with (
        tempfile.TemporaryDirectory(prefix="dondoc-bench-") as tmp,
        bench_database(Path(tmp), "report") as url,
    ):
        variant = ["--indicators"] if args.indicators else []
        subprocess.run([*SELF, "--populate", *variant, "--url", url], check=True, cwd=ROOT)
        runs: dict[str, list[dict[str, Any]]] = {fmt: [] for fmt in FORMATS}
        for _ in range(args.repeat):  # formats in turn, so a busy moment does not hit one alone
            for fmt in FORMATS:
                command = [*SELF, "--one", fmt, "--url", url, "--out", tmp]
                done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
                runs[fmt].append(json.loads(done.stdout.strip().splitlines()[-1]))
        results = [runs[fmt][0] for fmt in FORMATS]
    print(f"first run of each format (n={args.repeat} runs below):")
    print(
        f"{'format':<6} {'rows':>7} {'build s':>8} {'write s':>8} {'total s':>8} {'target':>7} "
        f"{'peak RSS MB':>12} {'size MB':>8}  ok"
    )
    for r in results:
        ok = r["total_s"] < TARGETS[r["format"]] and r["peak_rss_mb"] < PEAK_TARGET_MB
        print(
            f"{r['format']:<6} {r['rows']:>7,} {r['build_s']:>8.2f} {r['write_s']:>8.2f} "
            f"{r['total_s']:>8.2f} {TARGETS[r['format']]:>6.0f}s {r['peak_rss_mb']:>12.0f} "
            f"{r['size_mb']:>8.1f}  {'yes' if ok else 'NO'}"
        )
    print(f"peak RSS after imports, before the report: {results[0]['rss_after_imports_mb']:.0f} MB")
    for fmt in FORMATS:  # every run of each format
        took = Target(TARGETS[fmt], at_least=False, unit=" s", digits=1)
        times = [r["total_s"] for r in runs[fmt]]
        peaks = [r["peak_rss_mb"] for r in runs[fmt]]
        print(target_line(f"report {fmt}", times, took, engine=backend()))
        print(target_line(f"report {fmt}, peak", peaks, PEAK, engine=backend()))
    if args.indicators:
        print(f"indicator figures in the tables (units × indicators): {results[0]['figures']:,}")


if __name__ == "__main__":
    main()
