"""Live minutes preview, export to .md / .html, a delegation's brief, copy to the clipboard."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown

from roundtable.screens.common import StatusLine
from widgets import KeyBar


def session_conflicts(store) -> dict:
    """Unresolved conflicts of the session's entries, for the documents."""
    from roundtable.documents import conflicts_from_docs

    docs = (store.doc("entry", e.id) for e in store.records("entry"))
    return conflicts_from_docs(d for d in docs if d is not None)


def document_language(app) -> str:
    from roundtable.documents.exports import default_language

    return default_language(app.settings.language, app.session_store.session.plan)


def minutes_document(app, fmt: str = "md") -> tuple[str, object, str]:
    """The minutes as the export would write them now: (text, version, fingerprint)."""
    from roundtable.documents import exports, minutes_text

    store = app.session_store
    snap = store.snapshot(app.country_names())
    conflicts = session_conflicts(store)
    version, print_ = exports.next_version(export_dir(app), snap, conflicts)
    text = minutes_text(
        snap, fmt=fmt, lang=document_language(app), version=version, conflicts=conflicts
    )
    return text, version, print_


def minutes_markdown(app) -> str:
    return minutes_document(app, "md")[0]


def export_dir(app) -> Path:
    return Path(app.home) / "exports"


def encrypted_export_refused(app) -> bool:
    """An export is plaintext: an encrypted session's is never written under the home (issue
    14); the command line writes it elsewhere (``-o FILE``)."""
    session_id = app.session_store.session_id
    if not app.local.is_encrypted(session_id):
        return False
    app.notify(
        "Not exported: the session is encrypted and the exports directory is inside the "
        f"roundtable home; run `roundtable export {session_id[:13]} -o FILE` outside it",
        severity="error",
        timeout=12,
    )
    return True


def export_minutes(app, fmt: str) -> Path | None:
    """Save the minutes under their numbered name in the exports directory."""
    from roundtable.documents import exports

    if encrypted_export_refused(app):
        return None
    text, version, print_ = minutes_document(app, fmt)
    snap = app.session_store.snapshot(app.country_names())
    assert isinstance(version, exports.Version)  # minutes_document's is next_version's
    try:
        path = exports.save(
            export_dir(app), snap, version, print_, document_language(app), fmt, text
        )
    except OSError as exc:
        app.notify(f"Export failed: {exc.strerror or exc}", severity="error", timeout=10)
        return None
    app.notify(f"Minutes written to {path}", title="Exported", timeout=8)
    return path


def export_brief(app, delegation: str, fmt: str = "md") -> Path | None:
    """Save the brief of one delegation for this session (with the event's open actions)."""
    import datetime as dt

    from roundtable.documents import brief_text, exports

    if encrypted_export_refused(app):
        return None
    store = app.session_store
    snap = store.snapshot(app.country_names())
    text = brief_text(
        delegation,
        [snap],
        focus=snap.session.id,
        fmt=fmt,
        lang=document_language(app),
        as_of=dt.datetime.fromtimestamp(app.clock(), dt.UTC),
        countries=app.country_names(),
        conflicts=session_conflicts(store),
    )
    name = exports.brief_name(snap, delegation, document_language(app), fmt)
    try:
        path = exports.write_new(export_dir(app), name, text)
    except OSError as exc:
        app.notify(f"Export failed: {exc.strerror or exc}", severity="error", timeout=10)
        return None
    app.notify(f"Brief written to {path}", title="Exported", timeout=8)
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

    def action_brief(self, delegation: str) -> None:
        export_brief(self.app, delegation)

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
        names = self.app.country_names()
        store = self.app.session_store
        present = sorted(
            (a.country for a in store.records("attendance") if a.status != "unknown"),
            key=lambda code: names.get(code, code),
        )
        for code in present:
            yield (
                f"export: brief for {names.get(code, code)}",
                f"Write what concerns the delegation of {names.get(code, code)} ({code})",
                lambda code=code: self.action_brief(code),
            )
