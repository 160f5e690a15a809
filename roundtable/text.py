"""Small text helpers used across roundtable, each defined once: quoting a user's value in a
message, reading a user's text file, folding names for matching, and mm:ss durations.  Pure
(``read_text_file`` reads the one file it is given)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from roundtable.errors import RoundtableError

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def quote(value: object, width: int = 60) -> str:
    """A user's value as an error message quotes it: repr, cut to ``width`` characters, so the
    message stays one short line whatever was typed."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


class TextFileError(RoundtableError, ValueError):
    """A file the user wrote (settings, a plan) that cannot be read as UTF-8 text; the message
    is one line naming the file (and the line, for bytes that are not UTF-8)."""


def read_text_file(path: Path) -> str:
    """A user's text file, decoded as UTF-8; TextFileError names what is wrong and where."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TextFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise TextFileError(f"{path}:{line}: not UTF-8 text") from None


def fold(text: str) -> str:
    """A name reduced for matching: accents, case, punctuation and ``_`` ignored.

    "Côte d'Ivoire", "cote_d_ivoire" and "COTE D'IVOIRE" all fold to "cote d ivoire".
    """
    if text.isascii():  # NFKD leaves ASCII as it is, and no ASCII character is combining
        bare = text
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", bare.casefold()).strip()


def mmss(seconds: float) -> str:
    """Seconds as mm:ss (negative shown as 00:00)."""
    seconds = max(int(seconds), 0)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
BIDI_NAMES = {
    0x202A: "LEFT-TO-RIGHT EMBEDDING",
    0x202B: "RIGHT-TO-LEFT EMBEDDING",
    0x202C: "POP DIRECTIONAL FORMATTING",
    0x202D: "LEFT-TO-RIGHT OVERRIDE",
    0x202E: "RIGHT-TO-LEFT OVERRIDE",
    0x2066: "LEFT-TO-RIGHT ISOLATE",
    0x2067: "RIGHT-TO-LEFT ISOLATE",
    0x2068: "FIRST STRONG ISOLATE",
    0x2069: "POP DIRECTIONAL ISOLATE",
}


def bidi_control(text: str) -> tuple[int, str] | None:
    """The first bidirectional embedding, override or isolate control in ``text`` (0-based
    index, what it is), or None (issue 19).  They reorder what follows them on screen and in
    documents ("Invoice \u202egpj.exe" shows as "Invoice exe.jpg"), so no text typed or loaded
    on the laptop may hold one.  The marks LRM (U+200E), RLM (U+200F) and ALM (U+061C), which
    only give a neutral character a direction, stay allowed: Arabic and Hebrew names need them.
    The one rule for the capture bar, ``roundtable add``/``edit``, the edit dialog, names given
    on the command line and plan loading."""
    found = _BIDI_CONTROL.search(text)
    if found is None:
        return None
    code = ord(found.group())
    return found.start(), (
        f"bidirectional control U+{code:04X} ({BIDI_NAMES[code]}) is not allowed: it reorders "
        "the text shown after it"
    )
