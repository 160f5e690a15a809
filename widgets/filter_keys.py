"""The keyboard of a list with a filter field above it (the sessions list, the roll call): ↓
from the filter goes to the list, ↑ from the list's first row back to the filter, and a
character typed on the list is typing: it goes to the filter and never fires a key, unless
the list itself has a key for it (issue 22, findings 2 and 9)."""

from __future__ import annotations

from collections.abc import Container

from textual import events
from textual.widgets import DataTable, Input


def filter_list_key(
    event: events.Key, field: Input, table: DataTable, list_keys: Container[str] = ()
) -> None:
    """Handle ``event`` (a key of the screen holding ``field`` above ``table``) as above;
    ``list_keys`` are the keys the list keeps for itself (the roll call's status keys)."""
    if event.key == "down" and field.has_focus:
        table.focus()
        event.stop()
    elif event.key == "up" and table.has_focus and table.cursor_row <= 0:
        field.focus()
        event.stop()
    elif table.has_focus and event.is_printable and event.character and event.key not in list_keys:
        event.stop()
        event.prevent_default()
        field.focus()
        field.insert_text_at_cursor(event.character)
        field.cursor_position = len(field.value)
