"""File downloads of the pages (CSV and XLSX bytes written by :mod:`service.exports`)."""

from __future__ import annotations

from starlette.responses import Response

from service.exports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE

MEDIA_TYPES = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}


def download(body: bytes, extension: str, basename: str) -> Response:
    """An attachment named ``basename.extension`` (give no personal data in ``basename``)."""
    return Response(body, media_type=MEDIA_TYPES[extension],
                    headers={"Content-Disposition": f'attachment; filename="{basename}.{extension}"'})
