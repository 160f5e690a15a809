"""Run the session: agenda with a time box, the item's prompts, live capture, captured entries."""

from __future__ import annotations

from functools import partial
from typing import cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from roundtable.model import ENTRY_KINDS, Entry
from roundtable.screens.common import (
    UNDO,
    ChoiceModal,
    ConfirmModal,
    Project,
    SessionScreen,
    StatusLine,
    follow_session,
)
from widgets import AgendaList, CaptureBar, EntryDetail, EntryTable, KeyBar, TimeBoxTimer
from widgets.carried_actions import CarriedActions

FILTERS: tuple[str | None, ...] = (None, *ENTRY_KINDS)
COUNTS_DELAY = 0.05
"""Seconds between a capture reaching the screen and the agenda's entry count following it."""
MAX_ROWS = 400
"""The entry list shows the latest rows of the view; the minutes and filters reach the rest."""
FIRST_ROWS = 24
"""When the screen opens, the first frame holds the list's first rows (as many as the terminal
has lines, so every row on screen) and the rest of its rows follow once that frame is on the
terminal (``RoundtableApp.after_first_screen``): a 5,000-entry session opens about as fast as a
small one (start-up, issue 22)."""
AGENDA_EVERY = 15.0
"""Seconds between redraws of the agenda's minutes used (they change once a minute)."""


