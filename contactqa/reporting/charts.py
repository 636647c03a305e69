"""Charts as inline SVG, drawn on the server: reports stay one self-contained file
that opens offline and prints, with no JavaScript and no CDN."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from contactqa.reporting.templates import format_pct

# Colour-blind-safe palette (Okabe–Ito), one colour per team.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


@dataclass
class Bar:
    label: str
    value: float | None  # 0-100
    low: float | None = None
    high: float | None = None
    group: str = ""
    note: str = ""  # e.g. "n=12", drawn after the value


def team_colours(groups: list[str]) -> dict[str, str]:
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(dict.fromkeys(groups))}


def score_bars_svg(
    bars: list[Bar], *, language: str, reference: float | None = None, reference_label: str = "",
    title: str = "", width: int = 1060, colours: dict[str, str] | None = None,
) -> Markup:
    """Horizontal bars (0-100 %) with confidence-interval whiskers and a dashed reference line."""
    row_h, bottom = 26, 34
    top = (34 if title else 10) + (16 if reference is not None else 0)
    label_w, value_w = 210, 120
    plot_w = width - label_w - value_w - 16
    height = top + row_h * max(len(bars), 1) + bottom
    colours = colours or team_colours([b.group for b in bars])

    def x(v: float) -> float:
        return label_w + plot_w * max(0.0, min(100.0, v)) / 100

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" font-family="inherit" font-size="12">'
    ]
    if title:
        out.append(f'<title>{escape(title)}</title>')
        out.append(f'<text x="0" y="16" font-size="14" font-weight="600" fill="#1f2937">{escape(title)}</text>')
    for tick in range(0, 101, 20):
        tx = x(tick)
        out.append(f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{height - bottom + 4}" '
                   f'stroke="#e5e7eb" stroke-width="1"/>')
        out.append(f'<text x="{tx:.1f}" y="{height - bottom + 18}" text-anchor="middle" fill="#6b7280">'
                   f'{escape(format_pct(tick, 0, language))}</text>')
    for i, bar in enumerate(bars):
        y = top + i * row_h
        cy = y + row_h / 2
        out.append(f'<text x="{label_w - 8}" y="{cy + 4:.1f}" text-anchor="end" fill="#111827">'
                   f'{escape(_clip(bar.label, 30))}</text>')
        if bar.value is None:
            out.append(f'<text x="{label_w + 4}" y="{cy + 4:.1f}" fill="#6b7280">—</text>')
            continue
        colour = colours.get(bar.group, PALETTE[0])
        out.append(f'<rect x="{label_w}" y="{y + 5}" width="{x(bar.value) - label_w:.1f}" height="{row_h - 10}" '
                   f'rx="2" fill="{colour}" fill-opacity="0.85"><title>{escape(bar.label)}: '
                   f'{escape(format_pct(bar.value, 1, language))}</title></rect>')
        if bar.low is not None and bar.high is not None:
            lx, hx = x(bar.low), x(bar.high)
            out.append(f'<g stroke="#111827" stroke-width="1.4"><line x1="{lx:.1f}" y1="{cy:.1f}" x2="{hx:.1f}" '
                       f'y2="{cy:.1f}"/><line x1="{lx:.1f}" y1="{cy - 6:.1f}" x2="{lx:.1f}" y2="{cy + 6:.1f}"/>'
                       f'<line x1="{hx:.1f}" y1="{cy - 6:.1f}" x2="{hx:.1f}" y2="{cy + 6:.1f}"/></g>')
        value_text = format_pct(bar.value, 1, language) + (f"  {bar.note}" if bar.note else "")
        out.append(f'<text x="{label_w + plot_w + 8}" y="{cy + 4:.1f}" fill="#111827">{escape(value_text)}</text>')
    if reference is not None:
        rx = x(reference)
        out.append(f'<line x1="{rx:.1f}" y1="{top - 6}" x2="{rx:.1f}" y2="{height - bottom + 2}" stroke="#dc2626" '
                   f'stroke-width="1.5" stroke-dasharray="5 4"/>')
        label = f"{reference_label} {format_pct(reference, 1, language)}".strip()
        anchor = "end" if reference > 60 else "start"
        dx = -4 if anchor == "end" else 4
        out.append(f'<text x="{rx + dx:.1f}" y="{top - 8}" text-anchor="{anchor}" fill="#dc2626">'
                   f'{escape(label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
