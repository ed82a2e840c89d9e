"""The example plans say what the seed documents say (shared/seeds/, read as a careful operator
would: tests/plans/intake/data/*.expected.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plans.plan_file import load_plan_file
from plans.plan_spec import Directory, PlanSpec, TaskSpec
from plans.plan_summary import task_kind
from plans.units_file import load_units_file

# Section IV of the district plan: task → (lead units, partners, kind of deadline).
GDDT = {
    "IV.1.1": ({"PGDDT"}, {"BTG_HU", "PHONG", "DOAN_THE", "XA"}, "dated"),
    "IV.1.2": ({"PGDDT"}, {"PHONG"}, "undated"),
    "IV.1.3": ({"PGDDT"}, {"PHONG"}, "recurring"),
    "IV.1.4": ({"PGDDT"}, {"PNV", "PTCKH"}, "recurring"),
    "IV.1.5": ({"PGDDT"}, {"PHONG"}, "recurring"),
    "IV.2.1": ({"PNV"}, {"PGDDT"}, "recurring"),
    "IV.2.2": ({"PNV"}, {"PGDDT"}, "recurring"),
    "IV.3": ({"PTCKH"}, {"PHONG"}, "recurring"),
    "IV.3.2": ({"PTCKH"}, {"PHONG"}, "ongoing"),
    "IV.3.3": ({"PTCKH"}, {"PHONG"}, "undated"),
    "IV.4.1": ({"PLDTBXH"}, {"PGDDT"}, "on_request"),
    "IV.4.2": ({"PLDTBXH"}, {"PTCKH"}, "recurring"),
    "IV.5": ({"PTNMT"}, set(), "undated"),
    "IV.6": ({"PKTHT"}, {"PGDDT", "XA", "TRUONG"}, "undated"),
    "IV.7": ({"PVHTT", "TTVHTT"}, {"PGDDT"}, "ongoing"),
    "IV.8": ({"HUYEN_DOAN"}, set(), "undated"),
    "IV.9": ({"MTTQ", "BTG_HU", "DOAN_THE"}, set(), "dated"),
    "IV.10": ({"XA", "TRUONG"}, set(), "dated"),
}


@pytest.fixture(scope="module")
def plans() -> dict[str, PlanSpec]:
    """Both example plans, validated against the example units."""
    folder = Path(__file__).resolve().parents[2] / "plans" / "examples"
    directory = Directory.from_units_file(load_units_file(folder / "units.yaml"))
    return {
        name: load_plan_file(folder / f"{name}.yaml", directory)
        for name in ("kh-gddt-2023", "kh-315-hu")
    }


def tasks_of(plan: PlanSpec) -> dict[str, TaskSpec]:
    """A plan's tasks by id."""
    return {task.key: task for task in plan.tasks}


def test_the_district_plan_tracks_section_iv_once_each(plans: dict[str, PlanSpec]) -> None:
    tasks = tasks_of(plans["kh-gddt-2023"])
    assert list(tasks) == list(GDDT)  # section III restates IV without owners: not repeated
    for key, (owners, partners, kind) in GDDT.items():
        assert (set(tasks[key].owners), set(tasks[key].partners), task_kind(tasks[key])) == (
            owners,
            partners,
            kind,
        ), key


def test_the_district_plan_keeps_the_documents_words(plans: dict[str, PlanSpec]) -> None:
    plan = plans["kh-gddt-2023"]
    tasks = tasks_of(plan)
    assert plan.number is None and plan.issued_note  # the seed prints neither
    assert plan.implements == "502-TB/VPTU"
    # "chậm nhất vào tháng 11 hằng năm" closes the budget conference's clause only.
    assert [k for k, t in tasks.items() if "tháng 11" in t.due_text] == ["IV.3"]
    assert "19%" not in tasks["IV.3"].title and "19%" in tasks["IV.3.2"].title
    assert tasks["IV.4.1"].due_text == "theo yêu cầu"  # "định kỳ ... theo yêu cầu"
    assert tasks["IV.9"].request  # "Đề nghị Ủy ban Mặt trận Tổ quốc huyện, ..."
    (share,) = tasks["IV.3.2"].indicators
    assert share.target is not None and share.target.text == "tối thiểu 19%"


def test_the_party_plan_sets_its_figures_as_indicators(plans: dict[str, PlanSpec]) -> None:
    plan = plans["kh-315-hu"]
    tasks = tasks_of(plan)
    assert plan.implements == "91-KL/TW"
    targets = {
        spec.code: spec.target.text if spec.target else None
        for task in tasks.values()
        for spec in task.indicators
    }
    assert targets == {"CHI_GDDT": "tối thiểu 20%", "PHONG_KIEN_CO": "100%", "TRUONG_CHUAN": None}
