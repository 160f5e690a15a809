"""The report's chart as SVG, drawn here on the server side (issue 23): no JavaScript, vector
for print, readable in greyscale (each region has its own pattern as well as its own shade,
every bar ends with its total, and the same numbers stand in the table beside it).  Pure."""

from __future__ import annotations

from html import escape

from roundtable.documents.tree import Chart

# one pattern per column (region): fill, and what is drawn over it
_PATTERNS = (
    ("#1a1a1a", ""),  # solid dark
    ("#ffffff", '<path d="M0,6 L6,0" stroke="#000" stroke-width="1.4"/>'),  # diagonal
    ("#d9d9d9", '<circle cx="3" cy="3" r="1.3" fill="#000"/>'),  # dots
    ("#ffffff", '<path d="M0,1.5 H6 M0,4.5 H6" stroke="#000" stroke-width="1"/>'),  # lines
    ("#8c8c8c", '<path d="M0,0 L6,6 M6,0 L0,6" stroke="#fff" stroke-width="1"/>'),  # cross
    ("#ffffff", '<path d="M3,0 V6" stroke="#000" stroke-width="1.4"/>'),  # vertical
)
LABEL_W = 190
BAR_W = 300
TOTAL_W = 46
ROW_H = 22
BAR_H = 14


def _t(value: object) -> str:
    return escape(str(value), quote=True)


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def chart_svg(chart: Chart, direction: str = "ltr") -> str:
    """A horizontal bar per row (a crime area), stacked by column (a region)."""
    width = LABEL_W + BAR_W + TOTAL_W
    top = 6
    legend_rows = (len(chart.columns) + 2) // 3
    height = top + ROW_H * len(chart.rows) + 14 + 18 * legend_rows + 4
    most = max((sum(row) for row in chart.values), default=0) or 1
    scale = BAR_W / most
    rtl = direction == "rtl"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="DejaVu Sans, sans-serif" font-size="11" direction="ltr">',
        f"<title>{_t(chart.description)}</title>",
        "<defs>",
    ]
    for n, (fill, over) in enumerate(_PATTERNS):
        out.append(
            f'<pattern id="rt-chart-p{n}" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="{fill}"/>{over}</pattern>'
        )
    out.append("</defs>")
    for r, (name, row) in enumerate(zip(chart.rows, chart.values, strict=True)):
        y = top + r * ROW_H
        anchor, lx = ("start" if rtl else "end"), LABEL_W - 6  # right-aligned by the bar
        flow = ' direction="rtl"' if rtl else ""
        out.append(
            f'<text x="{lx}" y="{y + BAR_H - 3}" text-anchor="{anchor}"{flow}>'
            f"{_t(_short(name))}</text>"
        )
        x = float(LABEL_W)
        for c, count in enumerate(row):
            if not count:
                continue
            w = count * scale
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_H}" '
                f'fill="url(#rt-chart-p{c % len(_PATTERNS)})" stroke="#000" stroke-width=".6">'
                f"<title>{_t(chart.columns[c])}: {count}</title></rect>"
            )
            x += w
        out.append(
            f'<text x="{x + 4:.1f}" y="{y + BAR_H - 3}" font-weight="bold">{sum(row)}</text>'
        )
    y = top + ROW_H * len(chart.rows) + 10
    for c, column in enumerate(chart.columns):
        lx = 6 + (c % 3) * ((width - 12) // 3)
        ly = y + (c // 3) * 18
        out.append(
            f'<rect x="{lx}" y="{ly}" width="14" height="11" '
            f'fill="url(#rt-chart-p{c % len(_PATTERNS)})" stroke="#000" stroke-width=".6"/>'
            f'<text x="{lx + 19}" y="{ly + 10}">{_t(_short(column, 26))}</text>'
        )
    out.append("</svg>")
    return "".join(out)
