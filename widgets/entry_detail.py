"""The selected entry, whole: what a row of the entry table has no room for.

The pane follows ``EntryTable.Highlighted`` (the screen hands it the entry).  It is redrawn a
moment after the cursor settles (``DELAY``), so a capture's frame and a held arrow key draw
only the table, and the pane has a fixed height in the stylesheet, so a longer entry scrolls
inside it and never re-lays out the screen around it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from roundtable.model import Entry, effective_tlp, tlp_name

DELAY = 0.05
"""Seconds between the cursor reaching an entry and the pane showing it."""

KIND_TITLES = {
    "issue": "Issue",
    "need": "Regional need",
    "action": "Action item",
    "decision": "Decision / recommendation",
    "note": "Note",
}


TLP_WORDS = {
    "clear": "no limit on disclosure",
    "green": "the community, not public",
    "amber": "the recipients' organisations, on a need-to-know basis",
    "amber+strict": "the recipients' own organisation only",
    "red": "the people in the room only; never sent to the secretariat",
}
"""What each label allows, in words: the table's badge is one coloured cell (issue 22)."""


def _clean(text: str) -> str:
    """No control or zero-width format characters reach the terminal; line breaks stay."""
    import unicodedata

    if text.isprintable():
        return text
    return "".join(
        ch if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Zl", "Zp") else " "
        for ch in text
        if unicodedata.category(ch) != "Cf"
    )


def _when(iso: str, tz: str = "") -> str:
    """A stored time (UTC) at the venue, with its zone's abbreviation (issue 24)."""
    if not iso:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return _clean(iso)
    from roundtable.zones import VenueClock, abbreviation

    local = VenueClock(tz).local(moment)
    return f"{local:%Y-%m-%d %H:%M} {abbreviation(local)}"


def describe(
    entry: Entry,
    *,
    names: Mapping[str, str] | None = None,
    item_title: str = "",
    conflict: str = "",
    default_tlp: str = "",
    tz: str = "",
) -> Text:
    """The whole entry as lines of text: kind and status, the full text, then one line per
    field (delegations by name and code, tags, priority, owner, due, agenda item, captured)."""
    names = names or {}

    def who(code: str) -> str:
        return f"{names[code]} ({code})" if code in names else code

    out = Text()
    head = KIND_TITLES.get(entry.entry_kind, entry.entry_kind)
    if entry.entry_kind == "action":
        head += f" · {entry.status or 'open'}"
    if entry.parked:
        head += " · parking lot"
    out.append(head, style="bold")
    out.append("\n")
    if conflict:
        out.append(f"⚠ also edited by {_clean(conflict)}: resolve it with e\n", style="bold")
    out.append(_clean(entry.text) or "(no text)")
    out.append("\n")
    fields: list[tuple[str, str]] = [
        ("Delegations", ", ".join(who(c) for c in entry.delegations) or "—"),
        ("Tags", " ".join(f"#{t}" for t in entry.crime_areas) or "—"),
        ("Priority", entry.priority or "—"),
    ]
    if entry.entry_kind == "action":
        owner = entry.owner
        owner_text = who(owner) if owner not in ("", "region") else "the region"
        if not owner:
            owner_text = "UNASSIGNED"
        fields += [("Owner", owner_text), ("Due", entry.due or "—")]
    label = effective_tlp(entry.tlp, default_tlp)
    fields += [
        ("Label", f"{tlp_name(label)} — {TLP_WORDS.get(label, '')}".rstrip(" —")),
        ("Agenda item", item_title or "—"),
        ("Captured", _when(entry.created_at, tz)),
    ]
    for label, value in fields:
        out.append(f"{label}: ", style="bold")
        out.append(_clean(value))
        out.append("\n")
    out.rstrip()
    return out


class EntryDetail(VerticalScroll, can_focus=False):
    """The entry under the table's cursor, every field of it, the text wrapped."""

    DEFAULT_CSS = """
    EntryDetail {
        height: 35%;
        min-height: 4;
        max-height: 10;
        border-top: hkey $panel;
        background: $surface;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    EntryDetail > Static { width: 1fr; height: auto; }
    EntryDetail > .entry-detail--empty { color: $text-muted; }
    """

    def __init__(
        self,
        names: Mapping[str, str] | None = None,
        item_titles: Callable[[], Mapping[str, str]] | None = None,
        zone: Callable[[], str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.zone = zone  # the venue's time zone, asked when drawn (issue 24)
        self.names = dict(names or {})
        self.item_titles = item_titles
        self.entry: Entry | None = None
        self.conflict = ""
        self.default_tlp = ""  # the session's label, for entries written before labels
        self._pending = False

    def compose(self) -> ComposeResult:
        yield Static("No entry selected.", classes="entry-detail--empty")

    def show(self, entry: Entry | None, conflict: str = "") -> None:
        """Show ``entry`` (None: nothing selected) once the cursor settles."""
        self.entry, self.conflict = entry, conflict
        if not self._pending:
            self._pending = True
            self.set_timer(DELAY, self._draw)

    def text(self) -> str:
        """What the pane shows, as plain text (for tests and for a screen reader's copy)."""
        return self.render_detail().plain

    def render_detail(self) -> Text:
        if self.entry is None:
            return Text("No entry selected.")
        titles = self.item_titles() if self.item_titles else {}
        return describe(
            self.entry,
            names=self.names,
            item_title=titles.get(self.entry.agenda_item, ""),
            conflict=self.conflict,
            default_tlp=self.default_tlp,
            tz=self.zone() if self.zone else "",
        )

    def _draw(self) -> None:
        self._pending = False
        body = self.query_one(Static)
        body.set_class(self.entry is None, "entry-detail--empty")
        body.update(self.render_detail())
        self.scroll_home(animate=False)
