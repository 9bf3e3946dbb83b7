"""The key of youth pseudonyms in batch exports.

``PASSERELLE_PSEUDONYM_KEY`` (read by :mod:`service.config`) when set; otherwise a random key
generated on first use and kept in the data home (``secrets/pseudonym.key``, mode 0600), so the
same youth gets the same pseudonym in every export of that data home. Whoever holds the key
can re-identify youths from their pseudonyms: keep it with the data, never with the exports.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from service.config import Settings

KEY_FILE = Path("secrets") / "pseudonym.key"


def pseudonym_key(settings: Settings) -> bytes:
    """Return the pseudonym key of these settings (created in the data home if needed)."""
    if settings.pseudonym_key:
        return settings.pseudonym_key.encode("utf-8")
    path = settings.home / KEY_FILE
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
        raise ValueError(f"{path} is empty: delete it to generate a new key (pseudonyms will change)")
    return key.encode("ascii")
