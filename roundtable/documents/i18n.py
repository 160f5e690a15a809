"""The language layer: boilerplate from the gettext catalogs in ``roundtable/locale``, country
names, dates and lists from CLDR through Babel.

English is the source language (the msgids); French, Spanish and Arabic are read from
``roundtable/locale/<lang>/LC_MESSAGES/roundtable.po`` with Babel's ``read_po`` the first time a
document in that language is built (~10 ms), so a fresh clone needs no compile step and the
catalog kept in the repository is the one used.  Babel is imported here only, when a document
is built: the app's start-up never loads it.  Captured text is never translated.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from roundtable.errors import RoundtableError

if TYPE_CHECKING:
    from roundtable.zones import VenueClock

LANGUAGES = ("en", "fr", "es", "ar")
RTL = frozenset({"ar"})
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "roundtable"
# CLDR locale per document language: dates in British order for English, as the conference does
_CLDR = {"en": "en_GB", "fr": "fr", "es": "es", "ar": "ar"}


def N_(msgid: str) -> str:
    """Marks a boilerplate string translated later, where it is used (``Lang.t``)."""
    return msgid


class LanguageError(RoundtableError, ValueError):
    pass


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise LanguageError(f"language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    return lang


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def N2_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a count-dependent string (English singular and plural), translated later with
    the language's plural rules (``Lang.tn``)."""
    return (singular, plural)


@lru_cache(maxsize=8)
def _read(lang: str):
    """The catalog of one language: plain messages, plural messages (msgid -> its forms) and
    the catalog's plural rule (CLDR's, as Babel writes it into ``Plural-Forms``)."""
    import gettext

    from babel.messages.pofile import read_po

    with catalog_path(lang).open("rb") as fh:
        cat = read_po(fh, locale=lang, domain=DOMAIN)
    plain: dict[str, str] = {}
    plural: dict[str, tuple[str, ...]] = {}
    for m in cat:
        if isinstance(m.id, str):
            if m.id and isinstance(m.string, str) and m.string:
                plain[m.id] = m.string
        elif m.id and m.id[0] and isinstance(m.string, (tuple, list)) and all(m.string):
            plural[m.id[0]] = tuple(m.string)
    return plain, plural, gettext.c2py(cat.plural_expr), cat.num_plurals


def catalog(lang: str) -> dict[str, str]:
    """msgid -> translation for one language ({} for English, the source language)."""
    if lang == "en":
        return {}
    return _read(lang)[0]


def plural_catalog(lang: str) -> dict[str, tuple[str, ...]]:
    """Singular msgid -> the translation's plural forms, in the catalog's order."""
    if lang == "en":
        return {}
    return _read(lang)[1]


def plural_index(lang: str, n: int) -> int:
    """Which of the language's plural forms a count takes (gettext's rule, from CLDR)."""
    if lang == "en":
        return 0 if n == 1 else 1
    return int(_read(lang)[2](n))


def plural_count(lang: str) -> int:
    return 2 if lang == "en" else int(_read(lang)[3])


@lru_cache(maxsize=8)
def _territories(lang: str) -> Mapping[str, str]:
    from babel import Locale

    return Locale.parse(_CLDR[lang]).territories


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


