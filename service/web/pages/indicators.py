"""``/indicateurs``: the partnership indicators month by month, as charts with their data
tables, and their CSV (``/indicateurs.csv``).

Admins see all Missions Locales together; advisers and employer-relations staff their own
(as ``GET /v1/indicators``). The figures are :func:`~service.store.indicator_series.monthly_indicators`:
each month's cells are those ``/v1/indicators`` gives for that month, with the same small-cell
suppression (a count under 5 is "masqué", and the secondary suppression that protects it).
The period is chosen with two month fields (``debut``, ``fin``: ``AAAA-MM``), in the URL: it
names no person.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from matching.errors import OutOfRange
from service.store.indicator_series import MAX_MONTHS, monthly_indicators, monthly_indicators_csv
from service.web.core.auth import role
from service.web.core.templates import render
from service.web.pages.indicator_charts import page_view

router = APIRouter(include_in_schema=False)

Reader = Annotated[object, role("adviser", "employer_relations", "admin")]
Month = Annotated[str, Query(max_length=7)]
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def _month(text: str, field: str, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    found = _MONTH.fullmatch(text)
    if found is None or int(found.group(1)) < 2000:
        errors[field] = "Indiquez un mois au format AAAA-MM, par exemple 2026-03."
        return None
    return date(int(found.group(1)), int(found.group(2)), 1)


def _document(request: Request, principal, debut: str, fin: str) -> tuple[dict, dict[str, str]]:
    """The series of the period asked (the last 12 months when the period is refused)."""
    errors: dict[str, str] = {}
    start, end = _month(debut, "debut", errors), _month(fin, "fin", errors)
    scope = None if principal.role == "admin" else principal.mission_locale
    with request.app.state.read_sessions() as session:
        try:
            return monthly_indicators(session, mission_locale=scope, start=start, end=end), errors
        except OutOfRange as error:
            errors["debut"] = (f"La période va du mois de début au mois de fin, {MAX_MONTHS} mois au plus."
                               if "au plus" in error.message_fr
                               else "Le mois de début doit précéder le mois de fin.")
            return monthly_indicators(session, mission_locale=scope), errors


@router.get("/indicateurs")
def indicators_page(request: Request, principal: Reader, debut: Month = "", fin: Month = "") -> Response:
    """The charts, each with its data table, the last month by group, the CSV link."""
    document, errors = _document(request, principal, debut, fin)
    query = "&".join(f"{name}={value}" for name, value in (("debut", debut), ("fin", fin))
                     if value and name not in errors)
    return render(request, "indicateurs/page.html", {
        **page_view(document), "scope": document["mission_locale"], "errors": errors,
        "values": {"debut": debut, "fin": fin}, "csv_url": "/indicateurs.csv" + (f"?{query}" if query else ""),
    }, status_code=422 if errors else 200)


@router.get("/indicateurs.csv")
def indicators_csv(request: Request, principal: Reader, debut: Month = "", fin: Month = "") -> Response:
    """The month-by-month series as CSV (one row per month, indicator and group)."""
    document, _ = _document(request, principal, debut, fin)
    name = f"indicateurs-{document['mission_locale'] or 'toutes'}-{document['period']['from']}-{document['period']['to']}"
    return Response(monthly_indicators_csv(document), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
