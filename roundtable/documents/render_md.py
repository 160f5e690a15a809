"""Document tree -> CommonMark (with the table extension).  Pure; same tree, same bytes.

All text is escaped by :func:`escape_md`: backslash escapes only, never HTML entities, so the
Markdown reads cleanly as text and still cannot form a table pipe, emphasis, link, autolink,
code span, heading, list, block quote or raw HTML wherever it lands.
"""

from __future__ import annotations

import re

from roundtable.documents.tree import (
    STRONG,
    Annex,
    BulletList,
    Chart,
    Document,
    Heading,
    Inline,
    Metadata,
    Node,
    NumberedParagraph,
    Paragraph,
    Table,
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r" {2,}")
_SPECIAL = re.compile(r"([\\`*_\[\]|<~])")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_LEADING = re.compile(r"^(\d{1,9})([.)])|^([-+=#>])")


def clean(value: object) -> str:
    """One line of text: line breaks, tabs and control characters become spaces, runs of
    spaces one space; other characters (a no-break space too) stay as typed."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", str(value))).strip(" ")


def escape_md(value: object, *, block_start: bool = True) -> str:
    """Make text inert in a Markdown inline context, a table cell or (``block_start``) the
    start of a paragraph or list item, where "1." or "-" would start a list."""
    s = _SPECIAL.sub(r"\\\1", clean(value))
    s = _ENTITY.sub(r"\\&", s)
    return _escape_leading(s) if block_start else s


def _escape_leading(s: str) -> str:
    return _LEADING.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", s)


def inline(content: Inline, *, block_start: bool = False) -> str:
    """Spans in order; Markdown has no no-break style, so NOWRAP spans read as plain text."""
    out = []
    for span in content:
        if span.style == STRONG:
            out.append(f"**{escape_md(span.text, block_start=False)}**")
        else:
            out.append(_escape_inner(span.text))
    joined = "".join(out)
    return _escape_leading(joined) if block_start else joined


def clean_span(value: str) -> str:
    """Like :func:`clean`, keeping one space at either end where the span had white space, so
    that spans join as they were written."""
    s = _CONTROL.sub(" ", value)
    if not s.strip(" "):
        return " " if s else ""
    lead = " " if s[:1] == " " else ""
    trail = " " if s[-1:] == " " else ""
    return lead + _SPACES.sub(" ", s).strip(" ") + trail


_DIRTY = re.compile(r"[\\`*_\[\]|<~&\x00-\x1f\x7f-\x9f\u2028\u2029]|  ")


def _escape_inner(value: str) -> str:
    if not _DIRTY.search(value):  # most text: nothing to clean or escape
        return value
    s = clean_span(value)
    if not s.strip(" "):
        return s
    lead = " " if s[:1] == " " else ""
    trail = " " if s[-1:] == " " else ""
    return lead + escape_md(s, block_start=False) + trail


def _table(node: Table) -> list[str]:
    cols = len(node.header)
    numeric = node.numeric or (False,) * cols
    lines = ["| " + " | ".join(inline(c) or " " for c in node.header) + " |"]
    lines.append("|" + "|".join("---:" if numeric[i] else "---" for i in range(cols)) + "|")
    for row in node.rows:
        lines.append("| " + " | ".join(inline(c) or "—" for c in row) + " |")
    return lines


def _node(node: Node, out: list[str], colon: str = ":") -> None:
    if isinstance(node, Chart):  # Markdown has the chart's numbers as its table
        out += _table(node.table())
        out.append("")
    elif isinstance(node, Heading):
        out += ["#" * node.level + " " + inline(node.content), ""]
    elif isinstance(node, Paragraph):
        out += [inline(node.content, block_start=True), ""]
    elif isinstance(node, NumberedParagraph):
        out += [f"{node.number}\\. {inline(node.content)}", ""]
    elif isinstance(node, BulletList):
        out += [f"- {inline(item, block_start=True)}" for item in node.items]
        out.append("")
    elif isinstance(node, Table):
        out += _table(node)
        out.append("")
    elif isinstance(node, Metadata):
        out += [
            f"- **{escape_md(label, block_start=False)}{colon}** {inline(value)}"
            for label, value in node.rows
        ]
        out.append("")
    elif isinstance(node, Annex):
        out += ["## " + inline(node.title), ""]
        for child in node.children:
            _node(child, out, colon)
    else:  # pragma: no cover - the tree has no other node
        raise TypeError(f"unknown node {type(node).__name__}")


def render_markdown(doc: Document) -> str:
    out = [f"# {escape_md(doc.title, block_start=False)}", ""]
    if doc.marking:  # the TLP label under the title (issue 14); the footer is the last node
        out += [inline(doc.marking, block_start=True), ""]
    colon = "\u00a0:" if doc.lang == "fr" else ":"  # French sets a space before the colon
    for node in doc.children:
        _node(node, out, colon)
    return "\n".join(out)
