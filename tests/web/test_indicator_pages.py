"""``/indicateurs``: charts with their data tables, the last month by group with suppressed and
counted cells as ``/v1/indicators`` gives them, the CSV; each role's scope."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from web_helpers import create_youth, csrf_of, sign_in


def _cell(html: str, indicator: str, group: str) -> tuple[str, str]:
    row = re.search(rf'<tr data-indicator="{indicator}">(.*?)</tr>', html, re.S).group(1)
    found = re.search(rf'<td data-group="{group}" data-suppressed="(\w+)">([^<]*)</td>', row)
    return found.group(1), found.group(2).strip()


def _record(web, youth_id: str, count: int, status: str) -> None:
    page = web.client.get(f"/jeunes/{youth_id}/suggestions")
    ids = re.findall(r'name="suggestion_id" value="(\d+)"', page.text)
    token = csrf_of(page.text)
    for suggestion_id in list(dict.fromkeys(ids))[:count]:
        done = web.client.post(f"/jeunes/{youth_id}/suivi",
                               data={"csrf_token": token, "suggestion_id": suggestion_id, "status": status})
        assert done.status_code == 200


def test_indicators_show_suppressed_and_counted_cells_like_the_api(web):
    sign_in(web.client, web.keys["adviser"])
    youth_id = create_youth(web)
    _record(web, youth_id, 2, "contacted")  # 2 this month: suppressed
    page = web.client.get("/indicateurs")
    assert page.status_code == 200
    assert "Indicateurs de ML-METZ" in page.text
    assert "<script" not in page.text.split("</head>")[1] and "style=" not in page.text
    month = date.today().replace(day=1).isoformat()
    api = web.client.get("/v1/indicators", headers=web.as_("adviser"), params={"from": month}).json()
    seen = {True: 0, False: 0}
    for name, row in api["indicators"].items():
        for group in ("F", "M", "total"):
            suppressed, text = _cell(page.text, name, group)
            hidden = group in row["suppressed"]
            assert suppressed == ("true" if hidden else "false"), (name, group)
            if hidden:
                assert text == "masqué"
            elif row["kind"] == "count" and row["values"][group] is not None:
                assert text == str(row["values"][group]), (name, group)
                seen[False] += 1
            seen[True] += hidden
    assert seen[True] and seen[False]
    assert _cell(page.text, "outcomes_contacted", "total") == ("true", "masqué")
    charts = re.findall(r'<svg viewBox="0 0 640 240" class="chart__svg" role="img"', page.text)
    assert len(charts) == len(re.findall(r'<table data-chart="', page.text)) >= 5


def test_indicators_csv_and_period(web):
    sign_in(web.client, web.keys["er"])
    page = web.client.get("/indicateurs", params={"debut": "2026-01", "fin": "2026-03"})
    assert page.status_code == 200 and "de 01/2026 à 03/2026" in page.text
    link = re.search(r'href="(/indicateurs\.csv[^"]*)" id="export-csv"', page.text).group(1)
    assert link == "/indicateurs.csv?debut=2026-01&amp;fin=2026-03"
    exported = web.client.get("/indicateurs.csv", params={"debut": "2026-01", "fin": "2026-03"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {row["month"] for row in rows} == {"2026-01", "2026-02", "2026-03"}
    assert {row["mission_locale"] for row in rows} == {"ML-METZ"}
    assert all(row["value"] == "" for row in rows if row["suppressed"] == "true")
    bad = web.client.get("/indicateurs", params={"debut": "2026-05", "fin": "2026-01"})
    assert bad.status_code == 422 and 'id="debut-error"' in bad.text
    assert web.client.get("/indicateurs", params={"debut": "mars"}).status_code == 422


def test_admin_sees_all_and_batch_cannot_sign_in(web):
    sign_in(web.client, web.keys["admin"])
    page = web.client.get("/indicateurs")
    assert page.status_code == 200 and "de toutes les Missions Locales" in page.text
    rows = list(csv.DictReader(io.StringIO(web.client.get("/indicateurs.csv").text)))
    assert {row["mission_locale"] for row in rows} == {""}
    assert web.client.get("/offres").status_code == 403
    assert sign_in(web.client, web.keys["batch"]).status_code == 403


def test_a_suppressed_month_draws_no_bar_and_reads_masque():
    from service.web.pages.indicator_charts import page_view

    groups = ["F", "M", "X", "not_stated", "total"]
    document = {"months": ["2026-01", "2026-02"], "groups": groups, "suppression_threshold": 5,
                "charts": {"youths": {"title": "Jeunes accompagnés", "indicators": ["youths"]}},
                "series": {"youths": {"label": "Jeunes", "kind": "count",
                                      "values": {g: [None, 13] for g in groups},
                                      "suppressed": {g: [True, False] for g in groups}}}}
    view = page_view(document)
    chart = view["charts"][0]
    assert [bar["title"] for bar in chart["bars"]] == ["02/2026, Jeunes : 13"]
    assert [row["cells"][0]["text"] for row in chart["rows"]] == ["masqué", "13"]
    assert view["latest"]["rows"][0]["cells"][-1] == {"group": "total", "text": "13", "suppressed": False}
    assert chart["ticks"][-1]["text"] == "16"  # whole numbers on the axis
