"""The member-country roster: 196 bureaux, each with its ISO code, English short name and region.

The data lives in ``data/countries.csv`` (code, name, region, aliases separated by ``|``) so the
secretariat can correct a name without touching code.  It is read once and cached: the roster
is consulted on every keystroke of the capture bar.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from pathlib import Path

from roundtable.model import REGIONS, Country
from roundtable.text import fold

ROSTER_FILE = Path(__file__).parent / "data" / "countries.csv"
_CODE_RE = re.compile(r"^[A-Z]{2}$")


class RosterError(ValueError):
    """The roster data file is malformed (a packaging bug, named precisely)."""


class Roster(dict[str, Country]):
    """Code -> Country, plus name and alias lookup (``find``) that the capture grammar uses."""

    def __init__(self, countries: list[Country], aliases: dict[str, str]) -> None:
        super().__init__((c.code, c) for c in countries)
        index: dict[str, str] = {}
        for c in countries:
            index[fold(c.name)] = c.code
        for alias, code in aliases.items():
            index.setdefault(fold(alias), code)
        self._index = index

    def find(self, text: str) -> Country | None:
        """The country for an ISO code (any case), a name or a common alias; None if unknown."""
        text = text.strip()
        if len(text) == 2 and text.upper() in self:
            return self[text.upper()]
        code = self._index.get(fold(text))
        return self.get(code) if code else None


def parse_roster(text: str, source: str = "countries.csv") -> Roster:
    """Parse and validate roster CSV text; errors name the line."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != ["code", "name", "region", "aliases"]:
        raise RosterError(f"{source}:1: expected header code,name,region,aliases, got {header}")
    countries: list[Country] = []
    aliases: dict[str, str] = {}
    seen_codes: set[str] = set()
    seen_names: dict[str, str] = {}
    for row in reader:
        line = reader.line_num
        if not row:
            continue
        if len(row) != 4:
            raise RosterError(f"{source}:{line}: expected 4 fields, got {len(row)}")
        code, name, region, alias_text = (field.strip() for field in row)
        if not _CODE_RE.match(code):
            raise RosterError(f"{source}:{line}: code: expected two capital letters, got {code!r}")
        if code in seen_codes:
            raise RosterError(f"{source}:{line}: code: {code} appears twice")
        if not name:
            raise RosterError(f"{source}:{line}: name: empty")
        if fold(name) in seen_names:
            raise RosterError(f"{source}:{line}: name: {name!r} clashes with another country")
        if region not in REGIONS:
            raise RosterError(
                f"{source}:{line}: region: {region!r} is not one of {', '.join(REGIONS)}"
            )
        seen_codes.add(code)
        seen_names[fold(name)] = code
        countries.append(Country(code, name, region))
        for alias in filter(None, (a.strip() for a in alias_text.split("|"))):
            aliases[alias] = code
    for alias, code in aliases.items():
        other = seen_names.get(fold(alias))
        if other is not None and other != code:
            raise RosterError(f"{source}: alias {alias!r} of {code} is the name of {other}")
    return Roster(countries, aliases)


@functools.cache
def load_roster() -> Roster:
    """The built-in roster, read once per process."""
    return parse_roster(ROSTER_FILE.read_text(encoding="utf-8"), ROSTER_FILE.name)


def countries_in(region: str) -> list[Country]:
    """The delegations of one region, sorted by name (accents ignored) for the roll call."""
    if region not in REGIONS:
        raise ValueError(f"unknown region {region!r} (one of {', '.join(REGIONS)})")
    return sorted(
        (c for c in load_roster().values() if c.region == region), key=lambda c: fold(c.name)
    )


def find_country(text: str) -> Country | None:
    """A country by ISO code (any case), name or alias, accents and case ignored."""
    return load_roster().find(text)