class RunScreen(SessionScreen):
    """The facilitator's main screen; everything here is one key away."""

    BINDINGS = [
        Binding("c", "focus_capture", "Capture", id="run.capture", tooltip="Type a capture line"),
        Binding(
            "slash",
            "focus_capture('/')",
            "Capture",
            show=False,
            id="run.capture_slash",
            tooltip="Start a capture line with /",
        ),
        Binding(
            "ctrl+n",
            "next_item",
            "Next item",
            id="run.next",
            priority=True,
            tooltip="Close this agenda item and move to the next",
        ),
        Binding(
            "ctrl+b",
            "previous_item",
            "Prev item",
            id="run.previous",
            priority=True,
            tooltip="Go back to the previous agenda item",
        ),
        Binding(
            "ctrl+z",
            "undo",
            "Undo",
            id="run.undo",
            priority=True,
            tooltip="Undo the last change made on this laptop",
        ),
        Binding("f", "cycle_filter", "Filter", id="run.filter", tooltip="Show one kind of entry"),
        Binding("w", "whole_session", "All items", id="run.all", tooltip="Entries of every item"),
        Binding(
            "s", "timer", "Timer", id="run.timer", tooltip="Start, pause or resume the item clock"
        ),
        Binding(
            "i",
            "move_entry",
            "To item",
            id="run.move",
            tooltip="Move the selected entry to another agenda item",
        ),
        Binding(
            "ctrl+o",
            "confirm_observer",
            "Observer",
            show=False,
            priority=True,
            id="run.observer",
            tooltip="Confirm the other region's delegation in the capture line as an observer",
        ),
        Binding(
            "P",
            "project_entry",
            "Project",
            show=False,
            id="run.project",
            tooltip="Put the selected TLP:CLEAR entry on the room's projector",
        ),
        Binding("t", "tour", "Tour", id="run.tour", tooltip="Tour de table and speaker queue"),
        Binding("a", "attendance", "Roll call", id="run.attendance", tooltip="Set-up, roll call"),
        Binding("m", "minutes", "Minutes", id="run.minutes", tooltip="Preview and export"),
        Binding("x", "close_session", "Close", id="run.close", tooltip="Check and close"),
        Binding("escape", "home", "Sessions", id="run.home", tooltip="Back to the session list"),
        Binding(
            "ctrl+r",
            "review_actions",
            "Review",
            show=False,
            priority=True,
            id="run.review",
            tooltip="The actions carried from earlier conferences (review item)",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter_index = 0
        self.whole_session = False
        self._texts: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._shown_total = 0
        self._appended: set[str] = set()

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusLine()
        with Horizontal(id="run-body"):
            with Vertical(id="agenda-pane"):
                yield AgendaList(id="agenda")
            with Vertical(id="run-main"):
                with Horizontal(id="item-head"):
                    yield Static("", id="item-title")
                    yield Static("", id="item-floor")
                    yield TimeBoxTimer(clock=self.app.clock, id="timer")
                yield Static("", id="prompts")
                yield CarriedActions(id="carried")  # issue 12: shown on the review item
                yield Static("", id="entries-caption", classes="caption")
                yield EntryTable(id="entries")
                yield EntryDetail(
                    self.app.country_names(),
                    self._item_titles,
                    zone=self.app.venue_zone,
                    id="entry-detail",
                )
        yield CaptureBar(
            parse=self.parse_capture,
            context=self.capture_context,
            placeholder=self.capture_placeholder(),
            id="capture",
        )
        yield KeyBar()

    AUTO_FOCUS = "#capture-input"
    """The capture bar has the focus when the screen opens (set before the first frame, so the
    footer is composed once)."""

    def on_mount(self) -> None:
        self.refresh_all(first_frame=True)
        follow_session(self, self._session_changed)
        self.set_interval(AGENDA_EVERY, self._refresh_agenda)

    # -- state -----------------------------------------------------------------------------

    def _agenda(self):
        return self.store.records("agenda_item")

    def current_item(self, agenda=None):
        agenda = self._agenda() if agenda is None else agenda
        current = self.store.current_item_id()
        return next((item for item in agenda if item.id == current), None)

    def _used(self, agenda) -> dict[str, int]:
        """Seconds each started item's clock has run (for the agenda's planned vs actual)."""
        from roundtable import meeting

        events = self.store.clock_events()
        now_ms = int(self.app.clock() * 1000)
        started = {e.agenda_item for e in events}
        return {
            i.id: meeting.actual_seconds(events, i.id, now_ms) for i in agenda if i.id in started
        }

    def _refresh_agenda(self, agenda=None) -> None:
        agenda = self._agenda() if agenda is None else agenda
        item = self.current_item(agenda)
        self.query_one(AgendaList).set_items(
            agenda, item.id if item else "", self._counts, self._used(agenda)
        )

    def refresh_all(self, first_frame: bool = False) -> None:
        label = self.store.default_tlp
        self.query_one(EntryTable).default_tlp = label
        self.query_one(EntryDetail).default_tlp = label
        agenda = self._agenda()
        self._appended.clear()
        item = self.current_item(agenda)
        self._refresh_entries(item, first_frame=first_frame)  # counts the entries per item too
        self._refresh_agenda(agenda)
        self._refresh_item(item)

    def _show_captured(self, entry: Entry) -> None:
        """A capture changes one row, one agenda count and the caption: update just those
        (a full refresh re-reads every entry of the session)."""
        self._counts[entry.agenda_item] = self._counts.get(entry.agenda_item, 0) + 1
        self._appended.add(entry.id)
        agenda = self._agenda()
        item = self.current_item(agenda)
        # the agenda's count follows a few frames later: the new row reaches the screen first
        self.set_timer(COUNTS_DELAY, partial(self._refresh_agenda, agenda))
        kind = FILTERS[self.filter_index]
        in_scope = self.whole_session or item is None or entry.agenda_item == item.id
        if in_scope and kind in (None, entry.entry_kind):
            self.query_one(EntryTable).append_entry(entry)
            self._shown_total += 1
            self._set_caption(kind)

    def _refresh_item(self, item) -> None:
        timer = self.query_one(TimeBoxTimer)
        if item is None:
            self._show_carried(None)
            self._set_text("#item-title", "This session has no agenda items.")
            self._set_text("#prompts", "")
            return
        floor = self.store.floor()
        # the floor has its own label beside the timer: a long item title is cut, never the
        # name of the delegation speaking (issue 22, finding 5)
        self._set_text("#item-title", f"{item.position + 1}. {item.title}")
        who = f"floor: {self.country_name(floor.country)}" if floor is not None else ""
        self._set_text("#item-floor", who)
        self.query_one("#item-floor").display = bool(who)
        lines = [f"• {p}" for p in item.prompts] or ["(no prompts for this item)"]
        self._set_text("#prompts", "\n".join(lines))
        self._show_carried(item)
        state = "closed" if self.store.session_closed else self.store.clock_state(item.id)
        used = self.store.item_elapsed(item.id, int(self.app.clock() * 1000))
        session = self.store.session
        timer.warning_percent, timer.warning_cap = session.warning_percent, session.warning_seconds
        timer.show(item.id, item.minutes * 60, used, state)

    def _set_text(self, selector: str, text: str, layout: bool = True) -> None:
        """Update a label only when its text changes: an update re-lays out the screen (unless
        ``layout`` is False, for a label whose size is fixed in the stylesheet)."""
        if self._texts.get(selector) != text:
            self._texts[selector] = text
            self.query_one(selector, Static).update(text, layout=layout)

    def _refresh_entries(self, item=None, first_frame: bool = False) -> None:
        item = self.current_item() if item is None else item
        kind = FILTERS[self.filter_index]
        table = self.query_one(EntryTable)
        # the cap applies when the list is (re)built; captures then only append rows, because
        # dropping the oldest row makes the table re-measure and re-render every row
        self._counts, total, ids = self.store.entry_overview(
            agenda_item=None if self.whole_session or item is None else item.id,
            entry_kind=kind,
            limit=max(MAX_ROWS, table.row_count + 1),
        )
        rows = len(ids)
        first = max(FIRST_ROWS, self.app.size.height)
        if first_frame and rows > first:
            ids = ids[:first]  # the rows on screen now (the list opens at its top), the rest next
            self.app.after_first_screen(self._rest_of_rows)
        shown = [cast(Entry, self.store.get("entry", rid)) for rid in ids]
        conflicts = {}
        from roundtable.protocol import conflicts as field_conflicts

        for e in shown:
            if self.store.conflict_free("entry", e.id):
                continue
            doc = self.store.doc("entry", e.id)
            if doc is not None:
                if field_conflicts(doc):  # named by people's labels, never this laptop
                    conflicts[e.id] = self.store.local.conflict_names(doc)
        table.set_entries(shown, conflicts)
        self._shown_total = total
        self._set_caption(kind, rows)

    def _rest_of_rows(self) -> None:
        """The list's rows after the first frame's (unless the screen is gone by then)."""
        if self.is_attached and self.app.session_store is not None:
            self._refresh_entries()

    def _set_caption(self, kind: str | None, rows: int | None = None) -> None:
        rows = self.query_one(EntryTable).row_count if rows is None else rows
        total = self._shown_total
        scope = "whole session" if self.whole_session else "this item"
        what = f"{kind}s" if kind else "all kinds"
        if self.query_one(EntryTable).delegation_filter:  # issue 16: filter by delegation
            what += f" of @{self.query_one(EntryTable).delegation_filter} ({rows} shown)"
        self._set_text(
            "#entries-caption",
            f"Captured — {scope}, {what} ({total}"
            + (f", latest {rows} shown" if total > rows else "")
            + ") · f filter · w scope",
            layout=False,
        )

    def _session_changed(self, keys: frozenset[tuple[str, str]] | None) -> None:
        if keys is not None and keys <= {("entry", eid) for eid in self._appended}:
            self._appended -= {rid for _kind, rid in keys}
            return  # the creation of this screen's own captures: their rows are shown
        self.refresh_all()

    # -- capture ---------------------------------------------------------------------------

    @on(CaptureBar.Submitted)
    def _captured(self, event: CaptureBar.Submitted) -> None:
        from roundtable.store import StoreError

        bar = self.query_one(CaptureBar)
        if event.captured == UNDO:
            self._undo(answer=True)  # the line "undo": the bar's reply to it
            return
        if isinstance(event.captured, Project):
            self._project(event.captured.text)
            return
        try:
            entry = self.store_capture(event.captured, event.context)
        except StoreError as exc:
            bar.show_error(f"Not saved: {exc}")
            self.notify(str(exc), title="Not saved", severity="error", timeout=10)
            return
        label = "parked" if entry.parked else entry.entry_kind
        bar.show_saved(f"Saved {label}: {_clip(entry.text, 60)}")
        self._show_captured(entry)
        self.query_one(EntryTable).select_entry(entry.id)

    def _project(self, text: str) -> None:
        """Put a TLP:CLEAR message up on the projector (``roundtable projector``), or take it
        down (an empty ``text``)."""
        from roundtable.store import StoreError

        bar = self.query_one(CaptureBar)
        try:
            shown = self.store.project(text) if text else ""
            if not text:
                self.store.clear_projection()
        except StoreError as exc:
            bar.show_error(f"Not projected: {exc}")
            return
        bar.show_saved(f"Projected: {_clip(shown, 60)}" if text else "Projector message taken down")

    def action_project_entry(self) -> None:
        """Put the selected entry's text on the projector: TLP:CLEAR entries only."""
        entry_id = self.query_one(EntryTable).selected_entry_id()
        entry = self.store.get("entry", entry_id) if entry_id else None
        if not isinstance(entry, Entry):
            self.notify("Select an entry to project", severity="warning")
            return
        label = self.store.label_of(entry)
        if label != "TLP:CLEAR":
            self.notify(
                f"Not projected: only TLP:CLEAR may be projected; this entry is {label}",
                severity="error",
            )
            return
        self._project(entry.text)

    def action_focus_capture(self, prefix: str = "") -> None:
        self.query_one(CaptureBar).focus_input(prefix)

    @on(CaptureBar.Cancelled)
    def _leave_capture(self) -> None:
        self.query_one(EntryTable).focus()

    # -- entries ---------------------------------------------------------------------------

    @on(EntryTable.EditRequested)
    def _edit(self, event: EntryTable.EditRequested) -> None:
        from roundtable.screens.edit import EditEntryModal

        self.app.push_screen(EditEntryModal(event.entry_id))

    @on(EntryTable.DeleteRequested)
    def _delete(self, event: EntryTable.DeleteRequested) -> None:
        entry = self.store.get("entry", event.entry_id)
        if not isinstance(entry, Entry):
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.store.delete("entry", entry.id)
                said = f"Deleted {entry.entry_kind}: {_clip(entry.text, 50)} (ctrl+z undoes)"
                self.notify(said)
                # the line under the capture bar no longer says "Saved" of it (issue 22)
                self.query_one(CaptureBar).show_info(said)

        self.app.push_screen(
            ConfirmModal(f"Delete this {entry.entry_kind}?\n\n{_clip(entry.text, 200)}", "Delete"),
            done,
        )

    def action_undo(self) -> None:
        self._undo(answer=False)  # ctrl+z: no line of the bar waits for this reply

    def _undo(self, answer: bool) -> None:
        from roundtable.store import StoreError

        bar = self.query_one(CaptureBar)
        try:
            label = self.store.undo()
        except StoreError as exc:
            bar.show_error(f"Not undone: {exc}", answer=answer)
            self.notify(str(exc), title="Not undone", severity="warning", timeout=8)
            return
        if label is None:
            if answer:
                bar.clear_submitted()
            self.notify("Nothing to undo.", severity="warning")
        else:
            self.notify(f"Undone: {label}")
            bar.show_saved(f"Undone: {label}", answer=answer)

    def action_cycle_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(FILTERS)
        self._refresh_entries()

    def action_whole_session(self) -> None:
        self.whole_session = not self.whole_session
        self._refresh_entries()

    # issue 16: the detail pane follows the table; @ (or the palette) filters by delegation
    @on(EntryTable.Highlighted)
    def _highlighted(self, event: EntryTable.Highlighted) -> None:
        self.query_one(EntryDetail).show(event.entry, event.conflict)

    def _item_titles(self) -> dict[str, str]:
        return {i.id: f"{i.position + 1}. {i.title}" for i in self._agenda()}

    @on(EntryTable.FilterChanged)
    def _delegation_filter_changed(self) -> None:
        self._set_caption(FILTERS[self.filter_index])

    def action_filter_delegation(self) -> None:
        from roundtable.screens.common import PromptModal

        def done(value: str | None) -> None:
            if value is None:
                return
            wanted = value.strip().lstrip("@")
            country = self.app.roster.find(wanted) if wanted else None
            if wanted and country is None:
                self.notify(f"No delegation {wanted[:40]!r} in the roster", severity="error")
                return
            self.query_one(EntryTable).set_delegation_filter(country.code if country else None)

        self.app.push_screen(PromptModal("Show the entries of delegation (empty: all)", ""), done)

    # -- agenda ----------------------------------------------------------------------------

    def _go_to(self, offset: int) -> None:
        agenda = self._agenda()
        current = self.store.current_item_id()
        if not agenda:
            return
        index = next((n for n, i in enumerate(agenda) if i.id == current), 0)
        target = index + offset
        if not 0 <= target < len(agenda):
            self.notify("No further agenda item.", severity="warning")
            return
        self._select(agenda[target].id)

    def _select(self, item_id: str) -> None:
        """Make ``item_id`` current: its clock starts and the previous one stops (records)."""
        from roundtable import commands
        from roundtable.store import StoreError

        try:
            self.store.perform(commands.go_to_item, item_id)
        except StoreError as exc:
            self.notify(str(exc), severity="error")

    def action_next_item(self) -> None:
        self.after_typed_keys(partial(self._go_to, 1))

    def action_previous_item(self) -> None:
        self.after_typed_keys(partial(self._go_to, -1))

    @on(AgendaList.ItemSelected)
    def _item_selected(self, event: AgendaList.ItemSelected) -> None:
        if event.item_id != self.store.current_item_id() or not self.store.session.current_item:
            self._select(event.item_id)

    def action_timer(self) -> None:
        """Start the current item's clock, or pause or resume it."""
        from roundtable import commands
        from roundtable.store import StoreError

        item = self.current_item()
        if item is None:
            return
        state = self.store.clock_state(item.id)
        action = {"running": "pause", "paused": "resume"}.get(state, "start")
        try:
            if action == "start":
                self.store.perform(commands.go_to_item, item.id)
            else:
                self.store.perform(commands.clock, action, item.id)
        except StoreError as exc:
            self.notify(str(exc), severity="error")

    # -- entries: move, observers, reopen ---------------------------------------------------

    def action_move_entry(self) -> None:
        """Move the selected entry to another agenda item (asks which)."""
        entry_id = self.query_one(EntryTable).selected_entry_id()
        entry = self.store.get("entry", entry_id) if entry_id else None
        if not isinstance(entry, Entry):
            self.notify(
                "Select an entry first (Escape leaves the capture bar).", severity="warning"
            )
            return
        choices = [(i.id, f"{i.position + 1}. {i.title}") for i in self._agenda()]

        def done(item_id: str | None) -> None:
            if item_id and self.store.move_entry(entry.id, item_id):
                title = next(label for cid, label in choices if cid == item_id)
                self.notify(f"Moved to {title}: {_clip(entry.text, 50)}")

        self.app.push_screen(
            ChoiceModal(
                f"Move to which item?\n\n{_clip(entry.text, 200)}", choices, entry.agenda_item
            ),
            done,
        )

    def action_reopen(self) -> None:
        from roundtable import commands
        from roundtable.store import StoreError

        try:
            self.store.perform(commands.reopen)
        except StoreError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.notify("Session reopened: captures are accepted again (the minutes say so).")

    # -- other screens ---------------------------------------------------------------------

    def action_tour(self) -> None:
        from roundtable.screens.tour import TourScreen

        self.app.push_screen(TourScreen())

    def action_attendance(self) -> None:
        from roundtable.screens.setup import SetupScreen

        self.app.push_screen(SetupScreen())

    def action_minutes(self) -> None:
        from roundtable.screens.minutes import MinutesScreen

        self.app.push_screen(MinutesScreen())

    def action_close_session(self) -> None:
        from roundtable.screens.close import CloseScreen

        self.app.push_screen(CloseScreen())

    def action_home(self) -> None:
        self.store.checkpoint()
        self.app.show_home()

    # --- Actions carried forward (issue 12): the review item's list ---

    _carried_remote: list | None = None  # the secretariat's (or the cache's) list, once fetched
    _carried_source = ""
    _carried_others: list = []  # the region's other sessions on this laptop (read once)

    def _show_carried(self, item) -> None:
        """On an item of kind ``actions``, the region's earlier actions: the secretariat's
        list (fetched once, in a worker) merged with this laptop's store, redrawn on each
        change of the session (a review made here shows at once)."""
        widget = self.query_one(CarriedActions)
        shown = item is not None and item.item_kind == "actions"
        widget.display = shown
        if not shown:
            return
        from roundtable import actions, carry

        session = self.store.session
        if self._carried_remote is None:
            self._carried_remote = []
            self._carried_source = "this laptop"
            # the laptop's other sessions are read once; this one on every change
            others = carry.local_sources(
                self.app.local, session.region, session.event_id, skip={session.id: self.store}
            )
            self._carried_others = [s for s in others if s.session.id != session.id]
            self._fetch_carried()
        sources = [*self._carried_others, carry.source_of(self.store)]
        merged = actions.carried_actions(
            sources, session.region, session.event_id, known=self._carried_remote
        )
        widget.show(merged, session.id, self._carried_source)
        own = [
            (e.text, e.owner, e.due)
            for e in self.store.records("entry")
            if e.entry_kind == "action" and not e.parked
        ]
        widget.show_own(own)

    @work(exclusive=True, group="carried", exit_on_error=False)
    async def _fetch_carried(self) -> None:
        from roundtable import carry, config

        session = self.store.session
        settings = self.app.settings
        url = settings.api_url if self.app.sync_enabled else ""
        token = config.load_token() if url else ""
        found, source, problem = await carry.remote(
            self.app.local, session.region, session.event_id, url=url, token=token,
            ca_file=settings.ca_file or None,
        )  # fmt: skip
        if problem:
            self.notify(f"Earlier actions: {problem}", severity="warning")
        self._carried_remote, self._carried_source = found, source
        if self.is_mounted:
            self._show_carried(self.current_item())

    @on(CarriedActions.Marked)
    def _carried_marked(self, event: CarriedActions.Marked) -> None:
        from roundtable.screens.common import PromptModal
        from widgets.carried_actions import STATUS_LABELS

        action, status = event.action, event.status
        review = action.review_in(self.store.session_id)

        def done(note: str | None) -> None:
            from roundtable import commands
            from roundtable.store import StoreError

            if note is None:
                return
            try:
                self.store.perform(commands.review_action, action, status, note)
            except StoreError as exc:
                self.notify(str(exc), severity="error")

        question = f"{STATUS_LABELS[status].capitalize()}: {_clip(action.text, 50)} — note"
        self.app.push_screen(PromptModal(question, review.note if review else ""), done)

    def action_review_actions(self) -> None:
        widget = self.query_one(CarriedActions)
        if widget.display:
            widget.focus_table()
        else:
            self.notify("The earlier conferences' actions are on the review item", timeout=3)

    # --- end of actions carried forward ---

    def palette_commands(self):
        yield ("capture: focus", "Type a quick-capture line", self.action_focus_capture)
        yield ("capture: undo", "Undo the last change made here", self.action_undo)
        yield ("agenda: next item", "Move to the next agenda item", self.action_next_item)
        yield ("agenda: previous item", "Back to the previous item", self.action_previous_item)
        yield ("agenda: start or pause timer", "The item's clock", self.action_timer)
        yield ("entry: move to item", "File the selected entry elsewhere", self.action_move_entry)
        yield ("session: reopen", "Accept captures again after a close", self.action_reopen)
        yield (
            "session: confirm observer",
            "A delegation from another region in the capture line",
            self.action_confirm_observer,
        )
        yield ("entries: filter by kind", "Cycle issue/need/action/…", self.action_cycle_filter)
        yield ("entries: whole session", "Toggle this item / every item", self.action_whole_session)
        yield ("entries: filter by delegation", "@XX or a name", self.action_filter_delegation)
        yield ("tour: tour de table", "Speaking order, timers, queue", self.action_tour)
        yield ("session: roll call", "Set-up and attendance", self.action_attendance)
        yield ("session: close", "Completeness check, then close", self.action_close_session)
        yield ("minutes: preview", "Live minutes, export, copy", self.action_minutes)
        yield ("export: minutes as Markdown", "Write the .md file", self._export_md)
        yield ("export: minutes as HTML", "Write the .html file", self._export_html)

    def _export_md(self) -> None:
        from roundtable.screens.minutes import export_minutes

        export_minutes(self.app, "md")

    def _export_html(self) -> None:
        from roundtable.screens.minutes import export_minutes

        export_minutes(self.app, "html")


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
