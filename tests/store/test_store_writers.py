"""SQLite writers of one process queue on its writer lock (``service.store.db``), which every
way out of a transaction gives back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from service.store.db import make_engine, session_factory, upgrade
from service.store.models import AuditLine


@pytest.fixture
def store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    upgrade(engine)
    yield session_factory(engine), session_factory(engine, immediate=False)
    engine.dispose()


def write(sessions, action: str) -> None:
    with sessions.begin() as session:
        session.add(AuditLine(action=action, object_kind="test"))


def written(reads) -> int:
    with reads() as session:
        return session.scalar(select(func.count()).select_from(AuditLine))


def in_thread(function, timeout_s: float = 2.0) -> bool:
    """Whether ``function`` finished in another thread within ``timeout_s`` (the writer lock
    waits 5 s before it gives up: a lock left held shows as False)."""
    done = threading.Event()
    threading.Thread(target=lambda: (function(), done.set()), daemon=True).start()
    return done.wait(timeout_s)


def test_concurrent_writers_all_commit(store):
    sessions, reads = store
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: write(sessions, f"w{n}"), range(80)))
    assert written(reads) == 80


def test_a_failed_or_abandoned_transaction_gives_the_lock_back(store):
    sessions, reads = store
    with pytest.raises(RuntimeError), sessions.begin() as session:
        session.add(AuditLine(action="lost", object_kind="test"))
        session.flush()
        raise RuntimeError("boom")
    assert in_thread(lambda: write(sessions, "after an error"))
    with sessions() as session:  # a write never committed: closed, rolled back
        session.execute(text("INSERT INTO audit_log (at, action, object_kind) VALUES (CURRENT_TIMESTAMP, 'x', 'test')"))
    assert in_thread(lambda: write(sessions, "after a close"))
    assert written(reads) == 2


def test_reads_do_not_wait_for_a_writer(store):
    sessions, reads = store
    holding, release = threading.Event(), threading.Event()

    def long_write():
        with sessions.begin() as session:
            session.add(AuditLine(action="long", object_kind="test"))
            session.flush()
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=long_write)
    writer.start()
    assert holding.wait(5)
    assert in_thread(lambda: written(reads))  # a read session takes no writer lock
    assert not in_thread(lambda: write(sessions, "queued"), timeout_s=0.3)  # a writer queues
    release.set()
    writer.join(5)
    assert written(reads) in (1, 2)
