"""Session plans: the agenda template a round table is created from (TOML files).

A plan is validated completely on load, and every error names the file, the line and the field,
because plans are written by hand by facilitators the night before a session.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roundtable.errors import RoundtableError
from roundtable.model import AGENDA_KINDS, REGIONS
from roundtable.text import TextFileError, bidi_control, quote, read_text_file

BUILTIN_DIR = Path(__file__).parent / "plans"
BUILTIN_SOURCE = "built-in"

MINUTES_RANGE = (1, 240)
TOUR_SECONDS_RANGE = (15, 900)
DEFAULT_TOUR_SECONDS = 120
MAX_TITLE = 200
MAX_PROMPT = 500

_TOP_KEYS = {
    "name", "region", "title", "titles", "tour", "items", "language", "tlp", "tz", "quorum",
    "speaking_seconds", "warning_percent", "warning_seconds",
}  # fmt: skip
_PROCEDURE_KEYS = {  # issue 26: key -> (low, high, what)
    "quorum": (0, 200, "delegations"),
    "speaking_seconds": (0, 1800, "seconds"),
    "warning_percent": (0, 100, "percent"),
    "warning_seconds": (0, 600, "seconds"),
}
LANGUAGES = ("en", "fr", "es", "ar")  # the documents' languages (roundtable.documents.i18n)
_REQUIRED_TOP = ("name", "region", "title", "items")
_ITEM_KEYS = {"title", "minutes", "kind", "prompts", *LANGUAGES}
_TRANSLATION_KEYS = {"title", "prompts"}
_REQUIRED_ITEM = ("title", "minutes", "kind")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)$")
_ITEMS_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*items[ \t]*\]\]", re.MULTILINE)
_ANY_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)
_FORMAT_OK = {"\u200c", "\u200d", "\u200e", "\u200f", "\u061c"}  # joiners, direction marks


class PlanError(RoundtableError, ValueError):
    """A plan file that cannot be used; the message is one line: ``file:line: field: problem``."""


@dataclass(frozen=True)
class PlanItem:
    """One agenda row of a plan, with the prompts the facilitator reads out."""

    title: str
    minutes: int
    kind: str  # one of model.AGENDA_KINDS
    prompts: tuple[str, ...] = ()
    # issue 23: the title and prompts in other languages: (language, title, prompts); a
    # language whose prompts were not given reads the plan's own
    translations: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def title_in(self, lang: str) -> str:
        """The item's title in ``lang``, or the plan's own when it has none."""
        return next((t for code, t, _ in self.translations if code == lang), self.title)

    def prompts_in(self, lang: str) -> tuple[str, ...]:
        """The item's prompts in ``lang``, or the plan's own when it has none."""
        found = next((p for code, _, p in self.translations if code == lang), ())
        return found or self.prompts


@dataclass(frozen=True)
class Plan:
    """A validated agenda template; ``source`` says where it came from for error messages."""

    name: str
    region: str
    title: str
    tour_seconds: int
    items: tuple[PlanItem, ...]
    source: str = BUILTIN_SOURCE  # "built-in" or the file it was read from
    language: str = ""  # default language of the session's documents ("" = the setting's)
    tlp: str = ""  # default TLP label of the session's entries ("" = TLP:AMBER; issue 14)
    quorum: int = 0  # delegations present for a quorum; 0 = a majority of the members (issue 26)
    speaking_seconds: int = 0  # the list of speakers' time limit; 0 = tour_seconds
    warning_percent: int = 0  # every countdown warns in the last N % (0 = 20) ...
    warning_seconds: int = 0  # ... or the last N s (0 = 30), whichever is shorter
    tz: str = ""  # the venue's IANA time zone of a new event ("" = the laptop's; issue 24)
    titles: tuple[tuple[str, str], ...] = ()  # issue 23: (language, title) in other languages

    def title_in(self, lang: str) -> str:
        """The plan's title in ``lang``, or its own when it has none."""
        return next((t for code, t in self.titles if code == lang), self.title)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages every title of the plan is given in (its own counts as English,
        or as its ``language``)."""
        own = self.language or "en"
        found = [own]
        for lang in LANGUAGES:
            if lang == own:
                continue
            if any(code == lang for code, _ in self.titles) and all(
                any(code == lang for code, _, _ in i.translations) for i in self.items
            ):
                found.append(lang)
        return tuple(found)

    @property
    def total_minutes(self) -> int:
        """The planned length of the session, for the set-up screen."""
        return sum(i.minutes for i in self.items)

    def procedure(self) -> dict[str, int]:
        """The session fields a new session takes from the plan (issue 26)."""
        return {
            "quorum": self.quorum,
            "speaking_seconds": self.speaking_seconds,
            "warning_percent": self.warning_percent,
            "warning_seconds": self.warning_seconds,
        }

    def to_agenda(self) -> list[dict[str, Any]]:
        """The agenda rows ``LocalStore.create_session`` takes."""
        return [
            {
                "title": i.title,
                "minutes": i.minutes,
                "prompts": list(i.prompts),
                "item_kind": i.kind,
            }
            for i in self.items
        ]


class _Locator:
    """Finds the line of a key in TOML text (tomllib reports no positions for valid files)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.items = [m.start() for m in _ITEMS_HEADER.finditer(text)]
        first_header = _ANY_HEADER.search(text)
        self.top_end = first_header.start() if first_header else len(text)

    def _line_at(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def _find_key(self, key: str, start: int, end: int) -> int | None:
        pattern = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=", re.MULTILINE)
        m = pattern.search(self.text, start, end)
        return self._line_at(m.start()) if m else None

    def top(self, key: str | None) -> int:
        if key is None:
            return 1
        found = self._find_key(key, 0, self.top_end)
        if found is None and key == "items" and self.items:
            return self._line_at(self.items[0])
        if found is None:  # a [key] table header
            header = rf"^[ \t]*\[[ \t]*{re.escape(key)}[ \t]*\]"
            m = re.search(header, self.text, re.MULTILINE)
            return self._line_at(m.start()) if m else 1
        return found

    def tour(self, key: str) -> int:
        m = re.search(r"^[ \t]*\[[ \t]*tour[ \t]*\]", self.text, re.MULTILINE)
        if not m:
            return self.top("tour")
        nxt = _ANY_HEADER.search(self.text, m.end())
        end = nxt.start() if nxt else len(self.text)
        return self._find_key(key, m.end(), end) or self._line_at(m.start())

    def item(self, index: int, key: str | None) -> int:
        if index >= len(self.items):
            return self.top("items")
        start = self.items[index]
        # the next header after this [[items]] line ends its block
        line_end = self.text.find("\n", start)
        nxt = _ANY_HEADER.search(self.text, line_end + 1) if line_end != -1 else None
        end = nxt.start() if nxt else len(self.text)
        if key is not None:
            found = self._find_key(key, start, end)
            if found is not None:
                return found
            if key in LANGUAGES:  # a translation's own [items.<lang>] table
                following = self.items[index + 1] if index + 1 < len(self.items) else None
                header = re.compile(rf"^[ \t]*\[[ \t]*items\.{key}[ \t]*\]", re.MULTILINE)
                m = header.search(self.text, start, following or len(self.text))
                if m:
                    return self._line_at(m.start())
        return self._line_at(start)


def _key(key: str) -> str:
    """A TOML key as an error names it: bare when printable and short, else quoted."""
    return key if key.isprintable() and " " not in key and len(key) <= 40 else quote(key)


def _text_problem(value: Any, limit: int) -> str | None:
    """What is wrong with a title or prompt, or None: text, not blank, printable, not too long."""
    if not isinstance(value, str) or not value.strip():
        return f"expected a non-empty text, got {quote(value)}"
    if len(value) > limit:
        return f"longer than {limit} characters"
    bidi = bidi_control(value)
    if bidi is not None:
        return f"column {bidi[0] + 1}: {bidi[1]}"
    flat = " ".join(value.split())
    bad = next((c for c in flat if not c.isprintable() and c not in _FORMAT_OK), None)
    if bad is not None:
        return f"control character {bad!r} at character {value.index(bad) + 1}"
    return None


def parse_plan(text: str, source: str, *, builtin: bool = False) -> Plan:
    """Parse and validate plan text; ``source`` is the file name used in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_POS.search(message)
        if m:
            message = message[: m.start()].rstrip()
            raise PlanError(f"{source}:{m.group(1)}: TOML syntax: {message}") from None
        raise PlanError(f"{source}: TOML syntax: {message}") from None
    where = _Locator(text)

    def fail(line: int, field: str, problem: str) -> PlanError:
        return PlanError(f"{source}:{line}: {field}: {problem}")

    for key in data:
        if key not in _TOP_KEYS:
            raise fail(
                where.top(key),
                _key(key),
                f"unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})",
            )
    for key in _REQUIRED_TOP:
        if key not in data:
            raise fail(where.top(None), key, "missing")

    name = data["name"]
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise fail(
            where.top("name"),
            "name",
            f'expected lower-case letters, digits and hyphens (e.g. "africa-2026"), '
            f"got {quote(name)}",
        )
    region = data["region"]
    if not isinstance(region, str) or region not in REGIONS:
        raise fail(
            where.top("region"),
            "region",
            f"expected one of {', '.join(REGIONS)}, got {quote(region)}",
        )
    title = data["title"]
    problem = _text_problem(title, MAX_TITLE)
    if problem:
        raise fail(where.top("title"), "title", problem)
    titles: list[tuple[str, str]] = []
    if "titles" in data:
        raw_titles = data["titles"]
        if not isinstance(raw_titles, dict):
            raise fail(where.top("titles"), "titles",
                       'expected a table of languages, e.g. titles = { fr = "…" }')  # fmt: skip
        for lang, value in raw_titles.items():
            if lang not in LANGUAGES:
                raise fail(where.top("titles"), f"titles.{_key(lang)}",
                           f"unknown language (allowed: {', '.join(LANGUAGES)})")  # fmt: skip
            problem = _text_problem(value, MAX_TITLE)
            if problem:
                raise fail(where.top("titles"), f"titles.{lang}", problem)
            titles.append((lang, " ".join(value.split())))

    language = data.get("language", "")
    if language not in ("", *LANGUAGES):
        raise fail(where.top("language"), "language",
                   f"expected one of {', '.join(LANGUAGES)}, got {quote(language)}")  # fmt: skip
    from roundtable.model import TLP_LABELS

    tlp = data.get("tlp", "")
    if tlp not in ("", *TLP_LABELS):
        raise fail(where.top("tlp"), "tlp",
                   f"expected one of {', '.join(TLP_LABELS)}, got {quote(tlp)}")  # fmt: skip

    procedure: dict[str, int] = {}
    for key, (low, high, what) in _PROCEDURE_KEYS.items():
        value = data.get(key, 0)
        if type(value) is not int or not low <= value <= high:
            raise fail(where.top(key), key,
                       f"expected whole {what} {low}-{high}, got {quote(value)}")  # fmt: skip
        procedure[key] = value

    tz = data.get("tz", "")
    if tz != "":
        from roundtable.zones import ZoneError, check_zone

        if not isinstance(tz, str):
            raise fail(where.top("tz"), "tz", f"expected an IANA time zone name, got {quote(tz)}")
        try:
            check_zone(tz)
        except ZoneError as exc:
            raise fail(where.top("tz"), "tz", str(exc)) from None

    tour_seconds = DEFAULT_TOUR_SECONDS
    if "tour" in data:
        tour = data["tour"]
        if not isinstance(tour, dict):
            raise fail(where.top("tour"), "tour", "expected a [tour] table")
        for key in tour:
            if key != "seconds_per_delegation":
                raise fail(
                    where.tour(key),
                    f"tour.{_key(key)}",
                    "unknown key (allowed: seconds_per_delegation)",
                )
        if "seconds_per_delegation" in tour:
            value = tour["seconds_per_delegation"]
            low, high = TOUR_SECONDS_RANGE
            if type(value) is not int or not low <= value <= high:
                raise fail(
                    where.tour("seconds_per_delegation"),
                    "tour.seconds_per_delegation",
                    f"expected a whole number of seconds {low}-{high}, got {quote(value)}",
                )
            tour_seconds = value

    raw_items = data["items"]
    if not isinstance(raw_items, list) or not raw_items:
        raise fail(where.top("items"), "items", "expected at least one [[items]] table")
    items: list[PlanItem] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(raw_items):
        label = f"items[{n + 1}]"
        if not isinstance(raw, dict):
            raise fail(where.item(n, None), label, "expected a table")
        for key in raw:
            if key not in _ITEM_KEYS:
                raise fail(
                    where.item(n, key),
                    f"{label}.{_key(key)}",
                    f"unknown key (allowed: {', '.join(sorted(_ITEM_KEYS))})",
                )
        for key in _REQUIRED_ITEM:
            if key not in raw:
                raise fail(where.item(n, None), f"{label}.{key}", "missing")
        item_title = raw["title"]
        problem = _text_problem(item_title, MAX_TITLE)
        if problem:
            raise fail(where.item(n, "title"), f"{label}.title", problem)
        item_title = " ".join(item_title.split())
        if item_title.casefold() in seen:
            raise fail(
                where.item(n, "title"),
                f"{label}.title",
                f"{quote(item_title)} is also the title of items[{seen[item_title.casefold()]}]",
            )
        seen[item_title.casefold()] = n + 1
        minutes = raw["minutes"]
        low, high = MINUTES_RANGE
        if type(minutes) is not int or not low <= minutes <= high:
            raise fail(
                where.item(n, "minutes"),
                f"{label}.minutes",
                f"expected a whole number of minutes {low}-{high}, got {quote(minutes)}",
            )
        kind = raw["kind"]
        if not isinstance(kind, str) or kind not in AGENDA_KINDS:
            raise fail(
                where.item(n, "kind"),
                f"{label}.kind",
                f"expected one of {', '.join(AGENDA_KINDS)}, got {quote(kind)}",
            )
        prompts = raw.get("prompts", [])
        if not isinstance(prompts, list):
            raise fail(
                where.item(n, "prompts"),
                f"{label}.prompts",
                f"expected a list of texts, got {quote(prompts)}",
            )
        for p_n, prompt in enumerate(prompts):
            problem = _text_problem(prompt, MAX_PROMPT)
            if problem:
                raise fail(where.item(n, "prompts"), f"{label}.prompts[{p_n + 1}]", problem)
        translations = []
        for lang in LANGUAGES:
            if lang not in raw:
                continue
            tr = raw[lang]
            field = f"{label}.{lang}"
            if not isinstance(tr, dict):
                raise fail(where.item(n, lang), field,
                           f"expected a table with title and prompts ([items.{lang}])")  # fmt: skip
            for key in tr:
                if key not in _TRANSLATION_KEYS:
                    raise fail(where.item(n, lang), f"{field}.{_key(key)}",
                               "unknown key (allowed: prompts, title)")  # fmt: skip
            if "title" not in tr:
                raise fail(where.item(n, lang), f"{field}.title", "missing")
            problem = _text_problem(tr["title"], MAX_TITLE)
            if problem:
                raise fail(where.item(n, lang), f"{field}.title", problem)
            tr_prompts = tr.get("prompts", [])
            if not isinstance(tr_prompts, list):
                raise fail(where.item(n, lang), f"{field}.prompts",
                           f"expected a list of texts, got {quote(tr_prompts)}")  # fmt: skip
            if tr_prompts and len(tr_prompts) != len(prompts):
                raise fail(where.item(n, lang), f"{field}.prompts",
                           f"{len(tr_prompts)} prompts for the item's {len(prompts)}: "
                           "give each prompt, in the same order")  # fmt: skip
            for p_n, prompt in enumerate(tr_prompts):
                problem = _text_problem(prompt, MAX_PROMPT)
                if problem:
                    raise fail(where.item(n, lang), f"{field}.prompts[{p_n + 1}]", problem)
            translations.append(
                (
                    lang,
                    " ".join(tr["title"].split()),
                    tuple(" ".join(p.split()) for p in tr_prompts),
                )
            )
        items.append(
            PlanItem(
                title=item_title,
                minutes=minutes,
                kind=kind,
                prompts=tuple(" ".join(p.split()) for p in prompts),
                translations=tuple(translations),
            )
        )
    return Plan(
        name=name,
        region=region,
        title=" ".join(title.split()),
        tour_seconds=tour_seconds,
        items=tuple(items),
        source=BUILTIN_SOURCE if builtin else source,
        language=language,
        tlp=tlp,
        tz=tz,
        titles=tuple(titles),
        **procedure,
    )


def load_plan(path: Path | str) -> Plan:
    """A plan from a file; PlanError (never a traceback) for anything wrong with it."""
    path = Path(path)
    try:
        text = read_text_file(path)
    except TextFileError as exc:
        raise PlanError(str(exc)) from None
    return parse_plan(text, str(path))


@functools.cache
def builtin_plans() -> dict[str, Plan]:
    """The shipped regional plans, one per region, keyed by region."""
    plans: dict[str, Plan] = {}
    for path in sorted(BUILTIN_DIR.glob("*.toml")):
        plan = parse_plan(path.read_text(encoding="utf-8"), path.name, builtin=True)
        if plan.region in plans:
            raise PlanError(f"{path.name}: a second built-in plan for region {plan.region}")
        plans[plan.region] = plan
    return plans


def plan_for_region(region: str) -> Plan:
    """The built-in plan a new session of this region starts from."""
    plans = builtin_plans()
    if region not in plans:
        raise PlanError(f"no built-in plan for region {region!r} (one of {', '.join(REGIONS)})")
    return plans[region]


def user_plans(directory: Path | str) -> tuple[list[Plan], list[str]]:
    """The facilitator's own plans (``*.toml``); a bad file is reported, never fatal."""
    directory = Path(directory)
    if not directory.is_dir():
        return [], []
    plans: list[Plan] = []
    errors: list[str] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            plans.append(load_plan(path))
        except PlanError as exc:
            errors.append(str(exc))
    return plans, errors
