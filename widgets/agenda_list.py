"""The agenda: items with their time boxes, the current one highlighted, entries per item."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from roundtable.model import AgendaItem


class AgendaList(OptionList):
    """The session's agenda; Enter or a click on an item posts ItemSelected."""

    DEFAULT_CSS = """
    AgendaList { height: 1fr; border: none; }
    """

    class ItemSelected(Message):
        def __init__(self, item_id: str) -> None:
            super().__init__()
            self.item_id = item_id

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._ids: list[str] = []
        self._signature: tuple = ()

    def set_items(
        self, items: Sequence[AgendaItem], current_id: str, counts: dict[str, int]
    ) -> None:
        """Show ``items`` with ``current_id`` marked and highlighted; unchanged input is a no-op
        so the screen may call this on every capture."""
        signature = tuple((i.id, i.title, i.minutes, counts.get(i.id, 0)) for i in items)
        signature += (current_id,)
        if signature == self._signature:
            return
        self._signature = signature
        self._ids = [i.id for i in items]
        self.clear_options()
        for n, item in enumerate(items, start=1):
            marker = "▶ " if item.id == current_id else "  "
            count = counts.get(item.id, 0)
            label = f"{marker}{n}. {item.title} ({item.minutes}′)"
            if count:
                label += f" · {count}"
            self.add_option(Option(label, id=item.id))
        if current_id in self._ids:
            self.highlighted = self._ids.index(current_id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.ItemSelected(event.option.id))
