"""Charts: real PNGs of the promised size, a dashed target line where the target is, gaps where a
snapshot was missed, the same bytes every time, and alt text with the numbers."""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from greenlight.metrics import charts
from PIL import Image

SHARED = Path(__file__).resolve().parents[3] / "shared"
POINTS: list[tuple[str, float | None]] = [("1h", 12), ("24h", 80), ("72h", None), ("7d", 140)]
WIDTH, HEIGHT = charts.SIZE
BOTTOM = HEIGHT - charts.MARGIN_BOTTOM
PLOT = BOTTOM - charts.MARGIN_TOP
STEP = (WIDTH - charts.MARGIN_RIGHT - charts.MARGIN_LEFT) / len(POINTS)
XS = [round(charts.MARGIN_LEFT + STEP * (i + 0.5)) for i in range(len(POINTS))]


def image(png: bytes) -> Image.Image:
    parsed = Image.open(io.BytesIO(png))
    assert parsed.format == "PNG"
    return parsed.convert("RGB")


def row_count(img: Image.Image, y: int, colour: tuple[int, int, int]) -> int:
    return sum(1 for x in range(img.width) if img.getpixel((x, y)) == colour)


def column_count(img: Image.Image, x: int, colour: tuple[int, int, int]) -> int:
    return sum(1 for y in range(img.height) if img.getpixel((x, y)) == colour)


def test_line_chart_is_a_600_by_300_png_with_the_target_line_at_its_value() -> None:
    img = image(charts.line_chart(POINTS, title="Engagements by post age", y_label="engagements", target=100))
    assert img.size == (600, 300)
    # Values up to 140, target 100: the axis runs to 200, so 100 is half way up the plot.
    target_y = round(BOTTOM - 0.5 * PLOT)
    rows = {y: row_count(img, y, charts.TARGET) for y in range(target_y - 2, target_y + 3)}
    dashed = max(rows.values())
    plot_width = WIDTH - charts.MARGIN_LEFT - charts.MARGIN_RIGHT
    assert 0.45 * plot_width < dashed < 0.8 * plot_width, f"target row pixels {rows}: not a dashed line"
    # Dashes, not a solid line: along the target row the colour starts and stops many times.
    y = max(rows, key=lambda r: rows[r])
    changes = sum(
        1
        for x in range(charts.MARGIN_LEFT, WIDTH - charts.MARGIN_RIGHT - 80)
        if (img.getpixel((x, y)) == charts.TARGET) != (img.getpixel((x + 1, y)) == charts.TARGET)
    )
    assert changes > 40


def test_no_target_no_target_line() -> None:
    img = image(charts.line_chart(POINTS, title="Engagements", y_label="engagements"))
    assert all(row_count(img, y, charts.TARGET) == 0 for y in range(img.height))


def test_the_curve_joins_measured_ages_and_leaves_a_gap_at_a_missed_one() -> None:
    img = image(charts.line_chart(POINTS, title="Engagements", y_label="engagements", target=100))
    between_1h_and_24h = (XS[0] + XS[1]) // 2
    between_24h_and_72h = (XS[1] + XS[2]) // 2
    between_72h_and_7d = (XS[2] + XS[3]) // 2
    assert column_count(img, between_1h_and_24h, charts.SERIES) > 0
    assert column_count(img, between_24h_and_72h, charts.SERIES) == 0
    assert column_count(img, between_72h_and_7d, charts.SERIES) == 0
    # The 7d point itself is drawn, at its height (140 of 200).
    assert img.getpixel((XS[3], round(BOTTOM - 0.7 * PLOT))) == charts.SERIES


def test_the_same_chart_is_the_same_bytes() -> None:
    first = charts.line_chart(POINTS, title="t", y_label="y", target=100)
    assert first == charts.line_chart(POINTS, title="t", y_label="y", target=100)
    assert first != charts.line_chart(POINTS, title="t", y_label="y", target=90)


def test_rate_chart_with_percent_ticks() -> None:
    points: list[tuple[str, float | None]] = [("1h", 0.004), ("24h", 0.018), ("7d", 0.0234)]
    img = image(
        charts.line_chart(points, title="Engagement rate", y_label="rate", target=0.02, fmt=charts.percent)
    )
    assert img.size == (600, 300)
    assert any(row_count(img, y, charts.TARGET) > 150 for y in range(img.height))


def test_bar_chart_draws_one_bar_per_week_and_nothing_for_zero() -> None:
    bars = [("2026-W45", 320.0), ("2026-W46", 410.0), ("2026-W47", 0.0), ("2026-W48", 512.0)]
    img = image(charts.bar_chart(bars, title="Engagements per week", y_label="engagements"))
    assert img.size == (600, 300)
    step = (WIDTH - charts.MARGIN_RIGHT - charts.MARGIN_LEFT) / len(bars)
    centres = [round(charts.MARGIN_LEFT + step * (i + 0.5)) for i in range(len(bars))]
    heights = [column_count(img, x, charts.SERIES) for x in centres]
    # Axis to 600: bars of 320, 410, 0 and 512 are that share of the plot's height (±1 pixel).
    for (_, value), height in zip(bars, heights, strict=True):
        assert abs(height - round(value / 600 * PLOT)) <= 1, (value, height)


def test_bar_chart_can_show_a_goal() -> None:
    img = image(charts.bar_chart([("W1", 3.0), ("W2", 5.0)], title="t", y_label="y", target=4))
    assert any(row_count(img, y, charts.TARGET) > 150 for y in range(img.height))


@pytest.mark.parametrize(
    ("top", "maximum", "step"),
    [
        (151.2, 200, 50),
        (0.0254, 0.03, 0.01),
        (9, 10, 2),
        (1, 1, 0.2),
        (0, 1, 0.2),
        (1234, 1250, 250),
        (1251, 1500, 500),
    ],
)
def test_nice_scale(top: float, maximum: float, step: float) -> None:
    assert charts.nice_scale(top) == (pytest.approx(maximum), pytest.approx(step))


def test_alt_text_reads_the_numbers_and_the_target() -> None:
    assert (
        charts.alt_text(title="Engagements by post age", points=POINTS, target=100)
        == "Engagements by post age: 1h 12, 24h 80, 72h missed, 7d 140. Target 100: reached at 7d."
    )
    assert charts.alt_text(
        title="Engagement rate", points=[("1h", 0.004), ("24h", 0.018)], target=0.02, fmt=charts.percent
    ) == ("Engagement rate: 1h 0.4%, 24h 1.8%. Target 2%: not reached.")


def test_value_formats() -> None:
    assert [charts.plain(1234), charts.plain(2.5), charts.percent(0.0234), charts.per_thousand(0.0234)] == [
        "1,234",
        "2.5",
        "2.34%",
        "23.4",
    ]


def test_empty_charts_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        charts.line_chart([], title="t", y_label="y")
    with pytest.raises(ValueError, match="at least one"):
        charts.bar_chart([], title="t", y_label="y")


def test_only_the_charts_module_loads_pillow() -> None:
    code = (
        "import sys\n"
        "import greenlight.metrics.ages, greenlight.metrics.figures, greenlight.metrics.results\n"
        "import greenlight.metrics.clicks, greenlight.metrics.mime\n"
        "assert 'PIL' not in sys.modules, 'Pillow loaded without a chart'\n"
        "assert 'jinja2' not in sys.modules, 'the template engine loaded for metrics'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(SHARED)},
    )
    assert done.returncode == 0, done.stderr
