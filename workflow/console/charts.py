"""Bar charts drawn on the server as SVG: no script, no CDN, readable without colour.

Every label is escaped; bars are scaled to the largest value; each bar carries its number.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

ROW = 26
LABEL_WIDTH = 300
BAR_WIDTH = 360


def bars(title: str, rows: Sequence[tuple[str, int]], *, tone: str = "ok") -> Markup:
    """A horizontal bar chart of ``rows`` (label, value), titled ``title``."""
    height = ROW * max(len(rows), 1) + 34
    width = LABEL_WIDTH + BAR_WIDTH + 60
    top = max((v for _, v in rows), default=0) or 1
    parts = [
        f'<svg class="chart {escape(tone)}" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="18" class="chart-title">{escape(title)}</text>',
    ]
    if not rows:
        parts.append('<text x="0" y="44">无数据 (nothing to show)</text>')
    for i, (label, value) in enumerate(rows):
        y = 30 + i * ROW
        length = round(BAR_WIDTH * value / top)
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end">{escape(label)}</text>')
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{max(length, 1)}" height="{ROW - 8}" class="bar"/>'
        )
        parts.append(f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 17}">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
