"""The agenda: items with their time boxes, the current one highlighted, entries per item."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
        self._labels: list[str] = []

    def set_items(
        self,
        items: Sequence[AgendaItem],
        current_id: str,
        counts: dict[str, int],
        used: Mapping[str, int] | None = None,
    ) -> None:
        """Show ``items`` with ``current_id`` marked and highlighted, each with its planned
        minutes and, once its clock has run, the minutes ``used``; unchanged input is a no-op
        so the screen may call this on every capture."""
        used = used or {}
        minutes_used = {i.id: used[i.id] // 60 for i in items if i.id in used}
        signature: tuple = tuple(
            (i.id, i.title, i.minutes, counts.get(i.id, 0), minutes_used.get(i.id)) for i in items
        )
        signature += (current_id,)
        if signature == self._signature:
            return
        labels = [
            _label(n, item, current_id, counts.get(item.id, 0), minutes_used.get(item.id))
            for n, item in enumerate(items, start=1)
        ]
        ids = [i.id for i in items]
        if ids == self._ids and self._signature and self._signature[-1] == current_id:
            # same items, same current one (e.g. a capture changed a count): relabel in place
            for item_id, label, old in zip(ids, labels, self._labels, strict=True):
                if label != old:
                    self.replace_option_prompt(item_id, label)
        else:
            self.clear_options()
            self.add_options(Option(label, id=i) for i, label in zip(ids, labels, strict=True))
            if current_id in ids:
                self.highlighted = ids.index(current_id)
        self._signature = signature
        self._ids = ids
        self._labels = labels

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.ItemSelected(event.option.id))


def _label(n: int, item: AgendaItem, current_id: str, count: int, used: int | None) -> str:
    """ "▶ 2. Drugs (12/20′) · 3": planned minutes, with the minutes used once started."""
    marker = "▶ " if item.id == current_id else "  "
    box = f"{item.minutes}′" if used is None else f"{used}/{item.minutes}′"
    label = f"{marker}{n}. {item.title} ({box})"
    return label + (f" · {count}" if count else "")
