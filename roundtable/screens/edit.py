"""Edit a captured entry in the capture grammar, set an action's status, resolve a conflict."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select

from roundtable.model import ACTION_STATUSES, TLP_LABELS, Entry, effective_tlp, tlp_name
from roundtable.screens.common import SessionModal, session_roster


def entry_line(entry, roster) -> str:
    """The entry as the capture line that would create it, to edit in the same grammar.  Its
    label is left out: the dialog's label list holds it (a ``~label`` typed in wins)."""
    from dataclasses import replace

    from roundtable.capture import Captured, format_captured

    return format_captured(replace(Captured.from_entry(entry), tlp=""), roster)


class EditEntryModal(SessionModal[bool]):
    """One line to edit, the action status, and the other versions when two laptops disagree."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="edit.cancel", tooltip="Keep as is")]

    def __init__(self, entry_id: str) -> None:
        super().__init__()
        self.entry_id = entry_id

    def compose(self) -> ComposeResult:
        from roundtable.protocol import conflicts

        store = self.store
        entry = store.get("entry", self.entry_id)
        assert isinstance(entry, Entry), self.entry_id  # the dialog is opened on an entry
        with Vertical(classes="dialog wide"):
            yield Label(f"Edit {entry.entry_kind}", classes="dialog-title")
            yield Input(entry_line(entry, self.app.roster), id="edit-line")
            yield Label("", id="edit-error", classes="error-text")
            with Horizontal(classes="row"):
                yield Label("Label ", classes="inline-label")
                yield Select(
                    [(tlp_name(label), label) for label in TLP_LABELS],
                    value=effective_tlp(entry.tlp, store.session.default_tlp),
                    allow_blank=False,
                    id="edit-tlp",
                )
            if entry.entry_kind == "action":
                with Horizontal(classes="row"):
                    yield Label("Status ", classes="inline-label")
                    yield Select(
                        [(s, s) for s in ACTION_STATUSES],
                        value=entry.status or "open",
                        allow_blank=False,
                        id="edit-status",
                    )
            doc = store.doc("entry", self.entry_id)
            assert doc is not None, self.entry_id
            found = conflicts(doc)
            gone = store.delete_conflict("entry", self.entry_id)
            if gone is not None:  # deleted on one laptop while edited on another (issue 12)
                name = store.local.name
                yield Label(
                    f"Deleted by {', '.join(map(name, gone.deleted_by))}, edited by "
                    f"{', '.join(map(name, gone.edited_by))}",
                    classes="conflict-text",
                )
                yield Button("Restore it", id="keep-deleted-0", classes="keep")
                yield Button("Confirm the delete", id="confirm-delete", classes="keep")
            for field, versions in found.items():
                if field == "deleted" and gone is not None:
                    continue
                for n, (value, hlc) in enumerate(versions):
                    shown = ", ".join(value) if isinstance(value, list) else str(value)
                    who = store.local.name(hlc.device)
                    yield Label(
                        f"Also edited by {who}: {field} = {shown[:80]}",
                        classes="conflict-text",
                    )
                    yield Button(
                        f"Keep {who}'s {field}",
                        id=f"keep-{field}-{n}",
                        classes="keep",
                    )
            if found:
                yield Button("Keep the current values", id="keep-current", classes="keep")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, ".keep")
    def _keep(self, event: Button.Pressed) -> None:
        """Resolve a conflict: writing a field replaces every version the user saw."""
        from roundtable.protocol import conflicts

        store = self.store
        doc = store.doc("entry", self.entry_id)
        if doc is None:  # cannot happen: records are never removed, a delete is a tombstone
            self.notify("This entry is no longer in the session.", severity="error")
            self.dismiss(False)
            return
        found = conflicts(doc)
        button = event.button.id or ""
        if button == "confirm-delete":
            store.delete("entry", self.entry_id)
            self.notify("Delete confirmed.")
            self.dismiss(True)
            return
        if button == "keep-current":
            store.update("entry", self.entry_id, **{f: doc["fields"][f] for f in found})
        else:
            field, index = button.removeprefix("keep-").rsplit("-", 1)
            value, _ = found[field][int(index)]
            store.update("entry", self.entry_id, **{field: value})
        self.notify("Conflict resolved.")
        self.dismiss(True)

    @on(Input.Submitted, "#edit-line")
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        from roundtable.capture import CaptureError, parse_line
        from roundtable.store import StoreError

        store = self.store
        entry = store.get("entry", self.entry_id)
        if not isinstance(entry, Entry):  # removed under the dialog by an undo or a sync
            self.query_one("#edit-error", Label).update("Not saved: the entry is gone (undone?)")
            return
        line = self.query_one("#edit-line", Input).value
        try:
            c = parse_line(line, session_roster(self.app, store))
        except CaptureError as exc:
            self.query_one("#edit-error", Label).update(str(exc))
            return
        from roundtable import commands

        new = c.entry_fields()
        if not c.tlp:  # no ~label typed: the label list's
            new["tlp"] = str(self.query_one("#edit-tlp", Select).value)
        statuses = self.query("#edit-status")
        if statuses:
            new["status"] = str(statuses.first(Select).value)
        try:  # the command line's rule (``commands.edit``): what differs, an action open
            changes = store.perform(commands.edit, entry, new)
        except StoreError as exc:
            self.query_one("#edit-error", Label).update(f"Not saved: {exc}")
            return
        changed = changes.fields()
        if changed:
            self.notify(f"Saved: {', '.join(changed)} changed (ctrl+z undoes)")
            notices = store.local.notices
            while notices:  # e.g. TLP:RED now: the secretariat is asked to withdraw it
                self.notify(notices.pop(0), severity="warning", timeout=8)
        self.dismiss(bool(changed))
