"""One dashboard layout for every BI tool: charts flow left to right in rows of twelfths.

Metabase places cards on a 24-column grid and Superset puts charts in 12-column rows; both
are derived from these rows so a dashboard looks the same in each.
"""

from __future__ import annotations

from cxw.bi.spec import Chart

GRID = 12
_DEFAULT_WIDTH = {"number": 3, "table": 12, "heatmap": 12}
_HEIGHT = {"number": "small", "table": "tall", "heatmap": "tall"}


def width(chart: Chart) -> int:
    """The chart's width in twelfths (the spec's `width`, else by chart type)."""
    return chart.width or _DEFAULT_WIDTH.get(chart.type, 6)


def height_class(chart: Chart) -> str:
    """small (a number), medium (a plot) or tall (a table or heatmap)."""
    return _HEIGHT.get(chart.type, "medium")


def rows(charts: tuple[Chart, ...] | list[Chart]) -> list[list[tuple[Chart, int]]]:
    """Charts packed into rows, in spec order: each row is [(chart, width), ...] summing to <= 12."""
    out: list[list[tuple[Chart, int]]] = []
    used = GRID
    for chart in charts:
        w = width(chart)
        if used + w > GRID:
            out.append([])
            used = 0
        out[-1].append((chart, w))
        used += w
    return out
