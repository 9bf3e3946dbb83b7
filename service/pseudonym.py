"""The key of youth pseudonyms in batch exports, and the keyed references of candidate cards.

``PASSERELLE_PSEUDONYM_KEY`` (read by :mod:`service.config`) when set; otherwise a random key
generated on first use and kept in the data home (``secrets/pseudonym.key``, mode 0600), so the
same youth gets the same pseudonym in every export of that data home. Whoever holds the key
can re-identify youths from their pseudonyms: keep it with the data, never with the exports.

The same key signs the ``candidate_ref`` of shortlist cards (:func:`candidate_ref`): a reference
that stands for one youth on one vacancy's shortlist, which the adviser resolves to the youth
(``POST /v1/shares``) and which says nothing to anyone without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from service.config import Settings

KEY_FILE = Path("secrets") / "pseudonym.key"


def pseudonym_key(settings: Settings) -> bytes:
    """Return the pseudonym key of these settings (created in the data home if needed)."""
    if settings.pseudonym_key:
        return settings.pseudonym_key.encode("utf-8")
    return home_secret(settings.home / KEY_FILE)


def home_secret(path: Path) -> bytes:
    """Return the random key kept in ``path`` (a data-home file, mode 0600), created on first use.

    Two processes creating it at once keep one key: the file appears whole (hard link of a
    written temporary file) and the loser reads the winner's.
    """
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:  # a hard link appears whole and fails if the name exists: two first runs keep one key
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> bytes:
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise ValueError(f"{path} is empty: delete it to generate a new key (what it signed changes)")
    return key.encode("ascii")


CANDIDATE_REF_PREFIX = "C-"


def candidate_ref(key: bytes, vacancy_id: str, youth_id: str) -> str:
    """The reference of ``youth_id`` on ``vacancy_id``'s shortlist: ``C-`` and 32 hex digits
    of HMAC-SHA256 over both ids. Another vacancy gives another reference (no linking)."""
    message = b"candidate\x00" + vacancy_id.encode("utf-8") + b"\x00" + youth_id.encode("utf-8")
    return CANDIDATE_REF_PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def pseudonym_initials(key: bytes, youth_id: str) -> str:
    """Two stable letters standing for a youth on every card (keyed: never from the name,
    which we do not hold, nor guessable from the id)."""
    digest = hmac.new(key, b"initials\x00" + youth_id.encode("utf-8"), hashlib.sha256).digest()
    return f"{chr(65 + digest[0] % 26)}. {chr(65 + digest[1] % 26)}."
