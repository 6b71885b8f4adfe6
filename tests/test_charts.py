"""Server-side SVG charts (techreform.charts): well-formed, offline, Chinese text in the CJK font, the
numbers placed where the data says."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from techreform import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def assert_offline(svg: str) -> None:
    # the only URL is the SVG namespace: no href, no image, no web font, no script
    urls = re.findall(r"https?://[^\"' )]+", svg)
    assert urls == ["http://www.w3.org/2000/svg"], urls
    for needle in ("href=", "<image", "@import", "url(", "<script"):
        assert needle not in svg


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def polyline_points(root: ET.Element, name: str) -> list[list[tuple[float, float]]]:
    runs = []
    for line in root.iter(f"{SVG}polyline"):
        if line.get("data-series") == name:
            runs.append([tuple(map(float, p.split(","))) for p in line.get("points", "").split()])
    return runs


def test_nice_ticks_cover_range_with_round_steps() -> None:
    ticks = charts.nice_ticks(0, 4870)
    assert ticks[0] == 0 and ticks[-1] >= 4870
    steps = {round(b - a, 6) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert steps == {1000.0}
    neg = charts.nice_ticks(-12.5, 31)
    assert neg[0] <= -12.5 and neg[-1] >= 31 and 0 in neg


def test_chart_labels_read_like_a_person_writes() -> None:
    assert charts.chart_label(2611.4164) == "2,611"
    assert charts.chart_label(261.4164) == "261.4"
    assert charts.chart_label(26.4164) == "26.42"
    assert charts.chart_label(None) == "—"
    assert charts.chart_label(12.0, 1) == "12.0"


def test_investment_trajectory_path_reaches_target_at_2015_end() -> None:
    periods = ["2011-12", "2012-12", "2013-06"]
    svg = charts.investment_trajectory(periods, [900.0, 1900.0, 2611.4164])
    assert_offline(svg)
    root = parse(svg)
    assert "Noto Sans CJK SC" in root.get("font-family", "")
    path = polyline_points(root, "序时路径（至2015年末5,000亿元）")
    assert len(path) == 1 and len(path[0]) == 61  # 2010-12 .. 2015-12
    (x0, y0), (x_end, y_end) = path[0][0], path[0][-1]
    assert y_end < y0  # rises to the target
    # the actual line: three points (2011-12, 2012-12, 2013-06) and 2010-12 at 0, broken by gaps
    actual = polyline_points(root, "累计完成")
    points = sorted(p for run in actual for p in run)
    circles = [(float(c.get("cx")), float(c.get("cy"))) for c in root.iter(f"{SVG}circle")]
    assert len(circles) == 4
    assert points == [] or len(points) <= 4
    # the point of 2013-06 lies below the path of 2013-06 (2611 > 30/60 × 5000 = 2500 → above: smaller y)
    x_2013_06 = x0 + (x_end - x0) * 30 / 60
    on_path = next(y for x, y in path[0] if abs(x - x_2013_06) < 0.2)
    actual_2013_06 = next(y for x, y in circles if abs(x - x_2013_06) < 0.2)
    assert actual_2013_06 < on_path
    assert "2,611" in texts(root)  # the last value written by its point
    assert "2013年末" in texts(root) and "2015年末" in texts(root)


def test_line_chart_breaks_at_missing_values_and_checks_lengths() -> None:
    svg = charts.line_chart(["1月", "2月", "3月", "4月"], [charts.Series("增速", [1.0, None, 3.0, 4.0])], title="测试")
    root = parse(svg)
    runs = polyline_points(root, "增速")
    assert [len(r) for r in runs] == [2]  # 3月–4月 joined; 1月 alone is only a marker
    assert len(list(root.iter(f"{SVG}circle"))) == 3
    with pytest.raises(ValueError):
        charts.line_chart(["1月"], [charts.Series("x", [1.0, 2.0])], title="t")


def test_empty_charts_say_no_data() -> None:
    for svg in (
        charts.line_chart([], [], title="空"),
        charts.column_chart(["1月"], [None], title="空"),
        charts.bar_chart(["兰州市"], [None], title="空"),
        charts.investment_trajectory([], []),
    ):
        assert_offline(svg)
        assert "本期无数据" in texts(parse(svg)) or "无数据" in svg


def test_column_chart_negative_values_below_zero_line() -> None:
    svg = charts.column_chart(["1月", "2月", "3月"], [12.5, -4.0, None], title="同比增长", unit="%")
    assert_offline(svg)
    root = parse(svg)
    bars = {r.get("data-category"): r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"}
    assert set(bars) == {"1月", "2月"}
    up, down = bars["1月"], bars["2月"]
    # the positive bar ends where the negative one starts: the zero line
    assert float(up.get("y")) + float(up.get("height")) == pytest.approx(float(down.get("y")), abs=0.11)
    assert float(up.get("height")) > float(down.get("height"))
    assert "12.5" in texts(root) and "-4.0" in texts(root) and "无数据" in texts(root)


def test_bar_chart_lengths_proportional_and_reference_line() -> None:
    svg = charts.bar_chart(["兰州市", "嘉峪关市"], [50.0, 100.0], title="报送率", unit="%", reference=("目标", 100.0))
    root = parse(svg)
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    widths = [float(b.get("width")) for b in bars]
    assert widths[1] == pytest.approx(2 * widths[0], rel=0.01)
    assert "兰州市" in texts(root) and "目标" in texts(root)


def test_lights_by_prefecture_stacks_segments() -> None:
    svg = charts.lights_by_prefecture(["兰州市", "天水市"], green=[5, 0], yellow=[2, 1], red=[3, 0])
    assert_offline(svg)
    root = parse(svg)
    segs = [
        (r.get("data-category"), r.get("data-series"), float(r.get("data-value")))
        for r in root.iter(f"{SVG}rect")
        if r.get("class") == "bar"
    ]
    assert segs == [("兰州市", "红灯", 3), ("兰州市", "黄灯", 2), ("兰州市", "绿灯", 5), ("天水市", "黄灯", 1)]
    assert "10" in texts(root)  # 兰州市's total
    assert charts.LIGHT_COLOURS["red"] in svg


def test_text_is_escaped() -> None:
    svg = charts.bar_chart(["A<&>B"], [1.0], title='标题 "<x>"')
    root = parse(svg)
    assert "A<&>B" in texts(root)
