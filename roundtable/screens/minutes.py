"""Live minutes preview, export to .md / .html, copy to the clipboard."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown

from roundtable.screens.common import StatusLine
from widgets import KeyBar


def minutes_markdown(app) -> str:
    from roundtable import minutes

    snap = app.session_store.snapshot(app.country_names())
    return minutes.render_markdown(snap, conference=app.settings.conference or None)


def export_path(app, fmt: str) -> Path:
    """exports/<date>-<region>-<short id>.<fmt> under the home: stable, so re-exports replace."""
    session = app.session_store.session
    name = f"{session.date or 'undated'}-{session.region}-{session.id[:8]}-minutes.{fmt}"
    return Path(app.home) / "exports" / name


def export_minutes(app, fmt: str) -> Path | None:
    from roundtable import minutes
    from roundtable.osfiles import atomic_write_text

    text = minutes_markdown(app)
    if fmt == "html":
        session = app.session_store.session
        text = minutes.render_html(text, title=f"Minutes — {session.title}")
    path = export_path(app, fmt)
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        app.notify(f"Export failed: {path}: {exc.strerror or exc}", severity="error", timeout=10)
        return None
    app.notify(f"Minutes written to {path}", title="Exported", timeout=8)
    return path


class MinutesScreen(Screen):
    """The minutes exactly as exported, regenerated from the stored records."""

    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="minutes.refresh", tooltip="Regenerate"),
        Binding("e", "export('md')", "Export .md", id="minutes.md", tooltip="Write Markdown"),
        Binding("h", "export('html')", "Export .html", id="minutes.html", tooltip="Write HTML"),
        Binding("y", "copy", "Copy", id="minutes.copy", tooltip="Copy Markdown to clipboard"),
        Binding("escape", "back", "Back", id="minutes.back", tooltip="Back to the agenda"),
    ]

    def compose(self) -> ComposeResult:
        yield StatusLine()
        with VerticalScroll(id="minutes-scroll"):
            yield Markdown("", id="minutes")
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_refresh()
        self.query_one("#minutes-scroll").focus()

    def action_refresh(self) -> None:
        self.query_one("#minutes", Markdown).update(minutes_markdown(self.app))

    def on_roundtable_app_session_changed(self) -> None:
        self.action_refresh()

    def action_export(self, fmt: str) -> None:
        export_minutes(self.app, fmt)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(minutes_markdown(self.app))
        self.notify("Minutes (Markdown) copied to the clipboard.")

    def action_back(self) -> None:
        self.app.pop_screen()

    def palette_commands(self):
        yield (
            "export: minutes as Markdown",
            "Write the .md file",
            lambda: self.action_export("md"),
        )
        yield (
            "export: minutes as HTML",
            "Write the .html file",
            lambda: self.action_export("html"),
        )
        yield ("minutes: copy", "Copy the Markdown to the clipboard", self.action_copy)
