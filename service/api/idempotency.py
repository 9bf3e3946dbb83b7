"""``Idempotency-Key`` on the create routes: a retry answers as the first request did.

A client that got no answer (a timeout, a restart, a ``kill -9`` between the commit and the
response) sends the same request again with the same key. The create writes, in its own
transaction, a row of ``idempotency_keys``: the caller's key id, the key, the SHA-256 of the
request (method, route, path, query, body bytes), the answer's status and the created resource's
kind and id. So a create that committed always has its row, and the retry finds it:

- same key, same request: the original status, with the resource read again (erased or deleted
  since: 404, as for any missing resource); nothing more is written;
- same key, another request: 422 naming the header;
- two first requests at once with one key: one commits, the other answers 409 (retry it to get
  the first one's answer): the unique (key id, key) constraint allows no duplicate.

Keys are scoped to the caller's API key and kept 24 h (older rows are ignored, and pruned by the
next create). No body, profile or API key is stored; a youth's rows go with its erasure.
``POST /v1/keys`` ignores the header (a replay would have to show the clear key again), and
``POST /v1/suggestions`` stores nothing (a retry is harmless without a key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.api.deps import Caller, state
from service.api.problems import ApiError
from service.api.security import Principal
from service.store.columns import utcnow
from service.store.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEEP = timedelta(hours=24)
KEY_PATTERN = r"^[\x20-\x7e]{1,128}$"
Reader = Callable[[Session, Principal, str], BaseModel]
"""Read a created resource again for a replay (raises ``UnknownId`` when it is gone)."""


class Replay(Exception):
    """Answer a retry with what the first request answered (raised by the dependency)."""

    def __init__(self, status: int, content: Any):
        super().__init__(status)
        self.status, self.content = status, content


def install(app: FastAPI) -> None:
    """Register the handler that turns :class:`Replay` into the original answer."""

    @app.exception_handler(Replay)
    async def _replay(_request: Request, replay: Replay) -> JSONResponse:
        return JSONResponse(replay.content, status_code=replay.status, headers={REPLAYED_HEADER: "true"})


def now():
    """The clock of the 24 h window (tests move it)."""
    return utcnow()


async def request_hash(request: Request) -> str:
    """SHA-256 of the method, route template, path, query string and body bytes."""
    route = getattr(request.scope.get("route"), "path", "")
    digest = hashlib.sha256()
    for part in (request.method, route, request.url.path, request.url.query):
        digest.update(part.encode() + b"\0")
    digest.update(await request.body())
    return digest.hexdigest()


class Idempotency:
    """The request's key (None: no header) and hash; :meth:`record` keeps the answer."""

    def __init__(self, key: str | None, key_id: int, digest: str, status: int, kind: str):
        self.key, self.key_id, self.digest, self.status, self.kind = key, key_id, digest, status, kind

    def record(self, session: Session, resource_id: object, *, youth_id: str | None = None) -> None:
        """In the create's transaction: prune rows over 24 h, add this one (nothing without a key).

        Raises:
            ApiError: 409 when a concurrent request with the same key committed first.
        """
        if self.key is None:
            return
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now() - KEEP))
        session.add(IdempotencyKey(key_id=self.key_id, idempotency_key=self.key, request_hash=self.digest,
                                   status=self.status, resource_kind=self.kind,
                                   resource_id=str(resource_id), youth_id=youth_id, created_at=now()))
        try:
            session.flush()
        except IntegrityError as error:
            if "idempotency_key" not in str(error.orig):
                raise
            raise ApiError(409, f"a request with this {HEADER} was applied meanwhile: send it again "
                           "to get its answer",
                           f"une demande avec cette {HEADER} vient d'être appliquée : renvoyez-la "
                           "pour obtenir sa réponse", field=HEADER) from None


def _found(session: Session, key_id: int, key: str) -> IdempotencyKey | None:
    return session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.key_id == key_id, IdempotencyKey.idempotency_key == key,
        IdempotencyKey.created_at >= now() - KEEP))


def idempotent(kind: str, reader: Reader) -> Any:
    """The dependency of a create route: replay a known key, refuse a reused one, or hand the
    route an :class:`Idempotency` whose :meth:`~Idempotency.record` it calls in its transaction."""

    def dependency(request: Request, principal: Caller, digest: Annotated[str, Depends(request_hash)],
                   key: Annotated[str | None, Header(
                       alias=HEADER, pattern=KEY_PATTERN, max_length=128,
                       description="1-128 printable ASCII characters. A retry with the same key and "
                       "body within 24 h answers as the first request did and writes nothing more; "
                       "the same key with another body answers 422.")] = None) -> Idempotency:
        status = getattr(request.scope.get("route"), "status_code", None) or 200
        idempotency = Idempotency(key, principal.key_id, digest, status, kind)
        if key is None:
            return idempotency
        st = state(request)
        with st.read_sessions() as session:
            row = _found(session, principal.key_id, key)
            if row is None:
                return idempotency
            if row.request_hash != digest:
                raise ApiError(422, f"{HEADER}: this key was used for another request: use a new key "
                               "for a new request",
                               f"en-tête « {HEADER} » : cette clé a servi pour une autre demande : "
                               "utilisez une nouvelle clé pour une nouvelle demande", field=HEADER)
            original, resource_id = row.status, row.resource_id
        with st.sessions.begin() as session:  # a read that may write its audit line
            content = jsonable_encoder(reader(session, principal, resource_id))
        raise Replay(original, content)

    return Depends(dependency)
