"""The room's procedure (issue 26): the quorum, the roll call's "mark the rest absent", and the
procedural record (points of order, rights of reply, the tour: spoke, passed, out).  Pure: no
Textual, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from roundtable.model import Attendance, Speaker, Speech


def quorum_needed(members: int, quorum: int = 0) -> int:
    """Delegations present for a quorum: the plan's ``quorum`` (copied to ``Session.quorum``),
    else a majority of the region's member countries."""
    if quorum > 0:
        return quorum
    return members // 2 + 1 if members > 0 else 0


@dataclass(frozen=True)
class Quorum:
    present: int
    members: int
    needed: int

    @property
    def reached(self) -> bool:
        return self.present >= self.needed

    @property
    def line(self) -> str:
        """ "present 17 of 47 — quorum 24 not reached"."""
        state = "reached" if self.reached else "not reached"
        return f"present {self.present} of {self.members} — quorum {self.needed} {state}"


def quorum(attendance: Iterable[Attendance], members: Iterable[str], quorum: int = 0) -> Quorum:
    """The quorum of the region's ``members`` (observers do not count)."""
    codes = set(members)
    present = {a.country for a in attendance if not a.deleted and a.status == "present"}
    return Quorum(len(present & codes), len(codes), quorum_needed(len(codes), quorum))


def rest_absent(attendance: Iterable[Attendance], members: Iterable[str]) -> list[str]:
    """The member delegations not yet recorded (no record, or "unknown"), in code order: what
    "mark the rest absent" marks."""
    recorded = {a.country for a in attendance if not a.deleted and a.status != "unknown"}
    return sorted(set(members) - recorded)


@dataclass(frozen=True)
class ProcedureLine:
    """One fact of the procedural record: an item, a delegation, what happened."""

    agenda_item: str
    country: str
    what: str  # "point of order", "right of reply", "spoke", "passed", "out"


def procedure_record(
    speakers: Iterable[Speaker], speeches: Iterable[Speech]
) -> list[ProcedureLine]:
    """Points of order and rights of reply asked (list of speakers), and the tour's record
    (spoke, passed, out), per item in the order they happened."""
    speeches = [s for s in speeches if not s.deleted]
    lines: list[ProcedureLine] = []
    for s in sorted(speakers, key=lambda s: (s.agenda_item, s.mode, s.order, s.id)):
        if s.deleted or s.status == "removed":
            continue
        if s.mode == "queue":
            if s.point_of_order:
                lines.append(ProcedureLine(s.agenda_item, s.country, "point of order"))
            elif s.reply:
                lines.append(ProcedureLine(s.agenda_item, s.country, "right of reply"))
            continue
        spoke = any(p.speaker == s.id and not p.passed for p in speeches)
        if s.status == "passed":
            what = "passed"
        elif s.status == "skipped":
            what = "out"
        elif spoke or s.status == "done":
            what = "spoke"
        else:
            continue  # still waiting
        lines.append(ProcedureLine(s.agenda_item, s.country, what))
    return lines
