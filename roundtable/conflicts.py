"""Entry conflicts, gathered once for every face (issue 21).

The documents (the laptop's exports, the app's minutes screen, the secretariat's ``/v1`` and
console) and ``roundtable conflicts`` read unresolved conflicts here, with one wording: people
are named by their laptop's label (never a device id), values are shown in words, and entries
by the shortest unique part of their id's random tail (a UUIDv7 starts with its timestamp: its
first characters are the same for every entry made in the same minute).  Pure: the faces hand
in the merged documents and the labels they know.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from roundtable.protocol import conflicts as field_conflicts
from roundtable.protocol import delete_conflict

UNLABELLED = "an unlabelled laptop"
THIS_LAPTOP = "this laptop"
MIN_ID = 6  # characters of an id shown at least

Namer = Callable[[str], str]
Conflicts = dict[str, dict[str, list[tuple[Any, str]]]]


def labelled(labels: Mapping[str, str]) -> Namer:
    """Devices named by their laptop's label (``roundtable connect --label``, else its
    token's), the same on every laptop and on the secretariat: documents travel."""

    def name(device: str) -> str:
        label = labels.get(device, "").strip()
        return label or UNLABELLED

    return name


def on_laptop(labels: Mapping[str, str], device: str) -> Namer:
    """``labelled`` on a laptop: its own device by its label too (the secretariat names it
    so), "this laptop" only before a sync has told it its label."""
    return labelled({device: THIS_LAPTOP, **labels})


def gather(docs: Iterable[Mapping[str, Any]], name: Namer) -> Conflicts:
    """Unresolved conflicts of merged entry documents, in the shape the documents take:
    entry id -> field -> ``[(other value, who)]``.  An entry deleted on one laptop while
    edited on another (``protocol.delete_conflict``) is the field ``deleted``: shown deleted,
    with "not deleted" by whoever edited it."""
    out: Conflicts = {}
    for doc in docs:
        if doc.get("kind", "entry") != "entry":
            continue
        found = field_conflicts(doc)
        if found:
            out[doc["id"]] = {
                field: [(value, name(hlc.device)) for value, hlc in versions]
                for field, versions in sorted(found.items())
            }
    return out


def words(value: Any, yes: str = "yes", no: str = "no") -> str:
    """A field's value as people read it: lists joined, booleans as words."""
    if isinstance(value, bool):
        return yes if value else no
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def short_ids(ids: Iterable[str], minimum: int = MIN_ID) -> dict[str, str]:
    """id -> the shortest tail of it (at least ``minimum`` characters, dashes left out) that
    no other id of ``ids`` ends with: the random part of a UUIDv7, never its timestamp."""
    plain = {i: i.replace("-", "") for i in ids}
    out: dict[str, str] = {}
    for rid, p in plain.items():
        n = min(minimum, len(p))
        while n < len(p) and any(q != p and q.endswith(p[-n:]) for q in plain.values()):
            n += 1
        out[rid] = p[-n:]
    return out


def matches(short: str, rid: str) -> bool:
    """Whether what a person typed names this id: its start (as before) or its tail (as
    ``short_ids`` shows it)."""
    plain = rid.replace("-", "")
    text = short.strip().lower().replace("-", "")
    return bool(text) and (rid == short or plain.startswith(text) or plain.endswith(text))


@dataclass(frozen=True)
class Listed:
    """One conflicted entry, as ``roundtable conflicts`` prints it."""

    session: str
    entry: str
    what: str
    text: str

    def line(self) -> str:
        return "\t".join((self.session, self.entry, self.what, self.text))


def listing(
    session_id: str,
    docs: Mapping[str, Mapping[str, Any]],
    texts: Mapping[str, str],
    name: Namer,
    short: Mapping[str, str],
) -> list[Listed]:
    """The conflicted entries of one session (``docs``: entry id -> merged doc), one wording:
    who by label, what in words."""
    out: list[Listed] = []
    for entry_id, doc in sorted(docs.items()):
        found = field_conflicts(doc)
        if not found:
            continue
        gone = delete_conflict(doc)
        parts = []
        if gone is not None:
            parts.append(
                f"deleted by {', '.join(sorted({name(d) for d in gone.deleted_by}))}, "
                f"edited by {', '.join(sorted({name(d) for d in gone.edited_by}))}"
            )
        for field in sorted(f for f in found if not (f == "deleted" and gone is not None)):
            others = "; ".join(f"“{words(v)}” by {name(h.device)}" for v, h in found[field])
            parts.append(f"{field} also edited: {others}")
        text = " ".join(texts.get(entry_id, "").split())[:60]
        out.append(Listed(short[session_id], short[entry_id], "; ".join(parts), text))
    return out
