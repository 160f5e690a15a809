"""Pick a session, or create one from a region's plan (or a plan file); unlock an encrypted one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static

from roundtable.errors import RoundtableError
from roundtable.model import REGIONS
from roundtable.screens.common import (
    AppModal,
    AppScreen,
    ConfirmModal,
    StatusLine,
    follow_session,
)
from widgets import KeyBar
from widgets.filter_keys import filter_list_key

WIDE = 110
"""From this many columns the sessions list shows the event's name too (one event a laptop is
the common case: narrower, its columns go to the date, status and counts)."""
FIXED = {"Region": 12, "Date": 10, "Status": 8, "Entries": 7, "To sync": 9}


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


class HomeScreen(AppScreen):
    """Every session on this laptop, newest event first; type to filter.  Letters are typing
    here (issue 22, finding 9): the keys that create, archive or refresh are not letters, and
    each one that creates or archives asks first."""

    BINDINGS = [
        Binding("enter", "open", "Open", id="home.open", tooltip="Open the selected session"),
        Binding(
            "ctrl+n",
            "new",
            "New session",
            id="home.new",
            tooltip="Create a session from a plan (asks for its event, region, date)",
        ),
        Binding(
            "delete",
            "archive",
            "Archive",
            id="home.archive",
            tooltip="Archive the selected session (asks first; kept on disk, restorable)",
        ),
        Binding(
            "ctrl+a",
            "toggle_archived",
            "Archived",
            id="home.archived",
            tooltip="Show the archived sessions (delete restores one)",
        ),
        Binding("f5", "reload", "Refresh", id="home.reload", tooltip="Re-read the session list"),
    ]

    AUTO_FOCUS = "#sessions"

    def __init__(self) -> None:
        super().__init__()
        self.show_archived = False
        self._rows: list = []
        self._width = 0

    def compose(self) -> ComposeResult:
        yield StatusLine(show_session=False)
        yield Static("Sessions on this laptop", classes="screen-title", id="home-title")
        yield Input(
            placeholder="Type to filter by event, region or title; ↓ to the list",
            id="sessions-filter",
            select_on_focus=False,
        )
        yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
        yield Static("", id="home-empty", classes="hint")
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_reload()
        follow_session(self, lambda _keys: self.action_reload())

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self._fill()

    def _columns(self, width: int) -> list[tuple[str, int]]:
        """The columns at ``width`` cells: the fixed ones whole, the title (and the event,
        when wide) sharing the rest (a column's padding is 2 cells)."""
        names = ["Session", *FIXED]
        wide = width >= WIDE
        if wide:
            names.insert(0, "Event")
        room = width - 2 * len(names) - sum(FIXED.values()) - 2  # and the scrollbar
        if wide:
            event = max(12, room * 2 // 5)
            return [("Event", event), ("Session", max(12, room - event)), *FIXED.items()]
        return [("Session", max(12, room)), *FIXED.items()]

    def action_reload(self) -> None:
        self.query_one("#sessions", DataTable).loading = False
        rows = self.app.local.sessions(include_archived=self.show_archived)
        if self.show_archived:
            rows = [s for s in rows if s.status == "archived"]
        rows.sort(key=lambda s: (s.event_name, s.date, s.title), reverse=False)
        self._rows = rows
        self._fill()

    def _matches(self, s) -> bool:
        from roundtable.text import fold

        needle = fold(self.query_one("#sessions-filter", Input).value.strip())
        if not needle:
            return True
        hay = fold(" ".join((s.event_name, REGIONS.get(s.region, s.region), s.title, s.date)))
        return all(word in hay for word in needle.split())

    def _fill(self, focus_list: bool = True) -> None:
        """The list's rows; the list takes the focus unless the filter has it, or ``focus_list``
        is false (a refill for the filter: the filter may be about to take the focus, from a
        character typed on the list)."""
        table = self.query_one("#sessions", DataTable)
        selected = self.selected_session_id()
        self._width = self.size.width
        columns = self._columns(self.size.width or 80)
        table.clear(columns=True)
        for name, width in columns:
            table.add_column(name, width=width, key=name)
        shown = [s for s in self._rows if self._matches(s)]
        for s in shown:
            pending = "—" if not s.pending else f"{s.pending} ops"
            cells = {
                "Event": s.event_name,
                "Session": s.title,
                "Region": REGIONS.get(s.region, s.region),
                "Date": s.date,
                "Status": s.status,
                "Entries": str(s.entries),
                "To sync": pending,
            }
            table.add_row(*(_cut(cells[name], width) for name, width in columns), key=s.id)
        if selected is not None and selected in {s.id for s in shown}:
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        title = (
            "Archived sessions (ctrl+a: back to the list)"
            if self.show_archived
            else ("Sessions on this laptop")
        )
        self.query_one("#home-title", Static).update(title)
        hint = self.query_one("#home-empty", Static)
        if shown:
            hint.update(
                "Enter opens · delete restores it (asks)"
                if self.show_archived
                else "Enter opens a session · ctrl+n creates one · delete archives (asks) · F1 help"
            )
            if focus_list and not self.query_one("#sessions-filter", Input).has_focus:
                table.focus()
        elif self._rows:
            hint.update("No session matches the filter.")
        elif self.show_archived:
            hint.update("No archived session. ctrl+a: back to the list.")
        else:
            hint.update(
                "No session yet. Press ctrl+n to create one from your region's plan, "
                'or run the palette\'s "session: create demo" (ctrl+p) for a realistic demo.'
            )

    def selected_session_id(self) -> str | None:
        table = self.query_one("#sessions", DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def selected_summary(self):
        sid = self.selected_session_id()
        return next((s for s in self._rows if s.id == sid), None)

    @on(Input.Changed, "#sessions-filter")
    def _filter(self) -> None:
        self._fill(focus_list=False)

    @on(Input.Submitted, "#sessions-filter")
    def _to_table(self) -> None:
        self.query_one("#sessions", DataTable).focus()

    def on_key(self, event: events.Key) -> None:
        """The filter above the list (``filter_list_key``): typing on the list filters it, it
        never fires a key."""
        filter_list_key(
            event, self.query_one("#sessions-filter", Input), self.query_one("#sessions", DataTable)
        )

    @on(DataTable.RowSelected, "#sessions")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self._open(str(event.row_key.value))

    def action_open(self) -> None:
        sid = self.selected_session_id()
        if sid is None:
            self.notify("No session to open: press ctrl+n to create one.", severity="warning")
            return
        self._open(sid)

    def _open(self, session_id: str) -> None:
        """Open off the event loop (``open_session_soon``): the list shows it is loading and
        stays responsive; ``action_reload`` (back here, or the open failed) ends that."""
        self.query_one("#sessions", DataTable).loading = True
        self.app.open_session_soon(session_id)

    def action_new(self) -> None:
        def created(session_id: str | None) -> None:
            if session_id:
                self.action_reload()
                self.app.open_session(session_id)

        chosen = self.selected_summary()
        self.app.push_screen(
            NewSessionModal(
                region=chosen.region if chosen else None,
                event=chosen.event_name if chosen else None,
            ),
            created,
        )

    def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        self.action_reload()

    def action_archive(self) -> None:
        """Archive the selected session (or, in the archived list, restore it); asks first."""
        chosen = self.selected_summary()
        if chosen is None:
            return
        restoring = chosen.status == "archived"
        if restoring:
            question = f"Restore {chosen.title!r}? It comes back to the list, briefs and reports."
        else:
            question = (
                f"Archive {chosen.title!r}?\n\nIt leaves the sessions list, the briefs and the "
                "reports; nothing is deleted (ctrl+a shows the archived sessions, delete there "
                "restores it; or `roundtable unarchive`)."
            )

        def done(yes: bool | None) -> None:
            if yes:
                self._archive(chosen.id, restoring)

        self.app.push_screen(ConfirmModal(question, "Restore" if restoring else "Archive"), done)

    def _archive(self, session_id: str, restoring: bool) -> None:
        from roundtable import commands
        from roundtable.store import StoreError

        app = self.app
        held = app.session_store
        command = commands.unarchive if restoring else commands.archive
        try:
            if held is not None and held.session_id == session_id:
                held.perform(command)
            else:
                with app.local.open_session(session_id) as ss:
                    ss.perform(command)
        except (StoreError, RoundtableError) as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.notify("Session restored." if restoring else "Session archived (ctrl+a lists it).")
        self.action_reload()

    def action_demo(self) -> None:
        from roundtable.demo import create_demo

        session_id = create_demo(self.app.local, self.app.roster)
        self.notify("Demo Africa round table created.")
        self.action_reload()
        self.app.open_session(session_id)

    def palette_commands(self):
        yield ("session: new", "Create a session from a regional plan", self.action_new)
        yield ("session: open", "Open the selected session", self.action_open)
        yield (
            "session: archive",
            "Hide the selected session (kept, restorable)",
            self.action_archive,
        )
        yield ("session: show archived", "List the archived sessions", self.action_toggle_archived)
        yield ("session: create demo", "A realistic half-run Africa session", self.action_demo)


class NewSessionModal(AppModal[str | None]):
    """Event, region (or plan file), title, room and date: enough to start."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="new.cancel", tooltip="Create nothing")]

    def __init__(self, region: str | None = None, event: str | None = None) -> None:
        super().__init__()
        self.preset_region = region if region in REGIONS else None
        self.preset_event = event

    def compose(self) -> ComposeResult:
        app = self.app
        known = [e.name for e in app.local.events()]
        default_event = self.preset_event or app.settings.conference or (known[0] if known else "")
        if not default_event:
            default_event = f"Regional round tables {dt.date.today().year}"
        with Vertical(classes="dialog wide"):
            yield Label("New round-table session", classes="dialog-title")
            yield Label("Event")
            yield Input(default_event, id="new-event")
            yield Label("Region")
            yield Select(
                [(name, key) for key, name in REGIONS.items()],
                id="new-region",
                # the selected session's region (issue 22, finding 9: never Africa by default
                # in an Americas event); with nothing to go by, the facilitator chooses
                allow_blank=self.preset_region is None,
                value=self.preset_region or Select.NULL,
                prompt="Choose the region",
            )
            yield Label("Plan file (optional: empty = the region's built-in plan)")
            yield Input("", placeholder="path/to/plan.toml", id="new-plan")
            yield Label("Title (optional: empty = the plan's)")
            yield Input("", id="new-title")
            with Horizontal(classes="row"):
                yield Input("", placeholder="Room", id="new-room")
                yield Input(dt.date.today().isoformat(), placeholder="YYYY-MM-DD", id="new-date")
            yield Label("Venue time zone (every time is shown in it; default: this laptop's)")
            yield Input(
                self._event_zone(default_event) or self.laptop_zone,
                placeholder="Europe/Paris",
                id="new-tz",
            )
            encrypt = app.settings.encrypt_new_sessions
            yield Checkbox(
                "Encrypt at rest (asks for a passphrase every time the session opens)",
                encrypt,
                id="new-encrypt",
            )
            with Horizontal(classes="row", id="new-pass-row") as row:
                row.display = encrypt  # shown when Encrypt is ticked
                yield Input(placeholder="Passphrase", password=True, id="new-pass")
                yield Input(placeholder="Passphrase again", password=True, id="new-pass2")
            yield Label("", id="new-error", classes="error-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    @property
    def laptop_zone(self) -> str:
        from roundtable.zones import laptop_zone

        return laptop_zone()

    def _event_zone(self, name: str) -> str:
        """The zone the event of that name is held in on this laptop ("" if none, or one of
        its own older than zones): the secretariat's event created without one shows UTC."""
        event = self.app.local.find_event(name.strip()) if name.strip() else None
        return self.app.local.held_zone(event) if event is not None else ""

    @on(Input.Changed, "#new-event")
    def _event_changed(self, event: Input.Changed) -> None:
        zone = self._event_zone(event.value)
        if zone:  # an existing event: its venue's zone, shown
            self.query_one("#new-tz", Input).value = zone

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Checkbox.Changed, "#new-encrypt")
    def _encrypt_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#new-pass-row").display = event.value
        if event.value:
            self.query_one("#new-pass", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#create")
    def _create(self) -> None:
        import sessions as plans
        from roundtable.store import StoreError

        error = self.query_one("#new-error", Label)
        name = self.query_one("#new-event", Input).value.strip()
        chosen = self.query_one("#new-region", Select).value
        region = "" if chosen is Select.NULL else str(chosen)
        plan_path = self.query_one("#new-plan", Input).value.strip()
        title = self.query_one("#new-title", Input).value.strip()
        room = self.query_one("#new-room", Input).value.strip()
        date = self.query_one("#new-date", Input).value.strip()
        tz = self.query_one("#new-tz", Input).value.strip()
        if not name:
            error.update("Event: give the conference's name")
            return
        from roundtable.zones import ZoneError, check_zone

        try:
            check_zone(tz, "Time zone")
        except ZoneError as exc:
            error.update(str(exc))
            return
        passphrase = None
        if self.query_one("#new-encrypt", Checkbox).value:
            passphrase = self.query_one("#new-pass", Input).value
            if not passphrase:
                error.update("Passphrase: give one to encrypt the session (or untick Encrypt)")
                return
            if passphrase != self.query_one("#new-pass2", Input).value:
                error.update("Passphrase: the two passphrases differ")
                return
        if not region and not plan_path:
            error.update("Region: choose the region of the round table (or give a plan file)")
            return
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            error.update(f"Date: expected YYYY-MM-DD, got {date!r}")
            return
        try:
            if plan_path:
                plan = plans.load_plan(Path(plan_path).expanduser())
                region = plan.region
            else:
                plan = plans.plan_for_region(region)
            if plan.tz and tz == self.laptop_zone:  # the field left as it was: the plan's
                tz = plan.tz
            local = self.app.local
            event = local.event_in_zone(name, tz, chosen=True, where="Time zone")
            session = local.create_session(
                event.id,
                region,
                title or plan.title,
                plan.to_agenda(),
                room=room,
                date=date,
                plan=plan.name,
                passphrase=passphrase,
                quorum=plan.quorum,
                speaking_seconds=plan.speaking_seconds,
                warning_percent=plan.warning_percent,
                warning_seconds=plan.warning_seconds,
            )
        except (plans.PlanError, StoreError, ZoneError, OSError) as exc:
            error.update(str(exc))
            return
        self.dismiss(session.id)


class PassphraseModal(AppModal[bool]):
    """The passphrase of an encrypted session, asked when it opens: the key is derived and
    checked by the store; a wrong one is one line here, and nothing is read or changed."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="passphrase.cancel", tooltip="Leave it locked")
    ]

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Encrypted session", classes="dialog-title")
            yield Label(f"Passphrase for session {self.session_id[:13]}…")
            yield Input(password=True, id="passphrase")
            yield Label("", id="passphrase-error", classes="error-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Open", variant="primary", id="unlock")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#unlock")
    def _unlock(self) -> None:
        field = self.query_one("#passphrase", Input)
        if field.loading:
            return  # the key of the passphrase typed before is being derived
        field.loading = True
        self.query_one("#passphrase-error", Label).update("")
        self._derive(field.value)

    @work(thread=True, exclusive=True, group="passphrase", exit_on_error=False)
    def _derive(self, passphrase: str) -> None:
        """Derive and check the key (scrypt: a deliberate ~0.1-1 s) off the event loop, so the
        dialog and the app keep drawing; the answer comes back to the event loop (issue 21)."""
        from roundtable.store import StoreError

        try:
            self.app.local.unlock(self.session_id, passphrase)
        except StoreError as exc:
            self.app.call_from_thread(self._refused, str(exc))
            return
        self.app.call_from_thread(self.dismiss, True)

    def _refused(self, why: str) -> None:
        field = self.query_one("#passphrase", Input)
        field.loading = False
        self.query_one("#passphrase-error", Label).update(why)
        field.value = ""
        field.focus()
