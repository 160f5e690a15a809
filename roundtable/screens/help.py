"""F1 / ?: every binding of every screen and of the widgets on it, then the capture grammar.

The tables are generated from the bindings themselves (each class's BINDINGS with the
inherited ones, as Textual merges them), so a key added to a screen or a widget is in the help
without anyone writing it down.  What this module declares by hand is only which widgets each
screen composes (``_screens``); tests/test_live_ui.py mounts every screen and fails when a
binding found on it is missing from its section.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown, Static

from widgets import KeyBar

EVERYWHERE = "Everywhere"
BUILT_IN = "Text fields, lists and tables"


def _screens() -> list[tuple[str, type, list[type]]]:
    """(title, screen class, the widget classes it composes that have keys)."""
    from textual.widgets import Button, DataTable, Input, Select

    from roundtable.screens.close import CloseScreen
    from roundtable.screens.common import ConfirmModal, PromptModal
    from roundtable.screens.edit import EditEntryModal
    from roundtable.screens.home import HomeScreen, NewSessionModal
    from roundtable.screens.minutes import MinutesScreen
    from roundtable.screens.run import RunScreen
    from roundtable.screens.setup import SetupScreen
    from roundtable.screens.tour import TourScreen
    from widgets import (
        AgendaList,
        CaptureBar,
        EntryDetail,
        EntryTable,
        RollCall,
        RosterTable,
        SpeakerQueue,
        TourDeTable,
    )
    from widgets.carried_actions import CarriedActions

    return [
        ("Sessions", HomeScreen, [Input, DataTable]),
        ("New session (dialog)", NewSessionModal, [Input, Select, Button]),
        ("Set-up and roll call", SetupScreen, [Input, RollCall, RosterTable]),
        (
            "Agenda and capture",
            RunScreen,
            [AgendaList, EntryTable, EntryDetail, CaptureBar, Input, CarriedActions],
        ),
        ("Tour de table and queue", TourScreen, [TourDeTable, SpeakerQueue, Input]),
        ("Completeness check", CloseScreen, [DataTable]),
        ("Minutes", MinutesScreen, [VerticalScroll]),
        ("Edit an entry (dialog)", EditEntryModal, [Input, Select, Button]),
        ("Confirm (dialog)", ConfirmModal, [Button]),
        ("Question (dialog)", PromptModal, [Input]),
        ("Help", HelpScreen, [VerticalScroll]),
    ]


def _ours(cls: type) -> bool:
    return not cls.__module__.startswith("textual")


def _textual_base(cls: type) -> type:
    """The Textual class a widget of ours is built on (its keys are Textual's own)."""
    return next(base for base in cls.__mro__ if not _ours(base))


def _bindings(cls: type, *, own_only: bool) -> list[Binding]:
    """``cls``'s bindings as Textual merges them (inherited ones included, one per key), in
    declaration order; with ``own_only``, those declared by our classes, not by Textual's."""
    merged = cls._merge_bindings()  # type: ignore[attr-defined]
    ours: set[tuple[str, str]] = set()
    if own_only:
        for base in cls.__mro__:
            if _ours(base) and "BINDINGS" in vars(base):
                for b in vars(base)["BINDINGS"]:
                    if isinstance(b, Binding):
                        ours.update((k.strip(), b.action) for k in b.key.split(","))
    found = []
    for key, bindings in merged.key_to_bindings.items():
        for b in bindings:
            if not own_only or (key, b.action) in ours:
                found.append(b)
    return found


def _key_label(app, binding: Binding) -> str:
    """The key as the key bar shows it, or as the settings' [keymap] changed it."""
    keys = binding.key
    keymap = getattr(app, "_keymap", {})
    if binding.id and binding.id in keymap:
        keys = keymap[binding.id]
    if binding.key_display:
        return binding.key_display
    return ", ".join(app.get_key_display(Binding(k.strip(), "")) for k in keys.split(","))


@dataclass(frozen=True)
class HelpRow:
    keys: tuple[str, ...]  # as the key bar shows them
    does: str
    where: str  # "screen", a widget ("Entry list"), "app", "any screen"
    binding_id: str  # for [keymap] in the settings file; "" for Textual's own keys


def _rows(app, bindings: Iterable[Binding], where: str) -> list[HelpRow]:
    """One row per action: the keys that do it, what it does, where, its id."""
    rows: dict[tuple[str, str, str], list[str]] = {}
    for b in bindings:
        label = b.tooltip or b.description or UNNAMED.get(b.action, b.action.replace("_", " "))
        rows.setdefault((b.action, label, b.id or ""), []).append(_key_label(app, b))
    return [
        HelpRow(tuple(dict.fromkeys(keys)), label, where, binding_id)
        for (_action, label, binding_id), keys in rows.items()
    ]


def help_sections(app) -> list[tuple[str, list[HelpRow]]]:
    """(title, rows) for: keys everywhere, each screen with its widgets, then Textual's own
    keys of text fields, lists and tables (one row for a key that does the same in several)."""
    sections: list[tuple[str, list[HelpRow]]] = []
    everywhere = _rows(app, _bindings(type(app), own_only=False), "app")
    everywhere += _rows(app, _bindings(Screen, own_only=False), "any screen")
    sections.append((EVERYWHERE, everywhere))
    built_in: dict[type, None] = {}
    for title, screen, widget_classes in _screens():
        rows = _rows(app, _bindings(screen, own_only=True), "screen")
        for cls in widget_classes:
            if not _ours(cls):
                built_in[cls] = None
                continue
            built_in[_textual_base(cls)] = None
            rows += _rows(app, _bindings(cls, own_only=True), _widget_title(cls))
        sections.append((title, rows))
    merged: dict[tuple, list[str]] = {}
    for cls in built_in:
        for row in _rows(app, _bindings(cls, own_only=False), ""):
            merged.setdefault((row.keys, row.does, row.binding_id), []).append(_widget_title(cls))
    rows = [HelpRow(k, does, ", ".join(where), i) for (k, does, i), where in merged.items()]
    sections.append((BUILT_IN, rows))
    return sections


def _table(rows: list[HelpRow], widths: tuple[int, int, int]):
    """One section as one rich Table in one widget (a Markdown table is a widget per cell:
    the whole help as Markdown took seconds to open); ``widths`` (key, where, id) are the
    same in every section so that the columns line up."""
    from rich.table import Table

    table = Table(box=None, expand=True, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("Key", style="bold", min_width=min(widths[0], 12))
    table.add_column("Does", ratio=1)
    table.add_column("Where", min_width=min(widths[1], 14))
    table.add_column("Binding id", no_wrap=True, style="dim", min_width=widths[2])
    for row in rows:
        table.add_row(", ".join(row.keys), row.does, row.where, row.binding_id or "—")
    return table


def help_text(app) -> str:
    """Every section as plain lines (key · does · where · id), for tests and for reading."""
    lines = []
    for title, rows in help_sections(app):
        lines.append(f"## {title}")
        lines += [
            f"{', '.join(r.keys)} · {r.does} · {r.where} · {r.binding_id or '—'}" for r in rows
        ]
    return "\n".join(lines)


UNNAMED = {"help_quit": "Says how to quit (ctrl+q)"}
"""Textual's own bindings that carry no description."""

WIDGET_TITLES = {
    "AgendaList": "Agenda",
    "CaptureBar": "Capture bar",
    "EntryTable": "Entry list",
    "EntryDetail": "Entry detail",
    "RollCall": "Roll call",
    "RosterTable": "Roll call list",
    "SpeakerQueue": "Speaker queue",
    "TourDeTable": "Tour de table",
    "Input": "Text field",
    "DataTable": "Table",
    "Button": "Button",
    "Select": "Drop-down list",
    "VerticalScroll": "Scrolling text",
    "ScrollView": "Scrolling list",
    "Vertical": "Panel",
    "OptionList": "List",
}


def _widget_title(cls: type) -> str:
    return WIDGET_TITLES.get(cls.__name__, cls.__name__)


PALETTE_NOTE = (
    'Ctrl+P opens the command palette: every action is there by name ("session: close", '
    '"export: minutes as HTML", "sync: now").  Keys can be changed in the settings file '
    "(`roundtable locate`) under `[keymap]`, by binding id.\n\n"
    "Where a list has a filter above it (the sessions list, the roll call), typing goes to the "
    "filter and never fires a key: on the sessions list `ctrl+n` creates, `delete` archives "
    "(it asks first; `ctrl+a` shows the archived, `delete` there restores one), `f5` "
    "refreshes; on the roll call only `p` `a` `x` `u` act, any other character filters, and "
    "`↑` from the first row goes back to the filter.  In the tour, `p` passes for a delegation "
    "that has not spoken on the item (it is refused for one that has); `ctrl+n` and `ctrl+b` "
    "end the floor with its item; `ctrl+z` (also on the roll call and the tour) undoes the last "
    "change, and never crosses a close or a reopening.\n\n"
    "The room's projector: `roundtable projector` in a second window shows the session "
    "read-only (agenda, times, the floor, the list; never an entry).  `/project TEXT` in the "
    "capture bar, or `P` on a TLP:CLEAR entry, puts a message up; `/project` alone takes it "
    "down.  In the list of speakers, `^GH` asks a right of reply; the palette's \"roll call: "
    'mark the rest absent" marks every delegation not yet recorded absent and says the quorum.'
)


class HelpScreen(Screen):
    BINDINGS = [Binding("escape,q,f1", "close", "Close help", id="help.close", tooltip="Back")]

    def compose(self) -> ComposeResult:
        from roundtable.capture import GRAMMAR_HELP

        with VerticalScroll(id="help-scroll"):
            yield Static("roundtable — keys", classes="screen-title")
            sections = help_sections(self.app)
            every = [row for _title, rows in sections for row in rows]
            widths = (
                max(len(", ".join(r.keys)) for r in every),
                max(len(r.where) for r in every),
                max(len(r.binding_id) for r in every),
            )
            for title, rows in sections:
                yield Static(title, classes="help-section")
                if title == BUILT_IN:
                    yield Static(
                        "The keys Textual gives every text field, list and table.",
                        classes="hint",
                    )
                if rows:
                    yield Static(_table(rows, widths), classes="help-keys")
                else:
                    yield Static("No keys of its own: see the keys everywhere.", classes="hint")
            yield Markdown(PALETTE_NOTE + "\n\n" + self.grammar_help(GRAMMAR_HELP), id="help")
        yield KeyBar()

    def grammar_help(self, text: str) -> str:
        """The capture grammar with the open session's region in its examples (issue 22: an
        Americas facilitator read Ghana, Nigeria and Zambia), or as written with none open."""
        store = getattr(self.app, "session_store", None)
        if store is None or store.closed:
            return text
        return regional_examples(text, store.session.region)

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.app.pop_screen()


def regional_examples(text: str, region: str) -> str:
    """``text`` with its African example delegations replaced by members of ``region``."""
    from sessions import countries_in

    try:
        members = countries_in(region)
    except ValueError:
        return text
    if region == "africa" or len(members) < 4:
        return text
    first, second, third, fourth = members[0], members[1], members[2], members[3]
    spaced = next((c for c in members if " " in c.name and "'" not in c.name), first)
    single = next((c for c in members if " " not in c.name and "-" not in c.name), first)
    swaps = [
        ("@GH @NG", f"@{first.code} @{second.code}"),
        ("@GH", f"@{first.code}"),
        ("@Ghana", f"@{single.name}"),
        ("@Sierra_Leone", f"@{spaced.name.replace(' ', '_')}"),
        ('@"Côte d\'Ivoire"', f'@"{spaced.name}"'),
        ("@ZM", f"@{third.code}"),
        ("owner:@JO", f"owner:@{fourth.code}"),
        ("via West African ports", "via the region's ports"),
        ("Delegation of Bhutan", f"Delegation of {second.name}"),
        ("@BT", f"@{second.code}"),
    ]
    for old, new in swaps:
        text = text.replace(old, new)
    return text
