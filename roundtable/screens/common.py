"""Pieces every screen uses: the status line and two small modals."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from roundtable.model import REGIONS, Entry
from widgets import SyncBadge

if TYPE_CHECKING:
    from roundtable.app import RoundtableApp
    from roundtable.store import SessionStore
    from widgets.capture_bar import CaptureContext


class StatusLine(Horizontal):
    """Session · region · room · status on the left; the sync badge and the clock on the right."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; }
    StatusLine > .status-session { width: 1fr; padding: 0 1; }
    StatusLine > .status-clock { width: auto; padding: 0 1; }  /* "09:30 CEST": the venue's */
    """

    def __init__(self, *, show_session: bool = True) -> None:
        super().__init__()
        self.show_session = show_session  # the sessions list names no session (issue 22)

    def compose(self) -> ComposeResult:
        yield Static("", classes="status-session")
        yield SyncBadge()
        yield Static("", classes="status-clock")

    def on_mount(self) -> None:
        # one way (issue 21): the app tells this line of a change, the line never asks
        app = self.app
        if hasattr(app, "sync_state"):
            self.watch(app, "sync_state", self._show_sync)  # shown at once, then on change
        follow_session(self, lambda _keys: self._show_session())
        self._show_session()
        self._show_clock()
        self.set_interval(CLOCK_EVERY, self._show_clock)  # time is the one thing not told

    def refresh_status(self) -> None:
        """Draw everything again (the session's fields, sync, the clock)."""
        self._show_session()
        self._show_sync(getattr(self.app, "sync_state", ("off", "not connected")))
        self._show_clock()

    def _show_session(self) -> None:
        parts = []
        store = getattr(self.app, "session_store", None)
        if not self.show_session:
            parts.append("roundtable · sessions on this laptop")
        elif store is not None and not store.closed:
            s = store.session
            parts.append(s.title or "Untitled session")
            parts.append(REGIONS.get(s.region, s.region))
            if s.room:
                parts.append(s.room)
            parts.append(s.status)
        else:
            parts.append("No session open")
        self.query_one(".status-session", Static).update(" · ".join(parts))

    def _show_sync(self, state: tuple[str, str]) -> None:
        self.query_one(SyncBadge).set_state(*state)

    def _show_clock(self) -> None:
        venue_time = getattr(self.app, "venue_time", None)
        shown = venue_time() if venue_time else time.strftime("%H:%M")
        self.query_one(".status-clock", Static).update(shown)


CLOCK_EVERY = 1.0
"""Seconds between redraws of the status line's clock (HH:MM at the venue)."""


def follow_session(node: Any, callback: Callable[[frozenset[tuple[str, str]] | None], Any]) -> None:
    """Call ``callback`` (on ``node``'s own message loop) after every change of the open
    session's records, with the changed ``(kind, id)`` pairs or None (anything may have
    changed): ``RoundtableApp.session_signal``.  Ends when ``node`` is removed.  A node of
    another app (the projector's) follows nothing."""
    signal = getattr(node.app, "session_signal", None)
    if signal is not None:
        signal.subscribe(node, callback)


class ConfirmModal(ModalScreen[bool]):
    """Yes/no, with the consequence spelled out.  Enter = yes, Escape = no."""

    BINDINGS = [
        Binding("escape", "answer(False)", "Cancel", id="confirm.no", tooltip="Do nothing"),
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Go ahead"),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "Cancel") -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes_label, variant="primary", id="yes")
                yield Button(self.no_label, id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class PromptModal(ModalScreen[str | None]):
    """Ask for one line of text; ``validate`` returns an error message or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel", tooltip="Keep as is")]

    def __init__(self, question: str, value: str = "", validate=None, placeholder: str = ""):
        super().__init__()
        self.question = question
        self.value = value
        self.validate = validate
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-text")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Label("", id="prompt-error", classes="error-text")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if self.validate is not None:
            error = self.validate(event.value)
            if error:
                self.query_one("#prompt-error", Label).update(error)
                return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


UNDO = "undo"
"""What the capture parser returns for the line "undo"."""


@dataclass(frozen=True)
class Project:
    """What the capture parser returns for ``/project TEXT`` (issue 26): a TLP:CLEAR message
    for the room's projector; an empty ``text`` takes the message down."""

    text: str


def parse_project(line: str) -> Project:
    """``/project TEXT [~clear]``: a label above TLP:CLEAR is refused (ValueError, one line);
    ``/project`` alone takes the message down."""
    from roundtable.projection import check_projectable

    words = line.strip().split()[1:]
    labels = [w for w in words if w.startswith("~") and len(w) > 1 and w[1].isalpha()]
    text = " ".join(w for w in words if w not in labels).replace("\\~", "~")
    if not words:
        return Project("")
    tlp = labels[-1][1:].lower() if labels else "clear"
    try:
        return Project(check_projectable(text, tlp))
    except ValueError as exc:
        raise ValueError(f"not projected: {exc}") from None


ResultT = TypeVar("ResultT")


def breakpoint_classes(screen: Screen) -> list[str]:
    """The breakpoint classes (``App.HORIZONTAL_BREAKPOINTS``...) that Textual gives ``screen``
    at its first layout, for the terminal's size now.  Given from the start, that first Resize
    changes no class, and Textual does not style every widget of the screen a second time
    (~14 ms of the run screen's start-up, issue 22); a later resize is Textual's as before."""
    try:
        app = screen.app
        width, height = app.size
    except RuntimeError:  # built outside a running app (NoActiveAppError): Textual sets them
        return []
    found = []
    for dimension, own, default in (
        (width, screen.HORIZONTAL_BREAKPOINTS, app.HORIZONTAL_BREAKPOINTS),
        (height, screen.VERTICAL_BREAKPOINTS, app.VERTICAL_BREAKPOINTS),
    ):
        for threshold, name in sorted((default if own is None else own) or [], reverse=True):
            if dimension >= threshold:
                found.append(name)
                break
    return found


class AppScreen(Screen):
    """A screen typed to the app (Textual types ``self.app`` as any ``App``)."""

    def __init__(
        self, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name, id, classes)
        self.add_class(*breakpoint_classes(self), update=False)

    # Textual declares ``app`` to type checkers as a writable ``getters.app(App)`` (at run time
    # a read-only property); its ``getters.app(RoundtableApp)`` would import the app, a cycle.
    @property
    def app(self) -> RoundtableApp:  # type: ignore[override]
        return cast("RoundtableApp", super().app)


class AppModal(ModalScreen[ResultT]):
    """A dialog typed to the app, like ``AppScreen``."""

    def __init__(
        self, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name, id, classes)
        self.add_class(*breakpoint_classes(self), update=False)

    @property
    def app(self) -> RoundtableApp:  # type: ignore[override]  # as AppScreen.app
        return cast("RoundtableApp", super().app)


def open_store(app: RoundtableApp, who: object) -> SessionStore:
    """The app's open session store; asking without one is a bug in the caller (``who``)."""
    store = app.session_store
    if store is None:
        raise RuntimeError(f"{type(who).__name__} needs an open session")
    return store


def session_roster(app: RoundtableApp, store: SessionStore) -> Any:
    """The roster a line of this session is parsed with: its region's delegations and its
    confirmed observers (the whole roster for a session of no known region)."""
    from roundtable.rosters import regional_roster

    session = store.session
    if session.region not in REGIONS:
        return app.roster
    return regional_roster(app.roster, session.region, session.observers)


class SessionModal(AppModal[ResultT]):
    """A dialog over the open session: ``self.store`` is its store."""

    @property
    def store(self) -> SessionStore:
        return open_store(self.app, self)


class SessionScreen(AppScreen):
    """A screen of the open session, typed to the app.  Its state comes from the store through
    the app's one signal (``RoundtableApp.session_signal``, published after every change the
    store makes; ``follow_session``), never from refreshes the screen calls by hand after its
    own writes."""

    @property
    def store(self) -> SessionStore:
        return open_store(self.app, self)

    def country_name(self, code: str) -> str:
        country = self.app.roster.get(code)
        return country.name if country is not None else code

    def action_undo_last(self) -> None:
        """ctrl+z where a list's keys change records (the roll call, the list of speakers):
        every such key is undoable (issue 22); never past a close (one line says why)."""
        from roundtable.store import StoreError

        try:
            label = self.store.undo()
        except StoreError as exc:
            self.notify(str(exc), title="Not undone", severity="warning", timeout=8)
            return
        if label is None:
            self.notify("Nothing to undo.", severity="warning")
        else:
            self.notify(f"Undone: {label}")

    def today(self) -> dt.date:
        """The venue's date (``due:+3d`` counts from it), not this laptop's."""
        from roundtable.zones import zone

        return dt.datetime.fromtimestamp(self.app.clock(), zone(self.app.venue_zone())).date()

    # -- capture: one parser and one way to store, for every screen with a capture bar ----

    def capture_roster(self) -> Any:
        """The session's regional roster plus its confirmed observers (cached per screen)."""

        session = self.store.session
        key = (session.region, tuple(session.observers))
        cached = getattr(self, "_capture_roster_cache", None)
        if cached is None or cached[0] != key:
            cached = (key, session_roster(self.app, self.store))
            self._capture_roster_cache = cached
        return cached[1]

    def capture_placeholder(self) -> str:
        from roundtable.rosters import example_delegation
        from widgets.capture_bar import PLACEHOLDER

        code, _name = example_delegation(self.capture_roster())
        return PLACEHOLDER.replace("@GH", f"@{code}")

    def parse_capture(self, line: str) -> Any:
        """The capture bar's parser: the grammar with the session's roster (``UNDO`` for the
        line "undo"); a closed session refuses every line.  ValueError carries the message."""
        from roundtable.capture import CaptureError, parse_line
        from roundtable.store import StoreError

        if line.strip().lower() in ("undo", "/undo"):
            return UNDO
        if line.strip().lower().split(" ", 1)[0] == "/project":
            return parse_project(line)
        try:
            self.store.check_open()
            return parse_line(line, self.capture_roster(), today=self.today())
        except StoreError as exc:
            raise ValueError(str(exc)) from None
        except CaptureError as exc:
            hint = " (ctrl+o)" if getattr(exc, "observer", None) else ""
            raise ValueError(f"{exc}{hint}") from None

    def capture_context(self) -> CaptureContext:
        """The item and the floor as they are when the capture bar reads Enter."""
        from widgets.capture_bar import CaptureContext

        floor = self.store.floor()
        return CaptureContext(self.store.current_item_id(), floor.country if floor else "")

    def store_capture(self, captured: Any, context: CaptureContext) -> Entry:
        """Store a parsed capture under the item of its Enter; an issue, need or note naming no
        delegation is attributed to the delegation that had the floor.  StoreError if not."""
        from roundtable import commands

        store = self.store
        store.check_open()
        changes = store.perform(
            commands.capture,
            **captured.entry_fields(),
            agenda_item=context.agenda_item,
            by_floor=True,
            floor=context.floor or "",
        )
        return cast(Entry, store.get("entry", changes.created))

    def action_confirm_observer(self) -> None:
        """Confirm once the other region's delegation named in the capture line as an observer
        of this session; the line can then be saved."""
        from roundtable.capture import CaptureError, parse_line
        from widgets import CaptureBar

        line = self.query_one(CaptureBar).input.value
        code = None
        try:
            parse_line(line, self.capture_roster(), today=self.today())
        except CaptureError as exc:
            code = getattr(exc, "observer", None)
        if not code:
            self.notify(
                "The capture line names no delegation from another region.", severity="warning"
            )
            return
        name = self.country_name(code)
        region = REGIONS.get(self.store.session.region, self.store.session.region)

        def done(yes: bool | None) -> None:
            if yes:
                from roundtable import commands

                self.store.perform(commands.add_observer, code)
                self.notify(f"{name} is an observer of this session: Enter saves the line.")

        self.app.push_screen(
            ConfirmModal(
                f"{name} is not a delegation of the {region} round table. Record it as an "
                "observer of this session, so that lines can name it? (The minutes list it "
                "among the observers once it is heard.)",
                "Observer",
            ),
            done,
        )

    def after_typed_keys(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` after the keys already sent to the focused widget: a priority key
        (ctrl+n) must not overtake an Enter typed before it in the capture bar."""
        target = self.app.focused
        (target if target is not None else self).call_later(callback)


class ChoiceModal(ModalScreen[str | None]):
    """Pick one of ``choices`` (id, label); Enter picks, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel", tooltip="Keep as is")]

    def __init__(self, question: str, choices: list[tuple[str, str]], current: str = "") -> None:
        super().__init__()
        self.question = question
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-text")
            yield OptionList(*(Option(label, id=cid) for cid, label in self.choices), id="choices")

    def on_mount(self) -> None:
        options = self.query_one("#choices", OptionList)
        ids = [cid for cid, _ in self.choices]
        if self.current in ids:
            options.highlighted = ids.index(self.current)
        options.focus()

    @on(OptionList.OptionSelected, "#choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
