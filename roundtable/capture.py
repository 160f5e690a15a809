"""The quick-capture line grammar: one typed line -> the fields of an entry.  Pure, no I/O.

A facilitator types while people speak, so the grammar is small, forgiving about order and
strict about meaning: tokens may appear anywhere in the line, but an unknown delegation, an
impossible date or a misplaced option is an error that points at the column, never a value
silently kept.  ``format_captured`` writes the canonical line back, so an entry can be edited in
the same grammar (``parse_line(format_captured(c, roster), roster) == c``).

Token rule: a token starts a word (at the start of the line or after whitespace).  ``@`` or
``!`` must be followed by a letter (or ``"`` for ``@"Quoted name"``), ``#`` by a letter, so
``a@b.org``, ``No. #5``, ``@ 5 pm`` and ``24/7`` stay text.  A backslash in front of a word
keeps it as text: ``\\@home``, ``\\#1``, ``\\!wow``, ``\\owner:me``, ``\\/etc``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from roundtable.errors import RoundtableError
from roundtable.model import REGIONS, TLP_LABELS, Country, Entry, tlp_name
from roundtable.rosters import RegionalRoster, example_delegation, resolve
from roundtable.text import bidi_control

MAX_LINE = 8_000
"""Longest line looked at; longer input is refused before any other work (pasted documents)."""
MAX_TEXT = 2_000
"""Longest entry text once the tokens are removed."""
MAX_TAG = 40
MAX_OWNER = 100
MAX_DAYS_AHEAD = 3_650

PREFIXES: dict[str, str] = {
    "issue": "issue",
    "i": "issue",
    "need": "need",
    "n": "need",
    "action": "action",
    "a": "action",
    "decide": "decision",
    "decision": "decision",
    "d": "decision",
    "note": "note",
    "park": "note",
}
_CANONICAL_PREFIX = {
    "issue": "/issue",
    "need": "/need",
    "action": "/action",
    "decision": "/decide",
    "note": "/note",
}
_VALID_PREFIXES = "/issue /need /action /decide (/decision) /note /park, or /i /n /a /d"
PRIORITY_ALIASES = {
    "high": "high",
    "h": "high",
    "medium": "medium",
    "m": "medium",
    "med": "medium",
    "low": "low",
    "l": "low",
}
_PRIORITY_KINDS = ("issue", "need", "action")
TLP_TOKENS = {label: label for label in TLP_LABELS}
"""``~clear ~green ~amber ~amber+strict ~red``: the entry's TLP label (issue 14)."""

