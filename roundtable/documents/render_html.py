"""Document tree -> a complete, self-contained HTML page that prints well on A4.  Pure.

Every text is HTML-escaped here (quotes too), every captured string (``tree.USER`` spans, and
the title, which names the session or event) is isolated in ``<bdi>`` so that no typed text
can turn the direction of what follows it (issue 19), there are no scripts, links or external
resources, and the page carries its language and direction (``lang="ar" dir="rtl"``).
Printing: ``@page`` A4 with margins, table headers in ``<thead>`` (repeated on every page),
rows and headings kept whole, dates and references in no-break spans.
"""

from __future__ import annotations

from html import escape

from roundtable.documents.render_md import clean, clean_span
from roundtable.documents.tree import (
    NOWRAP,
    STRONG,
    USER,
    Annex,
    BulletList,
    Document,
    Heading,
    Inline,
    Metadata,
    Node,
    NumberedParagraph,
    Paragraph,
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
"""


def _text(value: str) -> str:
    return escape(clean(value), quote=True)


def inline(content: Inline) -> str:
    out = []
    for span in content:
        value = escape(clean_span(span.text), quote=True)
        if span.style == STRONG:
            out.append(f"<strong>{value}</strong>")
        elif span.style == NOWRAP:
            out.append(f'<span class="nw">{value}</span>')
        elif span.style == USER and value.strip():
            # isolated: English text in an Arabic page keeps its full stop at its end
            lead, trail = value[: len(value) - len(value.lstrip())], value[len(value.rstrip()) :]
            out.append(f"{lead}<bdi>{value.strip()}</bdi>{trail}")
        else:
            out.append(value)
    return "".join(out)


def _cell(tag: str, content: Inline, numeric: bool) -> str:
    cls = ' class="num"' if numeric else ""
    return f"<{tag}{cls}>{inline(content) or '—'}</{tag}>"


def _node(node: Node, out: list[str]) -> None:
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
    elif isinstance(node, Metadata):
        out.append('<table class="meta"><tbody>')
        for label, value in node.rows:
            out.append(f'<tr><th scope="row">{_text(label)}</th><td>{inline(value)}</td></tr>')
        out.append("</tbody></table>")
    elif isinstance(node, Annex):
        out.append('<section class="annex">')
        out.append(f"<h2>{inline(node.title)}</h2>")
        for child in node.children:
            _node(child, out)
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
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        # the title holds captured text (a session's or an event's name): isolated whole
        f"<h1><bdi>{_text(doc.title)}</bdi></h1>",
    ]
    if doc.marking:  # the TLP label under the title (issue 14); the footer is the last node
        out.append(f'<p class="tlp">{inline(doc.marking)}</p>')
    for node in doc.children:
        _node(node, out)
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