class Lang:
    """Everything language-dependent in a document, for one language."""

    def __init__(self, code: str = "en") -> None:
        self.code = check_language(code)
        self.direction = "rtl" if code in RTL else "ltr"
        # separators between the items of a list, as the language writes them
        self.comma = "، " if code == "ar" else ", "
        self.semicolon = {"ar": "؛ ", "fr": "\u00a0; "}.get(code, "; ")  # French: space before
        self._messages = catalog(code)
        self._plurals = plural_catalog(code)
        self._locale = _CLDR[code]
        # a 1,000-entry document asks for the same dates, numbers and names thousands of times
        self._memo: dict[tuple[str, str | int], object] = {}

    # -- boilerplate ----------------------------------------------------------------------------

    def t(self, msgid: str, **values: object) -> str:
        """The translation of a boilerplate string, with ``{name}`` placeholders filled in."""
        text = self._messages.get(msgid, msgid)
        return text.format(**values) if values else text

    def tn(self, singular: str, plural: str, n: int, **values: object) -> str:
        """A count-dependent string in the form the language's plural rules give ``n`` (six
        forms in Arabic, three in French and Spanish, two in English); ``{n}`` is the count
        as the language writes its numbers, unless given."""
        values.setdefault("n", self.number(n))
        return self._plural(singular, plural, n).format(**values)

    def _plural(self, singular: str, plural: str, n: int) -> str:
        forms = self._plurals.get(singular)
        if forms is None:
            return singular if n == 1 else plural
        return forms[min(plural_index(self.code, n), len(forms) - 1)]

    def tnx(self, singular: str, plural: str, n: int, **values: object):
        """:meth:`tn` as inline text, like :meth:`tx`."""
        values.setdefault("n", self.number(n))
        return self._inline(self._plural(singular, plural, n), values)

    def tx(self, msgid: str, **values: object):
        """Like :meth:`t`, as inline text: the translation's own words plain, each value as
        given (a span keeps its style, so captured text stays marked as captured)."""
        return self._inline(self._messages.get(msgid, msgid), values)

    def _inline(self, message: str, values: Mapping[str, object]):
        from roundtable.documents.tree import Span

        out = []
        for n, part in enumerate(_PLACEHOLDER.split(message)):
            if n % 2 == 0:
                if part:
                    out.append(Span(part))
                continue
            value = values[part]
            out.append(value if isinstance(value, Span) else Span(str(value)))
        return tuple(out)

    # -- CLDR -----------------------------------------------------------------------------------

    def country(self, code: str, fallback: Mapping[str, str] | None = None) -> str:
        """A delegation's name in this language (CLDR); the roster's name, then the code, for
        what CLDR does not know (an owner such as a secretariat unit is shown as typed)."""
        key = ("country", code + "\x00" + (fallback or {}).get(code, "\x01"))
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._country(code, fallback)
        return found  # type: ignore[return-value]

    def _country(self, code: str, fallback: Mapping[str, str] | None) -> str:
        if self.code != "en" or (fallback is not None and code not in fallback):
            name = _territories(self.code).get(code) if len(code) == 2 and code.isupper() else None
            if name:
                return name
        if fallback is not None and code in fallback:
            return fallback[code]
        return code

    def date(self, iso: str) -> str:
        """An ISO date as the language writes it (25 November 2026, 25 novembre 2026)."""
        found = self._memo.get(("date", iso))
        if found is None:
            from babel.dates import format_date

            try:
                found = format_date(dt.date.fromisoformat(iso[:10]), "long", locale=self._locale)
            except ValueError:
                found = iso
            self._memo[("date", iso)] = found
        return found  # type: ignore[return-value]

    def datetime(self, value: dt.datetime, clock: VenueClock | None = None) -> str:
        """A date and time at the venue (``clock``: the document's, whose header names the
        zone): the date as :meth:`date`, the time as HH:MM.  Without a clock: in UTC, said."""
        if clock is None or clock.is_utc:
            value = value.astimezone(dt.UTC)
            return self.t(
                "{date}, {time} UTC",
                date=self.date(value.date().isoformat()),
                time=value.strftime("%H:%M"),
            )
        return self.t("{date}, {time}", date=self.date(clock.day(value)), time=clock.hm(value))

    def number(self, value: int) -> str:
        found = self._memo.get(("number", value))
        if found is None:
            from babel.numbers import format_decimal

            found = self._memo[("number", value)] = format_decimal(value, locale=self._locale)
        return found  # type: ignore[return-value]

    def join(self, items: Sequence[str]) -> str:
        """Names joined as the language lists them (A, B and C; A, B et C; A، B وC)."""
        if len(items) <= 1:
            return "".join(items)
        key = ("join", "\x1f".join(items))
        found = self._memo.get(key)
        if found is None:
            from babel.lists import format_list

            found = self._memo[key] = format_list(list(items), locale=self._locale)
        return found  # type: ignore[return-value]

    def sort_key(self, name: str) -> tuple[str, str]:
        """Collation key for names in this language: accents and case ignored at the first
        level (é with e), ñ after n in Spanish, the hamza forms of alif with alif in Arabic;
        ties broken by the exact text, so the order is total."""
        found = self._memo.get(("key", name))
        if found is None:
            found = self._memo[("key", name)] = self._sort_key(name)
        return found  # type: ignore[return-value]

    def _sort_key(self, name: str) -> tuple[str, str]:
        text = name
        if self.code == "es":
            text = text.replace("ñ", "n\U0010ffff").replace("Ñ", "N\U0010ffff")
        if self.code == "ar":
            text = text.translate(_ALIF)
        return (_fold(text), name)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_ALIF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا"})
