"""Charts for the overview (issue #13): inline SVG made on the server, no JavaScript, no library.

Each chart is an `<svg role="img">` named by its `<title>` and summed up by its `<desc>`; every
bar carries its own `<title>` (a tooltip, and what a screen reader reads on it) and, when it has
one, a link to the queue filtered to it. Colours are presentation attributes, not `style`
(the CSP allows no inline style). The page also shows the same figures as a table.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
TEXT, TOTAL, DONE, AXIS = "#1b1b1b", "#b7c9e2", "#1f5fa8", "#767676"
FONT = 'font-family="sans-serif" font-size="12"'


@dataclass
class Bar:
    label: str  # shown beside the bar (cut to fit) and whole in its <title>
    total: int
    done: int = 0  # the darker part (decided); 0: a plain bar
    tip: str = ""  # the bar's <title>; default "label: total"
    href: str = ""  # where the bar links to ("" : no link)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _link(bar: Bar, inner: str) -> str:
    return f'<a href="{escape(bar.href)}">{inner}</a>' if bar.href else inner


def _frame(ident: str, title: str, desc: str, width: int, height: int, body: list[str]) -> Markup:
    # An image's children are presentational: with links inside, the chart is a named group
    # instead (axe: nested-interactive), so each bar's link stays reachable.
    role = "group" if any("<a " in part for part in body) else "img"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="{role}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby="{ident}-t {ident}-d" {FONT}>'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def bars(ident: str, title: str, desc: str, items: list[Bar], label_chars: int = 14) -> Markup:
    """Horizontal bars, one a row, longest first as given; `done` drawn over `total`."""
    row, label_w, right = 24, label_chars * 12 + 8, 64
    height = max(1, len(items)) * row + 8
    plot = WIDTH - label_w - right
    top = max((b.total for b in items), default=0) or 1
    body = []
    for i, b in enumerate(items):
        y = 4 + i * row
        w = round(plot * b.total / top, 1)
        d = round(plot * min(b.done, b.total) / top, 1)
        tip = b.tip or f"{b.label}: {b.total}"
        parts = [f"<title>{escape(tip)}</title>",
                 f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" fill="{TEXT}">{escape(_cut(b.label, label_chars))}</text>',
                 f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1 if b.total else 0)}" height="16" fill="{TOTAL}"/>']
        if d:
            parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{d}" height="16" fill="{DONE}"/>')
        value = f"{b.done:,} / {b.total:,}" if b.done else f"{b.total:,}"
        parts.append(f'<text x="{label_w + w + 4}" y="{y + 15}" fill="{TEXT}">{escape(value)}</text>')
        body.append("<g>" + _link(b, "".join(parts)) + "</g>")
    return _frame(ident, title, desc, WIDTH, height, body)


def columns(ident: str, title: str, desc: str, items: list[Bar], height: int = 180) -> Markup:
    """Vertical columns in the order given (days), the first, the last and some labels between
    shown under them; the highest value marked on the axis."""
    left, bottom, top_pad = 48, 22, 8
    plot_w, plot_h = WIDTH - left - 8, height - bottom - top_pad
    top = max((b.total for b in items), default=0) or 1
    n = max(1, len(items))
    step = plot_w / n
    every = max(1, round(n / 8))  # about eight labels however long the window
    body = [f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{WIDTH - 8}" y2="{top_pad + plot_h}" stroke="{AXIS}"/>',
            f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="{AXIS}"/>',
            f'<text x="{left - 4}" y="{top_pad + 10}" text-anchor="end" fill="{TEXT}">{top:,}</text>',
            f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" fill="{TEXT}">0</text>']
    for i, b in enumerate(items):
        h = round(plot_h * b.total / top, 1)
        x = round(left + i * step + step * 0.1, 1)
        parts = [f"<title>{escape(b.tip or f'{b.label}: {b.total}')}</title>",
                 f'<rect x="{x}" y="{round(top_pad + plot_h - h, 1)}" width="{round(max(step * 0.8, 0.5), 1)}" '
                 f'height="{h}" fill="{DONE}"/>']
        if i % every == 0 or i == n - 1:
            parts.append(f'<text x="{round(left + (i + 0.5) * step, 1)}" y="{height - 6}" text-anchor="middle" '
                         f'fill="{TEXT}">{escape(b.label)}</text>')
        body.append("<g>" + _link(b, "".join(parts)) + "</g>")
    return _frame(ident, title, desc, WIDTH, height, body)
