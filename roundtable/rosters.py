"""A session's roster: the delegations its lines may name (its region's members and the
observers the facilitator confirmed), and a name, code or alias resolved to one of them.

Apart from the capture grammar (``roundtable.capture``), which needs it to parse a line, so
that a screen can show a session's roster without loading the grammar (start-up, issue 22).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from roundtable.model import Country
from roundtable.text import fold


def resolve(roster: Mapping[str, Country], text: str) -> str | None:
    """ISO code (any case), name or alias -> the roster's code, or None."""
    text = text.replace("_", " ").strip()
    if not text:
        return None
    finder = getattr(roster, "find", None)
    if callable(finder):
        found = finder(text)
        return found.code if found is not None and found.code in roster else None
    if len(text) == 2 and text.upper() in roster:
        return text.upper()
    key = fold(text)
    for code, country in roster.items():
        if fold(country.name) == key:
            return code
    return None


def example_delegation(roster: Mapping[str, Country]) -> tuple[str, str]:
    """A code and name of ``roster`` to show in hints (Ghana when it is there)."""
    if "GH" in roster:
        return "GH", roster["GH"].name
    for code, country in roster.items():
        return code, country.name
    return "GH", "Ghana"


class RegionalRoster(dict[str, Country]):
    """The delegations a round table's lines may name: its region's members plus the observers
    the facilitator confirmed.  Names resolve as in the full roster (codes, names, aliases,
    accents ignored), but only to these delegations; ``outsider`` names a member country of
    another region, for a precise error."""

    def __init__(
        self, full: Mapping[str, Country], region: str, observers: Iterable[str] = ()
    ) -> None:
        extra = set(observers)
        super().__init__((c, v) for c, v in full.items() if v.region == region or c in extra)
        self.full = full
        self.region = region

    def _lookup(self, text: str) -> Country | None:
        finder = getattr(self.full, "find", None)
        if callable(finder):
            return finder(text)
        code = resolve(self.full, text)
        return self.full.get(code) if code else None

    def find(self, text: str) -> Country | None:
        found = self._lookup(text)
        return found if found is not None and found.code in self else None

    def outsider(self, text: str) -> Country | None:
        found = self._lookup(text.replace("_", " ").strip())
        return found if found is not None and found.code not in self else None


def regional_roster(
    roster: Mapping[str, Country], region: str, observers: Iterable[str] = ()
) -> RegionalRoster:
    """The roster a session of ``region`` captures with (see ``RegionalRoster``)."""
    return RegionalRoster(roster, region, observers)
