"""What a loaded plan comes to: its tasks by kind of deadline, and those nothing reminds of."""

from __future__ import annotations

from dataclasses import dataclass

from plans.errors import Problem
from plans.plan_spec import PlanSpec, TaskSpec

# The kinds of deadline, in the order the summary names them.
KINDS = ("dated", "recurring", "ongoing", "on_request", "undated")
# Every Vietnamese word the summary says (`{}` fields are filled in below).
TEXTS = {
    "kinds": (
        "Nhiệm vụ theo thời hạn: {dated} có hạn một lần, {recurring} định kỳ, "
        "{ongoing} thường xuyên, {on_request} theo yêu cầu, {undated} không thời hạn."
    ),
    "undated": "Không thời hạn nên không được nhắc ({count}):",
    "task": "  - {key}: {title}",
    "external": "Phối hợp ngoài danh bạ (chỉ hiển thị, không nhắc):",
    "partner": "  - {key}: {name}",
    "notices": "Lưu ý:",
    "notice": "  - {notice}",
}


def task_kind(task: TaskSpec) -> str:
    """The task's kind of deadline: one of KINDS."""
    if task.deadline.kind == "dated" and task.deadline.recurring:
        return "recurring"
    return task.deadline.kind


@dataclass(frozen=True)
class PlanSummary:
    """A plan's tasks counted by kind of deadline, with what is shown but never reminded."""

    counts: dict[str, int]
    undated: tuple[TaskSpec, ...]
    external: tuple[tuple[str, str], ...]  # (task key, organisation outside the directory)
    notices: tuple[Problem, ...]

    def lines(self) -> list[str]:
        """The summary as the command line prints it."""
        lines = [TEXTS["kinds"].format(**self.counts)]
        if self.undated:
            lines.append(TEXTS["undated"].format(count=len(self.undated)))
            lines += [TEXTS["task"].format(key=t.key, title=t.title) for t in self.undated]
        if self.external:
            lines.append(TEXTS["external"])
            lines += [TEXTS["partner"].format(key=k, name=n) for k, n in self.external]
        if self.notices:
            lines.append(TEXTS["notices"])
            lines += [TEXTS["notice"].format(notice=n) for n in self.notices]
        return lines


def summarize(spec: PlanSpec) -> PlanSummary:
    """The summary of a loaded plan."""
    counts = dict.fromkeys(KINDS, 0)
    for task in spec.tasks:
        counts[task_kind(task)] += 1
    return PlanSummary(
        counts=counts,
        undated=tuple(t for t in spec.tasks if task_kind(t) == "undated"),
        external=tuple((t.key, name) for t in spec.tasks for name in t.external_partners),
        notices=spec.notices,
    )
