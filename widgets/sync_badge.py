"""Where sync stands: synced, N pending, offline since HH:MM, auth error, syncing."""

from __future__ import annotations

from textual.widgets import Static

STATES = ("off", "synced", "pending", "syncing", "offline", "auth")


class SyncBadge(Static):
    """Sync status for the status line; the screen composes the label, the badge colours it."""

    DEFAULT_CSS = """
    SyncBadge { width: auto; padding: 0 1; }
    SyncBadge.-synced { color: $success; }
    SyncBadge.-pending, SyncBadge.-syncing { color: $warning; }
    SyncBadge.-offline, SyncBadge.-auth { color: $error; text-style: bold; }
    SyncBadge.-off { color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("sync: off", **kwargs)
        self.state = "off"

    def set_state(self, state: str, label: str) -> None:
        """Show ``label`` coloured by ``state`` (one of STATES)."""
        if state not in STATES:
            raise ValueError(f"unknown sync state {state!r}; expected one of {', '.join(STATES)}")
        self.state = state
        for s in STATES:
            self.set_class(s == state, f"-{s}")
        self.update(f"sync: {label}")
