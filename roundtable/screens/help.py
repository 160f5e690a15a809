"""F1 / ?: every binding of every screen, then the quick-capture grammar."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown

from widgets import KeyBar


def _screens():
    from roundtable.screens.close import CloseScreen
    from roundtable.screens.home import HomeScreen
    from roundtable.screens.minutes import MinutesScreen
    from roundtable.screens.run import RunScreen
    from roundtable.screens.setup import SetupScreen
    from roundtable.screens.tour import TourScreen

    return [
        ("Everywhere", None),
        ("Sessions", HomeScreen),
        ("Set-up and roll call", SetupScreen),
        ("Agenda and capture", RunScreen),
        ("Tour de table and queue", TourScreen),
        ("Completeness check", CloseScreen),
        ("Minutes", MinutesScreen),
    ]


def _key_label(app, binding: Binding) -> str:
    keys = binding.key
    if binding.id and binding.id in getattr(app, "_keymap", {}):
        keys = app._keymap[binding.id]
    return ", ".join(app.get_key_display(Binding(k.strip(), "")) for k in keys.split(","))


def help_markdown(app) -> str:
    from roundtable.capture import GRAMMAR_HELP

    lines = ["# roundtable — keys", ""]
    for title, screen in _screens():
        bindings = app.BINDINGS if screen is None else screen.BINDINGS
        lines += [f"## {title}", "", "| Key | Does | Binding id |", "|---|---|---|"]
        for b in bindings:
            if isinstance(b, tuple):
                continue
            label = b.tooltip or b.description
            key = _key_label(app, b).replace("|", "\\|")
            lines.append(f"| `{key}` | {label} | `{b.id or ''}` |")
        lines.append("")
    lines += [
        'Ctrl+P opens the command palette: every action is there by name ("session: close", '
        '"export: minutes as HTML", "sync: now").  Keys can be changed in the settings file '
        "(`roundtable locate`) under `[keymap]`, by binding id.",
        "",
        GRAMMAR_HELP,
    ]
    return "\n".join(lines)


class HelpScreen(Screen):
    BINDINGS = [Binding("escape,q,f1", "close", "Close help", id="help.close", tooltip="Back")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-scroll"):
            yield Markdown(help_markdown(self.app), id="help")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.app.pop_screen()
