"""Month-by-month indicator series (:func:`service.store.indicator_series.monthly_indicators`)
laid out for the page: each chart's bars as SVG geometry, its data table, and the last month's
table of every indicator by group.

Charts are plain SVG drawn by the template from numbers computed here (no script, no library, no
style attribute: colours come from the stylesheet's ``serie-N`` classes). Every chart has a data
table beside it with the same figures, and a suppressed cell reads "masqué" in the tables,
never as a number; a suppressed month draws no bar.
"""

from __future__ import annotations

from typing import Any

GROUP_LABELS = {"F": "Femmes", "M": "Hommes", "X": "Autre genre", "not_stated": "Genre non renseigné",
                "total": "Total"}
SHARE_GROUPS = ("F", "M", "total")
"""Share charts draw these groups of each indicator (counts draw the total)."""
WIDTH, HEIGHT = 640, 240
LEFT, BOTTOM, TOP = 44, 28, 12
SERIES_MAX = 8
"""Colours of the stylesheet (``serie-0`` to ``serie-7``)."""


def month_label(month: str) -> str:
    """``2026-03`` -> ``03/2026``."""
    year, number = month.split("-")
    return f"{number}/{year}"


def cell(value: Any, hidden: bool, kind: str) -> dict[str, Any]:
    """One table cell: its text, and whether it was suppressed."""
    if hidden:
        return {"text": "masqué", "suppressed": True}
    if value is None:
        return {"text": "—", "suppressed": False}
    if kind == "share":
        return {"text": f"{round(100 * value)} %", "suppressed": False}
    return {"text": str(value), "suppressed": False}


def _series(document: dict[str, Any], chart: dict[str, Any]) -> list[dict[str, Any]]:
    series = []
    for name in chart["indicators"]:
        row = document["series"].get(name)
        if row is None:
            continue
        groups = SHARE_GROUPS if row["kind"] == "share" else ("total",)
        for group in groups:
            label = row["label"] if len(groups) == 1 else f"{row['label']} : {GROUP_LABELS[group]}"
            series.append({"name": name, "group": group, "label": label, "kind": row["kind"],
                           "values": row["values"][group], "suppressed": row["suppressed"][group]})
    return series[:SERIES_MAX]


def _ticks(top: float, kind: str) -> list[dict[str, Any]]:
    y0 = HEIGHT - BOTTOM
    ticks = []
    for step in range(5):
        value = top * step / 4
        text = f"{round(100 * value)} %" if kind == "share" else str(int(value))
        ticks.append({"y": round(y0 - (y0 - TOP) * step / 4, 1), "text": text})
    return ticks


def chart_view(key: str, chart: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """A chart's bars (SVG rectangles), legend and data table."""
    months = document["months"]
    series = _series(document, chart)
    kind = series[0]["kind"] if series else "count"
    numbers = [v for s in series for v, h in zip(s["values"], s["suppressed"], strict=True) if v is not None and not h]
    top = 1.0 if kind == "share" else max([4.0, *numbers])
    if kind != "share":
        top = float(-(-top // 4) * 4)  # a multiple of 4: whole numbers on the 5 ticks
    slot = (WIDTH - LEFT) / max(1, len(months))
    bar = slot * 0.8 / max(1, len(series))
    plot = HEIGHT - BOTTOM - TOP
    bars = []
    for position, month in enumerate(months):
        for index, item in enumerate(series):
            value, hidden = item["values"][position], item["suppressed"][position]
            if value is None or hidden or value <= 0:
                continue
            height = plot * value / top
            bars.append({"x": round(LEFT + position * slot + slot * 0.1 + index * bar, 1),
                         "y": round(HEIGHT - BOTTOM - height, 1), "width": round(bar, 1),
                         "height": round(height, 1), "serie": index,
                         "title": f"{month_label(month)}, {item['label']} : {cell(value, False, kind)['text']}"})
    every = 1 if len(months) <= 12 else 3
    labels = [{"x": round(LEFT + (position + 0.5) * slot, 1), "text": month_label(month)}
              for position, month in enumerate(months) if position % every == 0]
    rows = [{"month": month_label(month),
             "cells": [cell(s["values"][position], s["suppressed"][position], kind) for s in series]}
            for position, month in enumerate(months)]
    return {"key": key, "title": chart["title"], "series": series, "bars": bars, "labels": labels,
            "ticks": _ticks(top, kind), "rows": rows, "width": WIDTH, "height": HEIGHT,
            "left": LEFT, "baseline": HEIGHT - BOTTOM, "empty": not bars}


def latest_view(document: dict[str, Any]) -> dict[str, Any]:
    """The last month of the period: every indicator by group (rows ``data-indicator``)."""
    position = len(document["months"]) - 1
    rows = []
    for name, row in document["series"].items():
        rows.append({"name": name, "label": row["label"],
                     "cells": [{"group": group, **cell(row["values"][group][position],
                                                       row["suppressed"][group][position], row["kind"])}
                               for group in document["groups"]]})
    return {"month": month_label(document["months"][position]),
            "groups": [(group, GROUP_LABELS.get(group, group)) for group in document["groups"]],
            "rows": rows}


def page_view(document: dict[str, Any]) -> dict[str, Any]:
    """Everything the indicators page shows."""
    return {"charts": [chart_view(key, chart, document) for key, chart in document["charts"].items()],
            "latest": latest_view(document), "threshold": document["suppression_threshold"],
            "period": {"from": month_label(document["months"][0]), "to": month_label(document["months"][-1])},
            "synthetic": document.get("synthetic", False)}
