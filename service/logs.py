"""Logs without personal data: one filter for every log record, and the server's log set-up.

Personal data could reach the log (standard error) by three roads, each closed here:

- **Raw paths**: uvicorn's access log prints ``DELETE /v1/youths/<id>``. Its records are
  dropped; the application logs one line per request with the route template instead
  (:class:`~service.api.middleware.RequestContext`), and ``passerelle serve`` turns uvicorn's
  access log off.
- **SQL parameters**: engines are made with ``hide_parameters=True``
  (:func:`~service.store.db.make_engine`); should another engine echo anyway, SQLAlchemy's
  parameter records are dropped and ``[parameters: ...]`` is cut from any message.
- **Exception messages**: a database error quotes the row (PostgreSQL's ``DETAIL: Key
  (id)=(...)``), a validation error the value. A record's traceback is re-rendered with frames
  and exception types only (:func:`redacted_traceback`); ``DETAIL:`` lines are cut.

:func:`install_log_filter` puts :class:`PersonalDataFilter` on the loggers and handlers that
exist (the app and the CLI call it); :func:`server_log_config` is the ``logging.config`` document
of ``passerelle serve``, whose one handler carries the filter.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

ACCESS_LOGGER = "passerelle.access"
_LOGGERS = ("", "passerelle", "passerelle.api", "passerelle.access", "passerelle.live",
            "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.engine.Engine", "sqlalchemy.pool",
            "uvicorn", "uvicorn.error", "uvicorn.access", "asyncio")
_PARAMETERS = re.compile(r"\[parameters: .*?(?=\n\(Background on this error|\Z)", re.S)
_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.M)
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _type_name(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def redacted_traceback(error: BaseException, _seen: set[int] | None = None) -> str:
    """The traceback of ``error`` and of its causes, like Python prints it, without messages.

    Frames (file, line, function, source line) and exception types only: an exception's
    message may quote request data (a profile value, SQL parameters), so it is withheld.
    """
    seen = _seen if _seen is not None else set()
    seen.add(id(error))
    text = ""
    cause, context = error.__cause__, error.__context__
    if cause is not None and id(cause) not in seen:
        text = redacted_traceback(cause, seen) + \
            "\nThe above exception was the direct cause of the following exception:\n\n"
    elif context is not None and not error.__suppress_context__ and id(context) not in seen:
        text = redacted_traceback(context, seen) + \
            "\nDuring handling of the above exception, another exception occurred:\n\n"
    frames = "".join(traceback.format_tb(error.__traceback__))
    return (f"{text}Traceback (most recent call last):\n{frames}"
            f"{_type_name(error)}: (message withheld: it may quote request data)\n")


def scrub(message: str) -> str:
    """``message`` without SQL parameters and without database ``DETAIL:`` lines."""
    message = _PARAMETERS.sub("[parameters: withheld]", message)
    return _DETAIL.sub(r"\1 (withheld)", message)


class PersonalDataFilter(logging.Filter):
    """Drop uvicorn access lines and SQL parameter lines; scrub messages and tracebacks.

    Changes the record in place (so every handler after it gets the clean record) and is
    idempotent: a record that went through it once passes unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access":
            return False  # raw paths carry ids; RequestContext logs the route template instead
        if record.name.startswith("uvicorn") and record.levelno < logging.DEBUG:
            return False  # uvicorn's TRACE lines print each request's scope, path included
        if record.name.startswith("sqlalchemy.engine") and record.args:
            return False  # "[generated in ...] (parameters)", "Row (...)"
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: keep its template only
            message = str(record.msg)
        clean = scrub(message)
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            clean = f"{clean}\n{redacted_traceback(error).rstrip()}"
        if clean != message or error is not None or record.exc_text:
            record.msg, record.args = clean, None
            record.exc_info, record.exc_text = None, None
        return True


_FILTER = PersonalDataFilter()


def _add(target: logging.Filterer) -> None:
    if not any(isinstance(f, PersonalDataFilter) for f in target.filters):
        target.addFilter(_FILTER)


def install_log_filter() -> None:
    """Put :class:`PersonalDataFilter` on the known loggers and on every handler they have now.

    A logger's filter sees only the records made on that very logger; a handler's sees every
    record it writes: both are needed. Idempotent.
    """
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        _add(logger)
        for handler in logger.handlers:
            _add(handler)
    if logging.lastResort is not None:
        _add(logging.lastResort)


def server_log_config(level: str = "INFO") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` document of ``passerelle serve`` (uvicorn's ``log_config``).

    One handler, standard error, with the filter; the access lines are the application's
    (``passerelle.access``, route templates), uvicorn's own are off.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"personal_data": {"()": PersonalDataFilter}},
        "formatters": {"plain": {"format": FORMAT}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "plain", "filters": ["personal_data"]}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "passerelle": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
