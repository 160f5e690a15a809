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
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", bare.casefold()).strip()


def mmss(seconds: float) -> str:
    """Seconds as mm:ss (negative shown as 00:00)."""
    seconds = max(int(seconds), 0)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
