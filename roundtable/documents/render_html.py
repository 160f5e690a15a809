"""Document tree -> a complete, self-contained HTML page that prints well on A4.  Pure.

Every text is HTML-escaped here (quotes too), every captured string (``tree.USER`` spans, and
the title, which names the session or event) is isolated in ``<bdi>`` so that no typed text
can turn the direction of what follows it (issue 19), there are no scripts, links or external
resources, and the page carries its language and direction (``lang="ar" dir="rtl"``).
Printing: ``@page`` A4 with margins, table headers in ``<thead>`` (repeated on every page),
rows and headings kept whole, dates and references in no-break spans.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

from roundtable.documents.render_md import clean, clean_span
from roundtable.documents.tree import (
    NOWRAP,
    STRONG,
    USER,
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
    Span,
    Table,
)

CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
body { font-family: 'DejaVu Serif', Georgia, 'Times New Roman', serif; max-width: 50em;
       margin: 2em auto; padding: 0 1em; line-height: 1.45; color: #111; }
p.tlp { font-family: sans-serif; font-size: .9em; letter-spacing: .03em; }
h1 { font-size: 1.5em; border-bottom: 2px solid #333; padding-bottom: .3em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #999; }
h3 { font-size: 1.05em; }
h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
table { border-collapse: collapse; margin: .6em 0; width: 100%; }
thead { display: table-header-group; }
tr, td, th { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #999; padding: .25em .5em; text-align: start; vertical-align: top; }
td.num, th.num { text-align: end; }
table.meta th { width: 12em; background: #f3f3f3; }
p.para { margin-inline-start: 2.2em; text-indent: -2.2em; }
p.para .n { display: inline-block; width: 2.2em; text-indent: 0; }
.nw { white-space: nowrap; }
section.annex { break-before: page; page-break-before: always; }
@media print { body { margin: 0; max-width: none; font-size: 10.5pt; } }
figure.chart { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; margin: .8em 0;
               break-inside: avoid; page-break-inside: avoid; }
figure.chart .chart-svg { flex: 0 0 auto; max-width: 100%; }
figure.chart svg { max-width: 100%; height: auto; }
figure.chart .chart-table { flex: 1 1 16em; }
figure.chart figcaption { flex-basis: 100%; font-size: .9em; color: #333; }
.tlp-label { font-family: 'DejaVu Sans Mono', monospace; font-weight: bold; background: #000;
             padding: .1em .45em; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
"""

TLP_COLOURS = {
    "clear": "#FFFFFF",
    "green": "#33FF00",
    "amber": "#FFC000",
    "amber+strict": "#FFC000",
    "red": "#FF2B2B",
}
"""FIRST's TLP 2.0: each label in its colour on black (#000)."""


def _css_string(value: str) -> str:
    """Text as a CSS string: quotes, backslashes and line breaks escaped; ``<`` too, so that
    nothing in it can close the ``<style>`` element."""
    out = []
    for ch in value:  # spaces kept as given (clean() would trim them)
        if ch in '"\\<>' or ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def page_css(doc: Document) -> str:
    """Every printed page's margins (CSS paged media): the TLP label in its colours on black
    at the top and the bottom, the document symbol at the top, and "Page x of y" at the
    bottom (issue 23)."""
    if not doc.tlp:
        return ""
    from roundtable.model import tlp_name

    colour = TLP_COLOURS.get(doc.tlp, "#FFC000")
    name = tlp_name(doc.tlp)
    label = _css_string(name)
    box = (
        f"content: {label}; color: {colour}; background: #000; width: {len(name) + 2}ch; "
        "text-align: center; "
        "font: bold 9pt 'DejaVu Sans Mono', monospace; padding: 0 2.5mm; "
        "print-color-adjust: exact; -webkit-print-color-adjust: exact; "
    )
    small = "font: 9pt 'DejaVu Sans', sans-serif; color: #111; "
    parts = [f"@top-left {{ {box} margin: 7mm 0 5mm 0; }}",
             f"@bottom-left {{ {box} margin: 6mm 0 6mm 0; }}"]  # fmt: skip
    if doc.symbol:
        parts.append(f"@top-right {{ content: {_css_string(doc.symbol)}; {small}}}")
    if doc.page_words:
        pieces = []
        for n, piece in enumerate(re.split(r"\{(page|pages)\}", doc.page_words)):
            if n % 2:
                pieces.append(f"counter({piece})")
            elif piece:
                pieces.append(_css_string(piece))
        parts.append(f"@bottom-right {{ content: {' '.join(pieces)}; {small}}}")
    return "@page { " + " ".join(parts) + " }"


