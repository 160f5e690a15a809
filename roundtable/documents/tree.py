"""The document tree: what minutes, briefs and the report are made of, before any format.

Builders (``minutes``, ``brief``, ``report``) make these nodes from records; one renderer per
format (``render_md``, ``render_html``) turns them into text.  Every piece of text in the tree is
plain text: the renderers escape all of it, so neither captured text nor a translation can
form markup.  Inline text is a tuple of :class:`Span`; a span's ``style`` says how it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

PLAIN = ""
STRONG = "strong"
NOWRAP = "nowrap"  # dates, codes and references: never broken across lines
USER = "user"  # captured text: kept as typed, isolated from the document's direction


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    style: str = PLAIN


Inline = tuple[Span, ...]


def text(*parts: str | Span | Inline) -> Inline:
    """Inline text from strings (plain), spans and other inline runs, in order."""
    out: list[Span] = []
    for part in parts:
        kind = type(part)
        if kind is str:
            if part:
                out.append(Span(part))  # type: ignore[arg-type]
        elif kind is Span:
            out.append(part)  # type: ignore[arg-type]
        else:
            out.extend(part)  # type: ignore[arg-type]
    return tuple(out)


def strong(value: str) -> Span:
    return Span(value, STRONG)


def nowrap(value: str) -> Span:
    return Span(value, NOWRAP)


def user(value: str) -> Span:
    return Span(value, USER)


@dataclass(frozen=True, slots=True)
class Heading:
    level: int  # 2..4; the document title is the level-1 heading
    content: Inline


@dataclass(frozen=True, slots=True)
class Paragraph:
    content: Inline


@dataclass(frozen=True, slots=True)
class NumberedParagraph:
    """A paragraph of a summary record, numbered through the whole document."""

    number: int
    content: Inline


@dataclass(frozen=True, slots=True)
class BulletList:
    items: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A table with one header row; every row has the header's number of cells."""

    header: tuple[Inline, ...]
    rows: tuple[tuple[Inline, ...], ...]
    numeric: tuple[bool, ...] = ()  # per column: right-aligned figures

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.header):
                raise ValueError(f"table row has {len(row)} cells, header {len(self.header)}")


@dataclass(frozen=True, slots=True)
class Metadata:
    """The document's identification block: label and value pairs."""

    rows: tuple[tuple[str, Inline], ...]


@dataclass(frozen=True, slots=True)
class Annex:
    """A part at the end of the document, starting a new page when printed."""

    title: Inline
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """Counts by row and column (needs by crime area × region, issue 23), with the same numbers
    as a table: HTML draws it as an SVG chart beside the table, Markdown gives the table."""

    description: str  # what the chart shows, in words (the SVG's accessible name)
    corner: str  # the header of the rows' column
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: tuple[tuple[int, ...], ...]  # one per row, one count per column
    total: str  # the header of the totals' column
    numbers: tuple[tuple[str, ...], ...] = ()  # the counts as the language writes them

    def __post_init__(self) -> None:
        if len(self.values) != len(self.rows) or any(
            len(v) != len(self.columns) for v in self.values
        ):
            raise ValueError("a chart has one value per row and column")

    def table(self) -> Table:
        numbers = self.numbers or tuple(tuple(str(n) for n in row) for row in self.values)
        totals = [str(sum(row)) for row in self.values]
        if self.numbers:  # the totals in the language's digits too
            totals = [t[-1] for t in self.numbers]
            numbers = tuple(row[:-1] for row in self.numbers)
        return Table(
            (text(self.corner), *(text(c) for c in self.columns), text(self.total)),
            tuple(
                (text(name), *(text(n) for n in row), text(strong(total)))
                for name, row, total in zip(self.rows, numbers, totals, strict=True)
            ),
            (False, *([True] * (len(self.columns) + 1))),
        )


Node = Union[Heading, Paragraph, NumberedParagraph, BulletList, Table, Metadata, Annex, Chart]  # noqa: UP007


@dataclass(frozen=True)
class Document:
    title: str
    lang: str  # en, fr, es, ar
    direction: str  # ltr or rtl
    children: tuple[Node, ...] = field(default_factory=tuple)
    marking: Inline = ()  # the TLP label and audience, printed first (issue 14)
    # issue 23: printed on every page (HTML's @page margin boxes): the highest label's key
    # (clear, green, amber, amber+strict, red), the document symbol, and "Page {page} of
    # {pages}" in the document's language
    tlp: str = ""
    symbol: str = ""
    page_words: str = ""
