"""Pieces every screen uses: the status line and two small modals."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from roundtable.model import REGIONS
from widgets import SyncBadge

if TYPE_CHECKING:
    from roundtable.app import RoundtableApp
    from roundtable.store import SessionStore


class StatusLine(Horizontal):
    """Session · region · room · status on the left; the sync badge and the clock on the right."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; }
    StatusLine > .status-session { width: 1fr; padding: 0 1; }
    StatusLine > .status-clock { width: 7; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", classes="status-session")
        yield SyncBadge()
        yield Static("", classes="status-clock")

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(1.0, self.refresh_status)

    def refresh_status(self) -> None:
        app = self.app
        parts = []
        store = getattr(app, "session_store", None)
        if store is not None and not store.unit.closed:
            s = store.session
            parts.append(s.title or "Untitled session")
            parts.append(REGIONS.get(s.region, s.region))
            if s.room:
                parts.append(s.room)
            parts.append(s.status)
        else:
            parts.append("No session open")
        self.query_one(".status-session", Static).update(" · ".join(parts))
        state, label = getattr(app, "sync_state", ("off", "not connected"))
        self.query_one(SyncBadge).set_state(state, label)
        clock = getattr(app, "clock", time.time)
        self.query_one(".status-clock", Static).update(
            time.strftime("%H:%M", time.localtime(clock()))
        )


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


class SessionScreen(Screen):
    """A screen of the open session, typed to the app.  Its state comes from the store through
    the app's one signal (``RoundtableApp.SessionChanged``, posted after every change the store
    makes), never from refreshes the screen calls by hand after its own writes."""

    @property
    def app(self) -> RoundtableApp:  # type: ignore[override]
        return cast("RoundtableApp", super().app)

    @property
    def store(self) -> SessionStore:
        store = self.app.session_store
        if store is None:
            raise RuntimeError(f"{type(self).__name__} needs an open session")
        return store

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