def _badge(doc: Document) -> str:
    from roundtable.model import tlp_name

    colour = TLP_COLOURS.get(doc.tlp, "#FFC000")
    return f'<span class="tlp-label" style="color: {colour}">{_text(tlp_name(doc.tlp))}</span>'


def _text(value: str) -> str:
    return escape(clean(value), quote=True)


def inline(content: Inline) -> str:
    return "".join([_span(span) for span in content])


@lru_cache(maxsize=16384)
def _span(span: Span) -> str:
    """One span as HTML; a report repeats the same names, words and dates thousands of times
    (issue 23's 5,000-entry report), hence the cache."""
    value = escape(clean_span(span.text), quote=True)
    if span.style == STRONG:
        return f"<strong>{value}</strong>"
    if span.style == NOWRAP:
        return f'<span class="nw">{value}</span>'
    if span.style == USER and value.strip():
        # isolated: English text in an Arabic page keeps its full stop at its end
        lead, trail = value[: len(value) - len(value.lstrip())], value[len(value.rstrip()) :]
        return f"{lead}<bdi>{value.strip()}</bdi>{trail}"
    return value


def _cell(tag: str, content: Inline, numeric: bool) -> str:
    cls = ' class="num"' if numeric else ""
    return f"<{tag}{cls}>{inline(content) or '—'}</{tag}>"


def _node(node: Node, out: list[str], direction: str = "ltr") -> None:
    if isinstance(node, Heading):
        out.append(f"<h{node.level}>{inline(node.content)}</h{node.level}>")
    elif isinstance(node, Paragraph):
        out.append(f"<p>{inline(node.content)}</p>")
    elif isinstance(node, NumberedParagraph):
        out.append(
            f'<p class="para"><span class="n">{node.number}.</span>{inline(node.content)}</p>'
        )
    elif isinstance(node, BulletList):
        out.append("<ul>")
        out += [f"<li>{inline(item)}</li>" for item in node.items]
        out.append("</ul>")
    elif isinstance(node, Table):
        numeric = node.numeric or (False,) * len(node.header)
        out.append("<table>")
        head = "".join(_cell("th", c, numeric[i]) for i, c in enumerate(node.header))
        out.append(f"<thead><tr>{head}</tr></thead>")
        out.append("<tbody>")
        for row in node.rows:
            out.append(
                "<tr>" + "".join(_cell("td", c, numeric[i]) for i, c in enumerate(row)) + "</tr>"
            )
        out.append("</tbody></table>")
    elif isinstance(node, Chart):  # the SVG chart, the same numbers in a table beside it
        from roundtable.documents.chart import chart_svg

        out.append('<figure class="chart">')
        out.append(f'<div class="chart-svg">{chart_svg(node, direction)}</div>')
        out.append('<div class="chart-table">')
        _node(node.table(), out, direction)
        out.append("</div>")
        out.append(f"<figcaption>{_text(node.description)}</figcaption>")
        out.append("</figure>")
    elif isinstance(node, Metadata):
        out.append('<table class="meta"><tbody>')
        for label, value in node.rows:
            out.append(f'<tr><th scope="row">{_text(label)}</th><td>{inline(value)}</td></tr>')
        out.append("</tbody></table>")
    elif isinstance(node, Annex):
        out.append('<section class="annex">')
        out.append(f"<h2>{inline(node.title)}</h2>")
        for child in node.children:
            _node(child, out, direction)
        out.append("</section>")
    else:  # pragma: no cover - the tree has no other node
        raise TypeError(f"unknown node {type(node).__name__}")


def render_html(doc: Document) -> str:
    out = [
        "<!doctype html>",
        f'<html lang="{_text(doc.lang)}" dir="{_text(doc.direction)}">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{_text(doc.title)}</title>",
        f"<style>{CSS}{page_css(doc)}</style>",
        "</head>",
        "<body>",
        # the title holds captured text (a session's or an event's name): isolated whole
        f"<h1><bdi>{_text(doc.title)}</bdi></h1>",
    ]
    if doc.marking:  # the TLP label under the title (issue 14); the footer is the last node
        marking = doc.marking
        if doc.tlp and marking and marking[0].style == STRONG:  # in its colours (issue 23)
            out.append(f'<p class="tlp">{_badge(doc)}{inline(marking[1:])}</p>')
        else:
            out.append(f'<p class="tlp">{inline(marking)}</p>')
    for node in doc.children:
        _node(node, out, doc.direction)
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
