"""Issue 23, finding 4: public and community documents name delegations, never people.

The demo session (delegates on the roster, a facilitator and a rapporteur, owners typed as free
text) is relabelled TLP:CLEAR so that everything reaches the public version; then no
delegate's, facilitator's or rapporteur's name, nor an owner given as a person's name, may
appear in its minutes, any delegation's brief or the report, in Markdown or HTML, in any
language, for the public or the community.  The participants' version keeps them.
"""

from __future__ import annotations

import html
from dataclasses import replace
from pathlib import Path

import pytest
from test_documents_golden import AS_OF, demo_snapshot

from roundtable.demo import DELEGATES
from roundtable.documents import LANGUAGES, brief_text, minutes_text, report_text
from roundtable.documents.i18n import Lang
from roundtable.model import SessionSnapshot
from sessions import load_roster

PERSON_OWNER = "SA J. Carter"
FACILITATOR = "Comisario R. Gómez"


def public_snapshot(tmp_path: Path) -> tuple[SessionSnapshot, dict]:
    snap, conflicts = demo_snapshot(tmp_path)
    entries = [replace(e, tlp="clear") for e in snap.entries]
    action = next(e for e in entries if e.entry_kind == "action" and e.owner == "region")
    entries = [replace(e, owner=PERSON_OWNER) if e is action else e for e in entries]
    snap = replace(
        snap,
        session=replace(snap.session, facilitator=FACILITATOR, default_tlp="clear"),
        entries=entries,
        speeches=[replace(s, tlp="clear") for s in snap.speeches],
    )
    conflicts = {action.id: {"owner": [("Lt. M. Haddad", "laptop of P. Owusu")]}, **conflicts}
    return snap, conflicts


def people(snap: SessionSnapshot) -> list[str]:
    found = [snap.session.facilitator, snap.session.rapporteur, PERSON_OWNER, "Lt. M. Haddad",
             "P. Owusu"]  # fmt: skip
    found += [name for a in snap.attendance for name in a.delegates]
    assert set(found) >= {n for names in DELEGATES.values() for n in names}
    return found


def all_documents(snap: SessionSnapshot, conflicts: dict, audience: str, lang: str):
    roster = load_roster()
    names = {code: c.name for code, c in roster.items()}
    for fmt in ("md", "html"):
        yield (
            f"minutes.{fmt}",
            minutes_text(snap, fmt=fmt, lang=lang, conflicts=conflicts, audience=audience),
        )
        for code in sorted({a.country for a in snap.attendance}):
            yield f"brief-{code}.{fmt}", brief_text(
                code, [snap], fmt=fmt, lang=lang, as_of=AS_OF, countries=names,
                conflicts=conflicts, audience=audience,
            )  # fmt: skip
        yield f"report.{fmt}", report_text(
            snap.event, [snap], roster, fmt=fmt, lang=lang, as_of=AS_OF, conflicts=conflicts,
            audience=audience,
        )  # fmt: skip


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("audience", ["public", "community"])
def test_no_persons_name_in_a_public_or_community_document(
    tmp_path: Path, audience: str, lang: str
) -> None:
    snap, conflicts = public_snapshot(tmp_path)
    names = people(snap)
    hidden = Lang(lang).t("(named in the participants' version)")
    seen_hidden = False
    for name, doc in all_documents(snap, conflicts, audience, lang):
        body = html.unescape(doc) if name.endswith("html") else doc
        leaked = [n for n in names if n in body]
        assert leaked == [], (name, leaked)
        seen_hidden |= hidden in body
        if name.startswith("minutes"):
            # delegations are still named; the header says where the people are
            assert Lang(lang).country("GH", {"GH": "Ghana"}) in body
            assert hidden in body
            # the free-text owner of a unit is not a delegation either: named elsewhere
            assert "Drugs unit" not in body
    assert seen_hidden


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_participants_version_names_them(tmp_path: Path, lang: str) -> None:
    snap, conflicts = public_snapshot(tmp_path)
    minutes = minutes_text(snap, lang=lang, conflicts=conflicts, audience="participants")
    for name in (FACILITATOR, PERSON_OWNER, "ACP K. Mensah", "Drugs unit"):
        assert name in minutes


def test_text_typed_inside_an_entry_is_left_as_typed(tmp_path: Path) -> None:
    snap, conflicts = public_snapshot(tmp_path)
    typed = "Briefing by Insp. Q. Typed on the routes"
    snap = replace(snap, entries=[replace(snap.entries[0], text=typed), *snap.entries[1:]])
    assert typed in minutes_text(snap, audience="public")
