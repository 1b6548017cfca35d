"""Charts for mail and pages: PNG drawn with Pillow alone.

Why PNG and why Pillow: Gmail and Outlook for Windows show neither SVG nor ``data:`` images, and no
mail client runs JavaScript, so a chart in mail is a PNG part referenced by ``cid:``. matplotlib
would add about 168 MB and 0.3–0.45 s of import to a Lambda; Pillow is 22 MB, imports in 18 ms and
draws a simple chart in 17 ms (docs/measurement.md, "Charts in mail"). The font is Pillow's own
(``ImageFont.load_default``), so no font file ships and the same Pillow version draws the same bytes.

Every chart has an ``alt_text`` with its numbers, because mail clients block images by default.
"""

import io
import math
from collections.abc import Callable, Sequence
from functools import cache

from PIL import Image, ImageDraw, ImageFont

SIZE = (600, 300)
BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)  # titles, labels
MUTED = (108, 117, 125)  # tick labels
GRID = (222, 226, 230)
SERIES = (13, 110, 253)  # the post's curve, the bars
TARGET = (214, 51, 132)  # the target line: a colour nothing else uses, so it can be found
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 24, 44, 46
DASH, GAP = 8, 5
Y_TICKS = 5

Format = Callable[[float], str]


def plain(value: float) -> str:
    """1234 → "1,234"; 2.5 → "2.5"."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")


def percent(value: float) -> str:
    """A share as a percentage: 0.0234 → "2.34%"."""
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def per_thousand(value: float) -> str:
    """A share per 1,000 (engagements per 1,000 followers): 0.0234 → "23.4"."""
    return f"{value * 1000:.1f}"


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def nice_scale(top: float, ticks: int = Y_TICKS) -> tuple[float, float]:
    """A round axis maximum ≥ ``top`` and its tick step (1, 2, 2.5 or 5 × a power of ten)."""
    if top <= 0:
        return 1.0, 1.0 / ticks
    raw = top / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw - 1e-12)
    return step * math.ceil(top / step - 1e-9), step


class _Frame:
    """The plot area and the value → pixel mapping shared by both charts."""

    def __init__(
        self, size: tuple[int, int], title: str, x_label: str, y_label: str, top: float, fmt: Format
    ):
        self.image = Image.new("RGB", size, BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        self.width, self.height = size
        self.left, self.right = MARGIN_LEFT, self.width - MARGIN_RIGHT
        self.top, self.bottom = MARGIN_TOP, self.height - MARGIN_BOTTOM
        self.maximum, step = nice_scale(top)
        small, large = _font(11), _font(15)
        self.small = small
        self.draw.text((self.left, 10), title, font=large, fill=INK)
        self.draw.text((self.left, self.top - 16), y_label, font=small, fill=MUTED)
        self.draw.text(
            ((self.left + self.right) / 2, self.height - 8), x_label, font=small, fill=MUTED, anchor="md"
        )
        value = 0.0
        while value <= self.maximum + step / 2:
            y = self.y(value)
            self.draw.line([(self.left, y), (self.right, y)], fill=GRID, width=1)
            self.draw.text((self.left - 6, y), fmt(value), font=small, fill=MUTED, anchor="rm")
            value += step
        self.draw.line([(self.left, self.top), (self.left, self.bottom)], fill=INK, width=1)
        self.draw.line([(self.left, self.bottom), (self.right, self.bottom)], fill=INK, width=1)

    def y(self, value: float) -> int:
        share = min(max(value / self.maximum, 0.0), 1.0)
        return round(self.bottom - share * (self.bottom - self.top))

    def x_label(self, x: float, text: str) -> None:
        self.draw.text((x, self.bottom + 6), text, font=self.small, fill=INK, anchor="ma")

    def target(self, value: float, fmt: Format) -> None:
        y = self.y(value)
        x = self.left + 1
        while x < self.right:
            self.draw.line([(x, y), (min(x + DASH, self.right), y)], fill=TARGET, width=2)
            x += DASH + GAP
        self.draw.text((self.right, y - 3), f"target {fmt(value)}", font=self.small, fill=TARGET, anchor="rb")

    def png(self) -> bytes:
        out = io.BytesIO()
        self.image.save(out, format="PNG", optimize=False)  # no timestamps or text chunks: same bytes
        return out.getvalue()


def _top(values: Sequence[float | None], target: float | None) -> float:
    known = [v for v in values if v is not None]
    return max([*known, target or 0.0, 0.0]) * 1.08


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    y_label: str,
    target: float | None = None,
    x_label: str = "post age",
    fmt: Format = plain,
    size: tuple[int, int] = SIZE,
) -> bytes:
    """A post's goal metric across its snapshot ages, as a PNG.

    ``points`` are (age label, value) in age order; a None value is a missed snapshot: its age keeps
    its place on the axis and the line has a gap there (nothing is drawn that was not measured).
    Ages are spaced evenly, one step per snapshot, not in proportion to time: 1h, 24h, 72h and 7d
    would otherwise crowd into the left edge. ``target`` draws a dashed line."""
    if not points:
        raise ValueError("A line chart needs at least one age.")
    frame = _Frame(size, title, x_label, y_label, _top([v for _, v in points], target), fmt)
    span = frame.right - frame.left
    step = span / len(points)
    xs = [round(frame.left + step * (i + 0.5)) for i in range(len(points))]
    if target is not None:
        frame.target(target, fmt)
    previous: tuple[int, int] | None = None
    for x, (label, value) in zip(xs, points, strict=True):
        frame.x_label(x, label)
        if value is None:
            frame.draw.text((x, frame.bottom - 4), "missed", font=frame.small, fill=MUTED, anchor="md")
            previous = None
            continue
        here = (x, frame.y(value))
        if previous is not None:
            frame.draw.line([previous, here], fill=SERIES, width=3)
        previous = here
    for x, (_, value) in zip(xs, points, strict=True):
        if value is not None:
            y = frame.y(value)
            frame.draw.ellipse([(x - 4, y - 4), (x + 4, y + 4)], fill=SERIES)
            frame.draw.text((x, y - 8), fmt(value), font=frame.small, fill=INK, anchor="md")
    return frame.png()


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    y_label: str,
    target: float | None = None,
    x_label: str = "week",
    fmt: Format = plain,
    size: tuple[int, int] = SIZE,
) -> bytes:
    """One bar per period (for example ISO weeks, "2026-W47"), each labelled with its value."""
    if not bars:
        raise ValueError("A bar chart needs at least one bar.")
    frame = _Frame(size, title, x_label, y_label, _top([v for _, v in bars], target), fmt)
    step = (frame.right - frame.left) / len(bars)
    width = max(2, min(48, round(step * 0.6)))
    for i, (label, value) in enumerate(bars):
        x = round(frame.left + step * (i + 0.5))
        y = frame.y(value)
        if y < frame.bottom:
            frame.draw.rectangle([(x - width // 2, y), (x + width // 2, frame.bottom - 1)], fill=SERIES)
        frame.draw.text((x, y - 3), fmt(value), font=frame.small, fill=INK, anchor="md")
        frame.x_label(x, label)
    if target is not None:
        frame.target(target, fmt)
    return frame.png()


def alt_text(
    *,
    title: str,
    points: Sequence[tuple[str, float | None]],
    target: float | None = None,
    fmt: Format = plain,
) -> str:
    """The chart in words, for the ``alt`` attribute: "Engagements by post age: 1h 12, 24h 80,
    72h missed, 7d 140. Target 100: reached at 7d." """
    values = ", ".join(f"{label} {'missed' if value is None else fmt(value)}" for label, value in points)
    text = f"{title}: {values}."
    if target is not None:
        reached = [label for label, value in points if value is not None and value >= target]
        where = f"reached at {reached[0]}" if reached else "not reached"
        text += f" Target {fmt(target)}: {where}."
    return text
