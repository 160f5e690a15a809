"""Session snapshot -> Markdown minutes in the style of a summary record; Markdown -> HTML.

Pure and deterministic: the same snapshot gives the same bytes.  Every piece of user text goes
through :func:`escape_inline`, so it can neither break a table nor inject markup, and the HTML
renderer runs with raw HTML disabled as a second fence.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence

from roundtable.model import REGIONS, Entry, SessionSnapshot
from roundtable.text import mmss

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_LEADING_MARKER = re.compile(r"^(\d{1,9})([.)])|^([-=])")
STATUS_WORDS = {"present": "Present", "apologies": "Apologies", "absent": "Absent"}


def escape_inline(text: object) -> str:
    """Make user text inert in Markdown inline context and inside a table cell.

    Newlines and control characters become spaces; & < > become HTML entities (so no raw HTML
    reaches any renderer); Markdown punctuation is backslash-escaped (so no emphasis, link,
    code span, heading, list or table pipe can be formed).
    """
    s = str(text)
    s = _CONTROL.sub(" ", s.replace("\r\n", " ").replace("\n", " ").replace("\t", " "))
    s = " ".join(s.split())
    s = html.escape(s, quote=False)
    s = _MD_SPECIAL.sub(r"\\\1", s)
    # a leading "1." / "1)" / "-" would start a list (or underline a heading) where it lands
    return _LEADING_MARKER.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", s)


def _name(code: str, countries: Mapping[str, str]) -> str:
    return countries.get(code, code)


def _join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def delegation_phrase(codes: Sequence[str], countries: Mapping[str, str]) -> str:
    names = [_name(c, countries) for c in codes]
    noun = "delegation" if len(names) == 1 else "delegations"
    return f"The {noun} of {_join(names)}"


def owner_label(owner: str, countries: Mapping[str, str]) -> str:
    if not owner:
        return "UNASSIGNED"
    if owner == "region":
        return "The region (all delegations)"
    return countries.get(owner, owner)


def document_title(snap: SessionSnapshot) -> str:
    s = snap.session
    parts = [s.title or "Round table", REGIONS.get(s.region, s.region)]
    if s.date:
        parts.append(s.date)
    return "Minutes — " + ", ".join(parts)


def _order(entries: Iterable[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (e.created_at, e.id))


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    if text and text[-1] not in ".!?":
        text += "."
    return text


def _note_paragraph(e: Entry, countries: Mapping[str, str]) -> str:
    text = _sentence(e.text)
    names = [_name(c, countries) for c in e.delegations]
    if names and any(n.casefold() in text.casefold() for n in names):
        return escape_inline(text)  # already attributed in the rapporteur's own words
    first = text.split(" ", 1)[0]
    body = text if len(first) > 1 and first.isupper() else text[:1].lower() + text[1:]
    if not names:
        return escape_inline(f"It was noted that {body}")
    return escape_inline(f"{delegation_phrase(e.delegations, countries)} noted that {body}")


def _tags(e: Entry) -> str:
    return ", ".join(escape_inline(t) for t in e.crime_areas)


def _entry_line(e: Entry, countries: Mapping[str, str], *, priority: bool = False) -> str:
    line = f"- {escape_inline(_sentence(e.text))}"
    extra = []
    if e.delegations:
        extra.append(
            "raised by " + escape_inline(_join([_name(c, countries) for c in e.delegations]))
        )
    if priority and e.priority:
        extra.append(f"priority: {escape_inline(e.priority)}")
    if e.crime_areas:
        extra.append("areas: " + _tags(e))
    if extra:
        line += " — " + "; ".join(extra)
    return line


def render_markdown(snap: SessionSnapshot, *, conference: str | None = None) -> str:
    s = snap.session
    c = snap.countries
    out: list[str] = []
    add = out.append

    add(f"# {escape_inline(document_title(snap))}")
    add("")
    add("Summary record of the regional round table.")
    add("")
    add("| | |")
    add("|---|---|")
    rows = [
        ("Conference", conference or snap.event.name),
        ("Region", REGIONS.get(s.region, s.region)),
        ("Date", s.date or "not recorded"),
        ("Room", s.room or "not recorded"),
        ("Facilitator", s.facilitator or "not recorded"),
        ("Rapporteur", s.rapporteur or "not recorded"),
        ("Status", {"closed": "closed", "running": "in session", "planned": "planned"}.get(
            s.status, s.status)),
    ]  # fmt: skip
    for label, value in rows:
        add(f"| {label} | {escape_inline(value)} |")
    add("")

    # -- attendance
    add("## 1. Attendance")
    add("")
    by_status: dict[str, list] = {"present": [], "apologies": [], "absent": []}
    for a in sorted(snap.attendance, key=lambda a: (_name(a.country, c), a.country)):
        if a.status in by_status:
            by_status[a.status].append(a)
    if not any(by_status.values()):
        add("No attendance was recorded.")
        add("")
    for status, items in by_status.items():
        if not items:
            continue
        names = []
        for a in items:
            label = escape_inline(_name(a.country, c))
            if a.delegates:
                label += f" ({escape_inline(', '.join(a.delegates))})"
            names.append(label)
        add(f"**{STATUS_WORDS[status]} ({len(items)}):** " + "; ".join(names) + ".")
        add("")

    # -- agenda
    add("## 2. Agenda")
    add("")
    if snap.agenda:
        for n, item in enumerate(snap.agenda, start=1):
            add(f"{n}. {escape_inline(item.title)} ({item.minutes} min)")
    else:
        add("No agenda was recorded.")
    add("")

    # -- proceedings
    add("## 3. Proceedings")
    add("")
    entries = _order(e for e in snap.entries if not e.parked)
    item_ids = {i.id for i in snap.agenda}
    paragraph = 0
    sections = [(item.id, f"3.{n}. {item.title}") for n, item in enumerate(snap.agenda, start=1)]
    other = [e for e in entries if e.agenda_item not in item_ids]
    if other:
        sections.append(("", f"3.{len(snap.agenda) + 1}. Other matters"))
    summaries = {i.id: i.summary for i in snap.agenda}
    for item_id, heading in sections:
        mine = other if item_id == "" else [e for e in entries if e.agenda_item == item_id]
        add(f"### {escape_inline(heading)}")
        add("")
        narrative = []
        if summaries.get(item_id):
            narrative.append(escape_inline(_sentence(summaries[item_id])))
        narrative += [_note_paragraph(e, c) for e in mine if e.entry_kind == "note"]
        for text in narrative:
            paragraph += 1
            add(f"{paragraph}\\. {text}")
            add("")
        groups = [
            ("Issues raised", [e for e in mine if e.entry_kind == "issue"], False),
            ("Regional needs", [e for e in mine if e.entry_kind == "need"], True),
            ("Decisions and recommendations", [e for e in mine if e.entry_kind == "decision"],
             False),
        ]  # fmt: skip
        for title, items, priority in groups:
            if items:
                add(f"**{title}**")
                add("")
                for e in items:
                    add(_entry_line(e, c, priority=priority))
                add("")
        actions = [e for e in mine if e.entry_kind == "action"]
        if actions:
            add(f"Action items agreed under this item: {len(actions)} (see section 4).")
            add("")
        if not narrative and not mine:
            add("Nothing was recorded under this item.")
            add("")

    # -- actions
    all_actions = _order(e for e in snap.entries if e.entry_kind == "action")
    numbers = {e.id: n for n, e in enumerate(all_actions, start=1)}
    add("## 4. Action items")
    add("")
    if all_actions:
        add("| # | Action | Owner | Due | Status |")
        add("|---:|---|---|---|---|")
        for e in all_actions:
            add(
                f"| {numbers[e.id]} | {escape_inline(_sentence(e.text))} | "
                f"{escape_inline(owner_label(e.owner, c))} | {escape_inline(e.due or '—')} | "
                f"{escape_inline(e.status or 'open')} |"
            )
    else:
        add("No action items were recorded.")
    add("")

    add("## 5. Actions by owner")
    add("")
    if all_actions:
        owners: dict[str, list[Entry]] = {}
        for e in all_actions:
            owners.setdefault(e.owner, []).append(e)
        ordered = sorted(o for o in owners if o)
        if "" in owners:
            ordered.append("")
        for owner in ordered:
            add(f"### {escape_inline(owner_label(owner, c))}")
            add("")
            for e in owners[owner]:
                due = f" (due {escape_inline(e.due)})" if e.due else " (no due date)"
                add(
                    f"- \\#{numbers[e.id]} {escape_inline(_sentence(e.text))}{due} — "
                    f"{escape_inline(e.status or 'open')}"
                )
            add("")
    else:
        add("No action items were recorded.")
        add("")

    add("## 6. Parking lot")
    add("")
    parked = _order(e for e in snap.entries if e.parked)
    if parked:
        for e in parked:
            add(_entry_line(e, c))
    else:
        add("Nothing was deferred.")
    add("")

    # -- annex
    add("## Annex: participants")
    add("")
    speeches: dict[str, list] = {}
    for sp in snap.speeches:
        speeches.setdefault(sp.country, []).append(sp)
    codes = sorted({a.country for a in snap.attendance} | set(speeches),
                   key=lambda code: (_name(code, c), code))  # fmt: skip
    if codes:
        add("| Delegation | Delegates | Attendance | Speeches | Speaking time |")
        add("|---|---|---|---:|---:|")
        attendance = {a.country: a for a in snap.attendance}
        for code in codes:
            a = attendance.get(code)
            spoken = [sp for sp in speeches.get(code, []) if not sp.passed]
            total = sum(sp.seconds for sp in spoken)
            passed = len(speeches.get(code, [])) - len(spoken)
            count = str(len(spoken)) + (f" (passed {passed})" if passed else "")
            delegates = ", ".join(a.delegates) if a and a.delegates else "—"
            status = STATUS_WORDS.get(a.status, "not recorded") if a else "not recorded"
            add(
                f"| {escape_inline(_name(code, c))} | {escape_inline(delegates)} | "
                f"{escape_inline(status)} | {count} | {mmss(total)} |"
            )
    else:
        add("No participants were recorded.")
    add("")
    return "\n".join(out)


_CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 50em; margin: 2em auto;
       padding: 0 1em; line-height: 1.45; color: #111; }
h1 { font-size: 1.5em; border-bottom: 2px solid #333; padding-bottom: .3em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #999; }
h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: .6em 0; width: 100%; }
th, td { border: 1px solid #999; padding: .25em .5em; text-align: left; vertical-align: top; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
"""


def render_html(markdown_text: str, *, title: str) -> str:
    """A complete, self-contained HTML page: no scripts, no external resources, no raw HTML."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    body = md.render(markdown_text)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"{body}</body>\n</html>\n"
    )
