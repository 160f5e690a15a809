"""Live minutes preview, export to .md / .html, a delegation's brief, copy to the clipboard."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Label, Markdown, Select

from roundtable.screens.common import StatusLine, follow_session
from widgets import KeyBar


def session_read(app):
    """The open session read at one moment (``roundtable.usecases``, as the command line's)."""
    from roundtable import usecases

    return usecases.read_session(app.session_store, app.country_names())


def session_conflicts(store) -> dict:
    """Unresolved conflicts of the session's entries, for the documents: the use case every
    face calls (``roundtable.usecases``), people named by their laptops' labels."""
    from roundtable import usecases

    return usecases.session_conflicts(store)


def document_language(app) -> str:
    from roundtable.exports import default_language

    return default_language(app.settings.language, app.session_store.session.plan)


AUDIENCE_CHOICES = (
    ("participants", "participants — the delegations present and the secretariat "
     "(up to TLP:AMBER+STRICT)"),
    ("community", "community — all member countries' bureaux (up to TLP:GREEN)"),
    ("public", "public — TLP:CLEAR only"),
    ("room", "room — everything, TLP:RED included: stays on this laptop"),
)  # fmt: skip


LANGUAGE_CHOICES = (
    ("en", "English"),
    ("fr", "Français (French)"),
    ("es", "Español (Spanish)"),
    ("ar", "العربية (Arabic)"),
)
FORMAT_CHOICES = (("md", "Markdown (.md)"), ("html", "HTML (.html, prints with page marks)"))
MINUTES = "minutes"


@dataclass(frozen=True)
class ExportChoice:
    """What the export dialog was asked for: the minutes, or the brief of one delegation
    (``document`` is its code), in a language, for an audience, in a format."""

    document: str
    lang: str
    audience: str
    fmt: str


class ExportModal(ModalScreen[ExportChoice | None]):
    """One export dialog (issue 23): the document (the minutes or a delegation's brief), the
    language, the audience and the format.  The Export button has the focus: Enter takes what
    is shown; Escape cancels."""

    def __init__(
        self,
        *,
        fmt: str = "md",
        lang: str = "en",
        document: str = MINUTES,
        delegations: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__()
        self.fmt = fmt
        self.lang = lang
        self.document = document
        self.delegations = delegations or []  # (name, code), in the order to offer them

    def compose(self) -> ComposeResult:
        documents = [("Minutes of the session", MINUTES)]
        documents += [(f"Brief for {name} ({code})", code) for name, code in self.delegations]
        known = {value for _, value in documents}
        with Vertical(classes="dialog wide"):
            yield Label("Export", classes="dialog-title")
            for label, widget_id, options, value in (
                ("Document ", "export-document", documents,
                 self.document if self.document in known else MINUTES),
                ("Language ", "export-lang", [(t, k) for k, t in LANGUAGE_CHOICES], self.lang),
                ("Audience ", "export-audience", [(t, k) for k, t in AUDIENCE_CHOICES],
                 "participants"),
                ("Format   ", "export-format", [(t, k) for k, t in FORMAT_CHOICES], self.fmt),
            ):  # fmt: skip
                with Horizontal(classes="row"):
                    yield Label(label, classes="inline-label")
                    yield Select(options, value=value, allow_blank=False, id=widget_id)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="export-cancel")
                yield Button("Export", id="export-go", variant="primary")
            yield Label("Enter exports · Tab moves · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#export-go", Button).focus()

    def choice(self) -> ExportChoice:
        def value(widget_id: str) -> str:
            return str(self.query_one(f"#{widget_id}", Select).value)

        return ExportChoice(
            document=value("export-document"),
            lang=value("export-lang"),
            audience=value("export-audience"),
            fmt=value("export-format"),
        )

    @on(Button.Pressed, "#export-go")
    def _go(self) -> None:
        self.dismiss(self.choice())

    @on(Button.Pressed, "#export-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            event.stop()
            self.dismiss(None)


def present_delegations(app) -> list[tuple[str, str]]:
    """(name, code) of the delegations whose attendance was taken, by name."""
    names = app.country_names()
    store = app.session_store
    codes = {a.country for a in store.records("attendance") if a.status != "unknown"}
    return sorted(((names.get(c, c), c) for c in codes), key=lambda pair: pair[0].casefold())


def export_choice(app, choice: ExportChoice) -> Path | None:
    """Write what the export dialog chose."""
    if choice.document == MINUTES:
        return export_minutes(app, choice.fmt, choice.audience, lang=choice.lang)
    return export_brief(app, choice.document, choice.fmt, choice.audience, lang=choice.lang)


def minutes_export(app, fmt: str = "md", audience: str = "participants", lang: str | None = None):
    """The minutes as the export would write them now, from one snapshot
    (``roundtable.exports.minutes_export``, as the command line's)."""
    from roundtable import exports

    read = session_read(app)
    return exports.minutes_export(
        export_dir(app),
        read.snap,
        read.conflicts,
        fmt=fmt,
        lang=lang or document_language(app),
        audience=audience,
    )


def minutes_document(
    app, fmt: str = "md", audience: str = "participants", lang: str | None = None
) -> tuple[str, object, str]:
    """The minutes as the export would write them now: (text, version, fingerprint)."""
    export = minutes_export(app, fmt, audience, lang)
    return export.text, export.version, export.fingerprint


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


def export_minutes(
    app, fmt: str, audience: str = "participants", lang: str | None = None
) -> Path | None:
    """Save the minutes for ``audience`` (in ``lang``, else the session's language) under
    their numbered name in the exports directory: one snapshot, one version (the command
    line's rule)."""
    if encrypted_export_refused(app):
        return None
    from roundtable import exports

    try:
        path = exports.save_minutes(export_dir(app), minutes_export(app, fmt, audience, lang))
    except OSError as exc:
        app.notify(f"Export failed: {exc.strerror or exc}", severity="error", timeout=10)
        return None
    app.notify(f"Minutes for {audience} written to {path}", title="Exported", timeout=8)
    return path


def export_brief(
    app,
    delegation: str,
    fmt: str = "md",
    audience: str = "participants",
    lang: str | None = None,
) -> Path | None:
    """Save the brief of one delegation for this session, with the event's other sessions
    (their open actions): the command line's use case, ``roundtable.usecases.brief``."""
    import datetime as dt

    from roundtable import exports, usecases

    if encrypted_export_refused(app):
        return None
    store = app.session_store
    read = session_read(app)
    snap = read.snap
    lang = lang or document_language(app)
    names = app.country_names()
    reads = usecases.read_event(
        app.local, snap.session.event_id, names, focus=read, open_session=store
    )
    text = usecases.brief(
        delegation,
        reads,
        focus=snap.session.id,
        fmt=fmt,
        lang=lang,
        audience=audience,
        as_of=dt.datetime.fromtimestamp(app.clock(), dt.UTC),
        countries=names,
    )
    name = exports.brief_name(snap, delegation, lang, fmt, audience)
    try:
        path = exports.write_new(export_dir(app), name, text)
    except OSError as exc:
        app.notify(f"Export failed: {exc.strerror or exc}", severity="error", timeout=10)
        return None
    app.notify(f"Brief for {audience} written to {path}", title="Exported", timeout=8)
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
        follow_session(self, lambda _keys: self.action_refresh())
        self.query_one("#minutes-scroll").focus()

    def action_refresh(self) -> None:
        self.query_one("#minutes", Markdown).update(minutes_markdown(self.app))

    def action_export(self, fmt: str, document: str = MINUTES) -> None:
        """The export dialog (issue 23): document, language, audience and format; then write."""

        def chosen(choice: ExportChoice | None) -> None:
            if choice is not None:
                export_choice(self.app, choice)

        modal = ExportModal(
            fmt=fmt,
            lang=document_language(self.app),
            document=document,
            delegations=present_delegations(self.app),
        )
        self.app.push_screen(modal, chosen)

    def action_brief(self, delegation: str) -> None:
        self.action_export("md", delegation)

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
