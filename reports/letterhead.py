"""The formal parts of the BÁO CÁO around its figures, the same in the DOCX and the HTML file.

State bodies follow Nghị định 30/2020/NĐ-CP: issuing body over a short rule, number
"Số: …/BC-PGDĐT", Quốc hiệu and Tiêu ngữ over a rule. Party bodies follow Hướng dẫn
36-HD/VPTW: issuing body over a "*", number "Số …-BC/BTGHU", "ĐẢNG CỘNG SẢN VIỆT NAM" over a
rule, never the State's Quốc hiệu. The wording is in reports/templates/report_parts.txt.j2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reports.model import PlanHeader, PlanReport
from reports.templates import lines, parts

_PLACE_AFTER = re.compile(
    r"\b(?:(?:huyện|tỉnh|thành|thị|đảng) (?:ủy|uỷ)|thành phố|thị trấn|thị xã"
    r"|huyện|tỉnh|xã|phường|quận)\s+",
    re.IGNORECASE,
)
UNKNOWN_PLACE = "……"


@dataclass(frozen=True)
class Letterhead:
    """Header, addressee and closing of one report, as lines of text."""

    party: bool  # a Party body: "*" under its name, no Quốc hiệu
    body: list[str]  # the issuing body, upper case; the last line is the unit itself
    number: str  # "Số:      /BC-PGDĐT" or "Số      -BC/BTGHU"
    national: list[str]  # Quốc hiệu and Tiêu ngữ, or the Party's name; a rule under the last
    place_date: str
    title: str
    subtitle: str  # the trích yếu: what the report is about
    addressee: str | None  # "Kính gửi: …", when the report goes to the plan's issuer
    recipients: list[str]  # "Nơi nhận:" and its lines
    signer: list[str]  # the signer's title


def letterhead(report: PlanReport, place: str | None = None) -> Letterhead:
    """The letterhead of `report`; `place` names the date line (default: the issuer's place)."""
    words = parts("report_parts.txt.j2")
    plan = report.plan
    unit = plan.coordinator
    to = addressee(plan)
    return Letterhead(
        party=unit.party,
        body=lines(words.issuing_body(plan)),
        number=str(words.number(unit)),
        national=lines(words.national(unit)),
        place_date=str(words.place_date(place or default_place(plan.issuer), report.at)),
        title=str(words.title()),
        subtitle=str(words.subtitle(plan)),
        addressee=str(words.addressee(to)) if to else None,
        recipients=lines(words.recipients(unit, to)),
        signer=lines(words.signature(unit)),
    )


def addressee(plan: PlanHeader) -> str | None:
    """Whom the report is addressed to: the body that issued the plan, unless that is the
    coordinator itself (then the office fills in the recipients)."""
    issuer = (plan.issuer or "").strip()
    if not issuer or issuer.casefold() == plan.coordinator.name.casefold():
        return None
    return issuer


def default_place(issuer: str | None) -> str:
    """The place name of the date line: the words after the issuer's last administrative level."""
    if issuer:
        found = list(_PLACE_AFTER.finditer(issuer))
        if found:
            return issuer[found[-1].end() :].strip() or UNKNOWN_PLACE
    return UNKNOWN_PLACE