_BAD_CHAR = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\S+")
_TRAILING = ".,;:"
_TAG_RE = re.compile(r"^[^\W_][\w-]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RELATIVE = re.compile(r"^\+(\d{1,4})([dw])$")
_ESCAPABLE = ("@", "#", "!", "~", "\\", "/", "owner:", "due:")


@dataclass(frozen=True)
class Captured:
    """The entry fields one line gives; what ``SessionStore.add_entry`` takes."""

    entry_kind: str = "note"
    text: str = ""
    delegations: tuple[str, ...] = ()
    crime_areas: tuple[str, ...] = ()
    priority: str = ""
    owner: str = ""
    due: str = ""
    parked: bool = False
    tlp: str = ""  # "" = the session's default label

    def entry_fields(self) -> dict[str, Any]:
        """The keyword arguments of ``SessionStore.add_entry`` (and of an entry edit)."""
        return {
            "entry_kind": self.entry_kind,
            "text": self.text,
            "delegations": list(self.delegations),
            "crime_areas": list(self.crime_areas),
            "priority": self.priority,
            "owner": self.owner,
            "due": self.due,
            "parked": self.parked,
            "tlp": self.tlp,
        }

    @classmethod
    def from_entry(cls, entry: Entry) -> Captured:
        """The capture that would create ``entry``: to edit it in the same grammar."""
        return cls(
            entry_kind=entry.entry_kind,
            text=entry.text,
            delegations=tuple(entry.delegations),
            crime_areas=tuple(entry.crime_areas),
            priority=entry.priority,
            owner=entry.owner,
            due=entry.due,
            parked=entry.parked,
            tlp=entry.tlp,
        )


class CaptureError(RoundtableError, ValueError):
    """A line that cannot be saved; ``column`` (0-based) and ``length`` locate the culprit.

    ``str()`` shows the column counted from 1, as an editor does: ``col 17: unknown ...``.
    """

    def __init__(self, message: str, column: int, length: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.column = max(0, column)
        self.length = max(1, length)

    def __str__(self) -> str:
        return f"col {self.column + 1}: {self.message}"


@dataclass(frozen=True)
class _Word:
    start: int
    raw: str


def _unquote(line: str, quote: int) -> tuple[str, int]:
    """The text of a quoted value starting at ``line[quote] == '"'`` and the index after it.

    Inside quotes a backslash escapes the next character (``\\"`` and ``\\\\``)."""
    out: list[str] = []
    i = quote + 1
    n = len(line)
    while i < n:
        ch = line[i]
        if ch == "\\" and i + 1 < n:
            out.append(line[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise CaptureError('unterminated quote: close it with "', quote, n - quote)


def _normalise_tag(body: str) -> str:
    tag = re.sub(r"-{2,}", "-", body.lower().replace("_", "-")).strip("-")
    return tag


def bad_character(text: str) -> tuple[int, str] | None:
    """The first character ``text`` may not hold (0-based index, what it is), or None: control
    characters other than tab, line separators, and bytes that were not UTF-8 (surrogateescape)."""
    bad = _BAD_CHAR.search(text)
    if bad is None:
        return None
    code = ord(bad.group())
    if 0xDC80 <= code <= 0xDCFF:
        return bad.start(), f"byte 0x{code - 0xDC00:02X} is not valid UTF-8 text"
    return bad.start(), f"control character U+{code:04X} is not allowed"


def parse_line(
    line: str, roster: Mapping[str, Country], *, today: dt.date | None = None
) -> Captured:
    """Parse one capture line; raise CaptureError naming the column of the first problem."""
    if not isinstance(line, str):
        raise TypeError(f"a capture line is text, not {type(line).__name__}")
    if len(line) > MAX_LINE:
        raise CaptureError(
            f"line is {len(line):,} characters long; the limit is {MAX_LINE:,} "
            "(split it into several entries)",
            MAX_LINE,
            len(line) - MAX_LINE,
        )
    bad = bad_character(line)
    if bad:
        at, what = bad
        raise CaptureError(what if what.startswith("byte") else f"{what} in a capture line", at)
    bidi = bidi_control(line)
    if bidi:
        raise CaptureError(bidi[1], bidi[0])
    line = line.replace("\t", " ")

    kind = "note"
    parked = False
    prefix_word = ""
    texts: list[_Word] = []
    delegations: list[str] = []
    tags: list[str] = []
    priority: _Word | None = None
    priority_value = ""
    owner: _Word | None = None
    owner_value = ""
    due: _Word | None = None
    due_value = ""
    label: _Word | None = None
    label_value = ""

    def kind_label() -> str:
        return "a /park note" if parked else f"{prefix_word or 'a note'}"

    pos = 0
    first = True
    n = len(line)
    while pos < n:
        space = _SPACE.match(line, pos)
        if space:
            pos = space.end()
            if pos >= n:
                break
        start = pos
        quoted_value: str | None = None
        for opener in ('@"', 'owner:"', 'owner:@"'):
            if line.startswith(opener, pos):
                quoted_value, after = _unquote(line, pos + len(opener) - 1)
                word_end = _WORD.match(line, after)
                tail = word_end.group() if word_end and word_end.start() == after else ""
                if tail.strip(_TRAILING):
                    raise CaptureError(
                        f"unexpected {tail!r} after the closing quote (leave a space)",
                        after,
                        len(tail),
                    )
                pos = after + len(tail)
                raw = line[start:pos]
                break
        else:
            m = _WORD.match(line, pos)
            assert m is not None
            raw = m.group()
            pos = m.end()
        word = _Word(start, raw)

        if first:
            first = False
            if raw.startswith("/"):
                name = raw[1:].lower()
                if name not in PREFIXES:
                    raise CaptureError(
                        f"unknown prefix {raw[:30]}: use {_VALID_PREFIXES}; "
                        "start with \\/ to begin a note with /",
                        start,
                        len(raw),
                    )
                kind = PREFIXES[name]
                parked = name == "park"
                prefix_word = raw
                continue

        if raw.startswith("\\") and len(raw) > 1 and raw[1:].startswith(_ESCAPABLE):
            texts.append(_Word(start + 1, raw[1:]))
            continue

        if raw.startswith("/") and raw[1:].lower() in PREFIXES:
            raise CaptureError(
                f"second prefix {raw}: a prefix only starts the line (write \\{raw} for text)",
                start,
                len(raw),
            )
        lead = raw[0]
        if lead == "@" and quoted_value is not None:
            code = resolve(roster, quoted_value)
            if code is None:
                raise _unknown_delegation(roster, raw, start, quoted_value)
            if code not in delegations:
                delegations.append(code)
            continue
        if lead == "@" and len(raw) > 1 and raw[1].isalpha():
            name = raw[1:].rstrip(_TRAILING)
            code = resolve(roster, name)
            if code is None:
                raise _unknown_delegation(roster, "@" + name, start, name)
            if code not in delegations:
                delegations.append(code)
            continue
        if lead == "#" and len(raw) > 1 and raw[1].isalpha():
            body = raw[1:].rstrip(_TRAILING)
            if not _TAG_RE.match(body):
                raise CaptureError(
                    f"crime area #{body[:40]}: use letters, digits and hyphens "
                    "(e.g. #drug-trafficking)",
                    start,
                    len(raw),
                )
            tag = _normalise_tag(body)
            if len(tag) > MAX_TAG:
                raise CaptureError(
                    f"crime area #{tag[:20]}... is longer than {MAX_TAG} characters",
                    start,
                    len(raw),
                )
            if tag not in tags:
                tags.append(tag)
            continue
        if lead == "!" and len(raw) > 1 and raw[1].isalpha():
            body = raw[1:].rstrip(_TRAILING).lower()
            if body not in PRIORITY_ALIASES:
                raise CaptureError(
                    f"unknown priority {raw[:30]}: use !high !medium !low (or !h !m !l); "
                    "write \\! for a literal !",
                    start,
                    len(raw),
                )
            if kind not in _PRIORITY_KINDS:
                raise CaptureError(
                    f"a priority only applies to /issue, /need and /action, not to {kind_label()}",
                    start,
                    len(raw),
                )
            if priority is not None:
                raise CaptureError(
                    f"second priority {raw}: this line already has !{priority_value}",
                    start,
                    len(raw),
                )
            priority = word
            priority_value = PRIORITY_ALIASES[body]
            continue
        if lead == "~" and len(raw) > 1 and raw[1].isalpha():
            body = raw[1:].rstrip(_TRAILING).lower()
            if body not in TLP_TOKENS:
                raise CaptureError(
                    f"unknown label {raw[:30]}: use ~clear ~green ~amber ~amber+strict ~red; "
                    "write \\~ for a literal ~",
                    start,
                    len(raw),
                )
            if label is not None:
                raise CaptureError(
                    f"second label {raw}: this line already has {tlp_name(label_value)}",
                    start,
                    len(raw),
                )
            label = word
            label_value = TLP_TOKENS[body]
            continue
        if raw.startswith("owner:") and len(raw) > len("owner:"):
            if kind != "action":
                raise CaptureError(
                    f"owner: only applies to /action, not to {kind_label()}", start, len(raw)
                )
            if owner is not None:
                raise CaptureError(
                    f"second owner: this action already has owner {owner_value!r}",
                    start,
                    len(raw),
                )
            owner = word
            owner_value = _owner(roster, raw, quoted_value, start)
            continue
        if raw.startswith("due:") and len(raw) > len("due:"):
            if kind != "action":
                raise CaptureError(
                    f"due: only applies to /action, not to {kind_label()}", start, len(raw)
                )
            if due is not None:
                raise CaptureError(
                    f"second due date: this action is already due {due_value}", start, len(raw)
                )
            due = word
            due_value = _due(raw[len("due:") :].rstrip(_TRAILING), start, len(raw), today)
            continue
        texts.append(word)

    if not texts:
        what = prefix_word or "the note"
        raise CaptureError(
            f"empty text: say what {what} is about, e.g. /issue Drug routes via ports @GH",
            0,
            len(line),
        )
    total = -1
    for w in texts:
        total += 1 + len(w.raw)
        if total > MAX_TEXT:
            over = max(0, len(w.raw) - (total - MAX_TEXT))
            length = sum(1 + len(x.raw) for x in texts) - 1
            raise CaptureError(
                f"text is {length:,} characters long; the limit is {MAX_TEXT:,} "
                "(split it into several entries)",
                w.start + over,
                len(line) - (w.start + over),
            )
    return Captured(
        entry_kind=kind,
        text=" ".join(w.raw for w in texts),
        delegations=tuple(delegations),
        crime_areas=tuple(tags),
        priority=priority_value,
        owner=owner_value,
        due=due_value,
        parked=parked,
        tlp=label_value,
    )


def _unknown_delegation(
    roster: Mapping[str, Country], shown: str, start: int, name: str = ""
) -> CaptureError:
    code, example = example_delegation(roster)
    hint = f'@"{example}"' if " " in example else f"@{example}"
    outsider = roster.outsider(name) if isinstance(roster, RegionalRoster) and name else None
    if outsider is not None and isinstance(roster, RegionalRoster):
        error = CaptureError(
            f"{outsider.name} (@{outsider.code}) is not a delegation of the "
            f"{REGIONS.get(roster.region, roster.region)} round table: confirm it once as an "
            "observer of this session to attribute lines to it",
            start,
            len(shown),
        )
        error.observer = outsider.code  # type: ignore[attr-defined]
        return error
    where = "no member country" if isinstance(roster, RegionalRoster) else "not in the roster"
    return CaptureError(
        f"unknown delegation {shown[:40]} ({where}; use an ISO code like @{code} "
        f"or a name like {hint})",
        start,
        len(shown),
    )


def _owner(roster: Mapping[str, Country], raw: str, quoted: str | None, start: int) -> str:
    value = raw[len("owner:") :]
    if quoted is not None and not value.startswith("@"):
        unit = " ".join(quoted.split())
        if not unit:
            raise CaptureError('empty owner: write owner:"Drugs unit"', start, len(raw))
        if len(unit) > MAX_OWNER:
            raise CaptureError(f"owner is longer than {MAX_OWNER} characters", start, len(raw))
        return unit
    if quoted is not None:  # owner:@"Sierra Leone"
        name = quoted
    else:
        value = value.rstrip(_TRAILING)
        if value.casefold() == "region":
            return "region"
        name = value[1:] if value.startswith("@") else value
    code = resolve(roster, name)
    if code is None and isinstance(roster, RegionalRoster) and roster.outsider(name) is not None:
        # another region's delegation: the same precise error as @XX (issue 22)
        raise _unknown_delegation(roster, value, start, name)
    if code is None:
        example, _ = example_delegation(roster)
        raise CaptureError(
            f"unknown owner {value[:40]}: use owner:@{example} for a delegation, owner:region, "
            'or quote a unit: owner:"Drugs unit"',
            start,
            len(raw),
        )
    return code


def _due(value: str, start: int, length: int, today: dt.date | None) -> str:
    if _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise CaptureError(f"due:{value}: no such date", start, length) from None
    m = _RELATIVE.match(value)
    if m:
        days = int(m.group(1)) * (7 if m.group(2) == "w" else 1)
        if days > MAX_DAYS_AHEAD:
            raise CaptureError(
                f"due:{value} is more than {MAX_DAYS_AHEAD:,} days ahead", start, length
            )
        return ((today or dt.date.today()) + dt.timedelta(days=days)).isoformat()
    raise CaptureError(
        f"due: expected a date YYYY-MM-DD or +7d / +2w, got {value[:30]!r}", start, length
    )


def _is_token(word: str) -> bool:
    """Would ``parse_line`` read this word (not at the start of a line) as anything but text?"""
    if word.startswith("\\"):
        return word[1:].startswith(_ESCAPABLE)
    if len(word) < 2:
        return False
    if word[0] == "/":
        return word[1:].lower() in PREFIXES
    if word[0] in "@!#~":
        return word[1].isalpha() or word[:2] == '@"'
    if word.startswith("owner:"):
        return len(word) > len("owner:")
    return word.startswith("due:") and len(word) > len("due:")


def _escape_word(word: str) -> str:
    return "\\" + word if _is_token(word) else word


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_captured(captured: Captured, roster: Mapping[str, Country]) -> str:
    """The canonical line for these fields: prefix, text, then @delegations #tags !priority
    owner: due:.  Parsing it gives the same fields back."""
    c = captured
    if c.parked and c.entry_kind == "note":
        parts = ["/park"]
    else:
        parts = [_CANONICAL_PREFIX.get(c.entry_kind, "/note")]
    parts += [_escape_word(w) for w in c.text.split()]
    parts += [f"@{code}" for code in c.delegations]
    for tag in c.crime_areas:
        tag = _normalise_tag(tag)
        if tag:
            parts.append(f"#{tag}")
    if c.priority:
        parts.append(f"!{c.priority}")
    if c.owner:
        if c.owner == "region":
            parts.append("owner:region")
        elif c.owner in roster:
            parts.append(f"owner:@{c.owner}")
        else:
            parts.append(f"owner:{_quote(c.owner)}")
    if c.due:
        parts.append(f"due:{c.due}")
    if c.tlp:
        parts.append(f"~{c.tlp}")
    return " ".join(parts)


GRAMMAR_HELP = r"""
# Quick capture

Type one line and press **Enter**; it is saved at once (undo with **ctrl+z** or the word
`undo`).  Tokens may appear anywhere in the line; what remains is the entry's text.

| Start the line with | Records |
|---|---|
| `/issue` or `/i` | an issue raised (a challenge, a threat) |
| `/need` or `/n` | a regional need (training, database access, equipment) |
| `/action` or `/a` | an action item: what, `owner:`, `due:` |
| `/decide`, `/decision` or `/d` | a decision or recommendation |
| `/note` or plain text | a note on the current agenda item |
| `/park` | a note for the parking lot (deferred to a later session) |

| Token | Means | Examples |
|---|---|---|
| `@XX` | a delegation, by ISO code or name | `@GH` `@Ghana` `@Sierra_Leone` `@"Côte d'Ivoire"` |
| `#tag` | a crime area (stored in lower case, kebab-case) | `#drugs` `#child-abuse` |
| `!high` `!medium` `!low` | priority (issues, needs, actions); also `!h` `!m` `!l` | `!high` |
| `owner:` | an action's owner: delegation, region or unit | `owner:@JO` `owner:region` |
| `owner:"..."` | an action owned by a secretariat unit | `owner:"Drugs unit"` |
| `due:` | an action's due date, exact or from today | `due:2026-12-15` `due:+7d` `due:+2w` |
| `~clear` `~green` `~amber` `~amber+strict` `~red` | TLP label (else the session's) | `~red` |

Examples:

```
/issue  Synthetic drug routes via West African ports  @GH @NG #drugs !high
/need   Training on cyber forensics for bureau staff  @ZM !high #cybercrime
/action Share border-crossing watch list  owner:@JO  due:2026-12-15
/decide Recommend a regional working group on migrant smuggling
/park   Harmonised sentencing for drug couriers #drugs
/issue  Ongoing joint operation on the northern corridor @GH ~red
Delegation of Bhutan reports a decline in crime since 2012 @BT
```

Rules:

- A token starts a word.  `@`, `#` and `!` count only when a letter follows (`@"...` for a
  quoted name), so `a@b.org`, `No. #5`, `24/7` and `30 %` stay text.
- A backslash before a word keeps it as text: `\@home`, `\#1`, `\!`, `\owner:me`, `\/etc`.
- A prefix only starts the line: `/issue /need ...` is an error (write `\/need` for the word).
- Delegations must be in the roster; an unknown one is an error, never silently kept.
  Repeated delegations and tags are kept once.
- `owner:` and `due:` only on actions; a priority only on issues, needs and actions; each at
  most once.  A due date in the past is allowed (late actions), an impossible one is not.
- A label (`~red`, ...) at most once; without one the entry takes the session's default
  (TLP:AMBER unless the plan or the set-up chose another).  TLP:RED never leaves this laptop.
- Errors show the column where the problem starts.  Text is limited to 2,000 characters.
""".strip()
