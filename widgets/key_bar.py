"""The keys of the current screen on one line at the bottom, like Textual's Footer.

Textual's Footer is a container of one widget per key that composes itself empty and then,
once the screen's bindings are known, removes and mounts its keys: a second layout of the whole
screen right after the first frame (about 0.2 s at start-up on the run screen).  This bar is a
single widget of fixed height: a change of bindings (focus moving) only repaints its one line.

Keys that do not fit are left out whole, so the order decides what a narrow terminal shows:
the most used keys first (``KEY_ORDER``, by binding id), then the others in their bindings'
order (the focused widget's, its screen's, the app's).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

KEY_ORDER: tuple[str, ...] = (
    # capture bar focused: how to get out of it
    "capture.leave",
    # the run screen: capture, walk the agenda, the meeting's other screens, the entry list
    "run.capture",
    "run.next",
    "run.undo",
    "run.tour",
    "run.attendance",
    "run.minutes",
    "run.close",
    "entries.edit",
    "entries.delete",
    # the tour de table and the speaker queue
    "tour.next",
    "tour.pass",
    "tour.skip",
    "tour.queue",
    "tour.queue_next",
    "tour.back",
    # the roll call
    "roll.present",
    "roll.apologies",
    "roll.absent",
    "roll.unknown",
    "roll.delegates",
    "setup.start",
    "setup.confirm",
    "setup.back",
    # the completeness check
    "close.fix",
    "close.accept",
    "close.close",
    "close.back",
    # the session list, the minutes, the help
    "home.open",
    "home.new",
    "home.archive",
    "home.archived",
    "home.reload",
    "minutes.refresh",
    "minutes.md",
    "minutes.html",
    "minutes.copy",
    "minutes.back",
    "help.close",
    # then help, on every screen
    "app.help",
)
"""Binding ids, most used first: the key bar shows these before any other key of the screen
(at 120 columns the run screen keeps c, ctrl+n, ctrl+z, t, a, m, x, e, d and f1).  Each
screen lists its main keys only; help comes after them, and the bindings not listed follow
help, in their own order.  Add a new screen's main keys here."""

_RANK = {binding_id: n for n, binding_id in enumerate(KEY_ORDER)}


@dataclass(frozen=True)
class ShownKey:
    key: str
    display: str
    description: str
    enabled: bool
    tooltip: str
    start: int = 0
    end: int = 0
    rank: int = 0


class KeyBar(Widget, can_focus=False):
    """The screen's shown bindings, clickable; the command palette key on the right."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "key-bar--key",
        "key-bar--description",
        "key-bar--hover",
        "key-bar--disabled",
    }
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-bar--hover { background: $block-hover-background; }
        & > .key-bar--disabled { text-style: dim; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: list[ShownKey] = []
        self._hover: int | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()  # one line; its size never changes

    def _keys(self) -> tuple[list[ShownKey], ShownKey | None]:
        """The bindings to show, one per action as the Footer does, and the palette key."""
        active = self.screen.active_bindings
        keys: list[ShownKey] = []
        actions: set[str] = set()
        for _node, binding, enabled, tooltip in active.values():
            if not binding.show or binding.action in actions:
                continue
            actions.add(binding.action)
            keys.append(
                ShownKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.description,
                    enabled,
                    tooltip or binding.tooltip or binding.description,
                    rank=_RANK.get(binding.id or "", len(_RANK)),
                )
            )
        keys.sort(key=lambda k: k.rank)  # stable: unlisted keys keep their order
        palette = None
        if self.app.ENABLE_COMMAND_PALETTE:
            found = active.get(self.app.COMMAND_PALETTE_BINDING)
            if found is not None:
                _node, binding, enabled, tooltip = found
                palette = ShownKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.description,
                    enabled,
                    tooltip or binding.tooltip or binding.description,
                )
        return keys, palette

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        hover_style = self.get_component_rich_style("key-bar--hover", partial=True)
        disabled_style = self.get_component_rich_style("key-bar--disabled", partial=True)
        width = self.size.width
        keys, palette = self._keys()
        palette_text = f"{palette.display} {palette.description} " if palette else ""
        room = width - cell_len(palette_text) - (1 if palette else 0)
        text = Text(no_wrap=True, overflow="crop", end="")
        shown: list[ShownKey] = []
        for key in keys:
            label = f"{key.description} " if key.description else ""
            size = cell_len(key.display) + 2 + cell_len(label)
            if text.cell_len + size > room:
                break
            start = text.cell_len
            extra = hover_style if self._hover == len(shown) else None
            self._append(text, f" {key.display} ", key_style, extra, key.enabled, disabled_style)
            self._append(text, label, description_style, extra, key.enabled, disabled_style)
            shown.append(_placed(key, start, text.cell_len))
        if palette is not None and room >= 0:
            text.append(" " * (width - text.cell_len - cell_len(palette_text) - 1))
            text.append("▏", style=description_style)
            start = text.cell_len
            extra = hover_style if self._hover == len(shown) else None
            self._append(
                text, f"{palette.display} ", key_style, extra, palette.enabled, disabled_style
            )
            self._append(
                text,
                f"{palette.description} ",
                description_style,
                extra,
                palette.enabled,
                disabled_style,
            )
            shown.append(_placed(palette, start, text.cell_len))
        self._shown = shown
        return text

    @staticmethod
    def _append(text: Text, part: str, style, extra, enabled: bool, disabled_style) -> None:
        if extra is not None:
            style = style + extra
        if not enabled:
            style = style + disabled_style
        text.append(part, style=style)

    def _key_at(self, x: int) -> int | None:
        for n, key in enumerate(self._shown):
            if key.start <= x < key.end:
                return n
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hover = self._key_at(event.x)
        if hover != self._hover:
            self._hover = hover
            self.tooltip = self._shown[hover].tooltip if hover is not None else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        found = self._key_at(event.x)
        if found is None:
            return
        key = self._shown[found]
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()


def _placed(key: ShownKey, start: int, end: int) -> ShownKey:
    return ShownKey(
        key.key, key.display, key.description, key.enabled, key.tooltip, start, end, key.rank
    )
