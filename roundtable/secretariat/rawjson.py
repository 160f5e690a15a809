"""Pull pages written from the stored JSON text (issue 25's load target).

A pull page used to decode every stored op's ``value`` and ``base`` (``json.loads``), build a
dict per op and encode the whole page again (``JSONResponse``): at 1,000 ops a page, about half
of the server's CPU for a pull.  The op table already holds each value as the JSON text that
``json.dumps(value, ensure_ascii=False)`` wrote at push time, which, for a string without an
escape, ``true``/``false``/``null`` or an integer, is exactly what the page's encoder would write
again.  So a page is concatenated from the stored text: the same bytes as ``JSONResponse``
would send for the decoded page (``tests/test_pull_wire.py`` compares them on both engines and
for every protocol version), with a decode and re-encode only for the values that could differ
(lists, objects, floats, strings holding an escape: rows written by older code may escape
differently, and lists were stored with ``", "`` separators where the page has ``","``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses
from typing import Any

_COMPACT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
"""The encoder of starlette's ``JSONResponse``: the page's bytes before this module."""
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_LITERALS = frozenset({"true", "false", "null"})

_WIRE = (
    '"op_id":%s,"event_id":%s,"session_id":%s,"record_id":%s,"kind":%s,"field":%s,'
    '"value":%s,"hlc":%s,"device":%s,"base":%s}'
)


def compact(value: Any) -> str:
    """``value`` as the page's encoder writes it."""
    return _COMPACT.encode(value)


def stored_value(text: str) -> str:
    """A stored ``value`` column as the page writes it: the stored text itself where it is
    already in the page's form, else decoded and encoded again."""
    if text[:1] == '"':
        if "\\" not in text:
            return text
    elif text in _LITERALS or _INTEGER.fullmatch(text):
        return text
    return _COMPACT.encode(json.loads(text))


def stored_base(text: str) -> str:
    """A stored ``base`` column (a JSON list of HLCs) as the page writes it."""
    return "[]" if text == "[]" else _COMPACT.encode(json.loads(text))


def wire_text(
    op_id: str, event_id: str, session_id: str, record_id: str, kind: str, field: str,
    value: str, hlc: str, device: str, base: str,
) -> str:  # fmt: skip
    """A stored op's JSON object as a page writes it, from its stored columns (``value`` and
    ``base`` as their stored JSON text), less the leading ``{"seq":N,``: what the push
    stores in the op's ``wire`` column, so that a page joins it instead of writing every op
    again for each of the ~20 laptops that pull it (issue 25)."""
    return _WIRE % (
        encode_basestring(op_id),
        encode_basestring(event_id),
        encode_basestring(session_id),
        encode_basestring(record_id),
        encode_basestring(kind),
        encode_basestring(field),
        stored_value(value),
        encode_basestring(hlc),
        encode_basestring(device),
        stored_base(base),
    )


def row_json(row: Sequence[Any]) -> str:
    """One stored op row (``repository.OP_COLUMNS``, and its ``wire`` text as a twelfth
    column when the page read it) as the page's JSON object: the bytes of
    ``compact(repository.row_to_dict(row))``.  A row stored before the ``wire`` column
    (NULL there), or read without it, is written from its columns: the same text, as
    ``wire_text`` is what the push stored."""
    wire = row[11] if len(row) > 11 else None
    if wire is None:
        wire = wire_text(*row[1:11])
    return f'{{"seq":{row[0]:d},' + wire


def page_json(
    ops: Sequence[str], next_: int, more: bool, version: int, labels: Mapping[str, str] | None
) -> bytes:
    """A pull page's body from its ops' JSON texts, in the key order ``gate.pull_page`` gives
    (``protocol`` only for a laptop of version 2 or later, ``labels`` only when asked)."""
    head = f'{{"protocol":{version:d},"ops":[' if version > 1 else '{"ops":['
    tail = f'],"next":{next_:d},"more":{"true" if more else "false"}'
    if labels is not None:
        tail += ',"labels":' + _COMPACT.encode(labels)
    return (head + ",".join(ops) + tail + "}").encode("utf-8")
