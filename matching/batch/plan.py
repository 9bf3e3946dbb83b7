"""Files of a batch run beside its output: lock, plan, chunk parts, final assembly.

For ``results.parquet``::

    results.parquet.lock         held (flock) while a run writes; holds the writer's pid
    results.parquet.plan.json    arguments hash, ordered query ids hash, chunk size and count
    results.parquet.parts/       part-000000.parquet ... one per finished chunk (atomic rename)

A run started again with the same arguments and queries reuses the plan, skips the chunks
whose part exists and assembles the parts in chunk order, so a killed run resumes without
recomputing or duplicating anything.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from matching.errors import PasserelleError
from matching.files import atomic_write

PLAN_FORMAT = 1
MIN_CHUNK, MAX_CHUNK = 64, 4096
BYTES_PER_QUERY = {"youths": 160_000, "vacancies": 40_000}
"""Memory a query keeps until its chunk is written (features, text scores, output rows)."""


class BatchLocked(PasserelleError):
    """Another live run writes the same output."""


class PlanMismatch(PasserelleError):
    """An unfinished run of the same output used other arguments or another chunk size."""


def sidecar(out: Path, suffix: str) -> Path:
    return out.with_name(out.name + suffix)


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable`` of /proc/meminfo, else free pages)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2 << 30


def auto_chunk_size(what: str, n_queries: int, workers: int, memory: int | None = None) -> int:
    """Queries per chunk: a quarter of the available memory shared by the workers, at most
    :data:`MAX_CHUNK`, and small enough to give every worker a few chunks."""
    memory = available_memory() if memory is None else memory
    by_memory = memory // 4 // max(workers, 1) // BYTES_PER_QUERY[what]
    balanced = -(-n_queries // (2 * max(workers, 1)))
    return int(np.clip(min(by_memory, balanced), MIN_CHUNK, MAX_CHUNK))


def digest(value) -> str:
    """SHA-256 of a JSON-able value (canonical form) or of a list of ids, 16 hex digits."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def ids_digest(ids: list[str]) -> str:
    hasher = hashlib.sha256()
    for query_id in ids:
        hasher.update(query_id.encode("utf-8") + b"\n")
    return hasher.hexdigest()[:16]


# ---------------------------------------------------------------------------- lock
class RunLock:
    """An exclusive lock on an output (``fcntl.flock``: released by the kernel when the
    holder dies, so the lock file of a dead run is simply taken over)."""

    def __init__(self, out: Path):
        self.path = sidecar(out, ".lock")
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "?"
                os.close(fd)
                raise BatchLocked(
                    f"another run is writing {self.path.stem} ({holder}): wait for it or stop it",
                    field="out",
                    message_fr=f"une autre exécution écrit déjà {self.path.stem} ({holder}) : "
                    "attendez sa fin ou arrêtez-la",
                ) from None
            try:  # the file we locked may have been removed by a run that just finished
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"pid {os.getpid()} sur {socket.gethostname()}".encode())
                self._fd = fd
                return self
            os.close(fd)
        raise BatchLocked(f"cannot lock {self.path}", field="out", message_fr=f"verrouillage impossible : {self.path}")

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


# ---------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class Plan:
    """How a run is cut into chunks; kept beside the output so a resumed run cuts the same."""

    args_hash: str
    queries_hash: str
    n_queries: int
    chunk_size: int
    n_chunks: int
    done: bool = False
    format: int = PLAN_FORMAT

    def bounds(self, chunk: int) -> tuple[int, int]:
        start = chunk * self.chunk_size
        return start, min(start + self.chunk_size, self.n_queries)


def read_plan(out: Path) -> Plan | None:
    try:
        data = json.loads(sidecar(out, ".plan.json").read_text(encoding="utf-8"))
        if data.get("format") != PLAN_FORMAT:
            return None
        return Plan(**{name: data[name] for name in Plan.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return None


def write_plan(out: Path, plan: Plan, args: dict) -> None:
    document = {**asdict(plan), "args": args}
    atomic_write(sidecar(out, ".plan.json"),
                 lambda path: path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n"))


def parts_dir(out: Path) -> Path:
    return sidecar(out, ".parts")


def part_path(out: Path, chunk: int) -> Path:
    return parts_dir(out) / f"part-{chunk:06d}.parquet"


def finished_chunks(out: Path, plan: Plan) -> set[int]:
    """Chunks whose part file is complete (temporary files of a killed run are removed)."""
    folder = parts_dir(out)
    if not folder.exists():
        return set()
    done = set()
    for path in folder.iterdir():
        if ".tmp-" in path.name:
            path.unlink(missing_ok=True)
        elif path.name.startswith("part-") and path.suffix == ".parquet":
            chunk = int(path.stem.split("-")[1])
            if chunk < plan.n_chunks:
                done.add(chunk)
    return done


def prepare(out: Path, args_hash: str, queries_hash: str, n_queries: int, chunk_size: int,
            requested: int | None, args: dict, restart: bool = False) -> tuple[Plan, set[int]]:
    """Return the plan of this run and the chunks already finished.

    The existing plan is reused when its arguments and queries match; an unfinished run with
    other arguments is refused (its parts would be lost) unless ``restart``.
    """
    previous = read_plan(out)
    same = previous is not None and (previous.args_hash, previous.queries_hash) == (args_hash, queries_hash)
    if previous is not None and same and not restart:
        if requested is not None and requested != previous.chunk_size:
            raise PlanMismatch(
                f"the unfinished run of {out} uses chunks of {previous.chunk_size}: drop --chunk-size or add --restart",
                field="chunk_size",
                message_fr=f"le calcul interrompu de {out} utilise des morceaux de {previous.chunk_size} : "
                "retirez --chunk-size ou ajoutez --restart",
            )
        if previous.done and out.exists():
            return previous, set(range(previous.n_chunks))
        return previous, finished_chunks(out, previous)
    if previous is not None and not previous.done and not restart and finished_chunks(out, previous):
        raise PlanMismatch(
            f"an unfinished run of {out} used other arguments or inputs: run it again with the same "
            "ones to resume, or add --restart to start over",
            field="out",
            message_fr=f"un calcul interrompu de {out} a d'autres arguments ou d'autres entrées : "
            "relancez-le à l'identique pour le reprendre, ou ajoutez --restart pour repartir de zéro",
        )
    shutil.rmtree(parts_dir(out), ignore_errors=True)
    n_chunks = -(-n_queries // chunk_size) if n_queries else 0
    plan = Plan(args_hash, queries_hash, n_queries, chunk_size, n_chunks)
    write_plan(out, plan, args)
    return plan, set()


# ---------------------------------------------------------------------------- parts
def write_part(out: Path, chunk: int, table: pa.Table, stats: dict) -> None:
    """Write one finished chunk (its counters in the file's metadata) atomically."""
    path = part_path(out, chunk)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = table.replace_schema_metadata({b"passerelle_chunk": json.dumps(stats).encode()})
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def part_stats(out: Path, chunk: int) -> dict:
    metadata = pq.read_schema(part_path(out, chunk)).metadata or {}
    return json.loads(metadata.get(b"passerelle_chunk", b"{}"))


def assemble(out: Path, plan: Plan, schema: pa.Schema, metadata: dict, args: dict) -> int:
    """Concatenate the parts in chunk order into ``out`` (atomically); return the row count.

    The plan is marked done and the parts removed afterwards.
    """
    schema = schema.with_metadata({b"passerelle": json.dumps(metadata, ensure_ascii=False, sort_keys=True).encode()})
    rows = 0

    def write(path: Path) -> None:
        nonlocal rows
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for chunk in range(plan.n_chunks):
                table = pq.read_table(part_path(out, chunk)).replace_schema_metadata(None)
                writer.write_table(table.cast(schema))
                rows += table.num_rows

    atomic_write(out, write)
    write_plan(out, Plan(**{**asdict(plan), "done": True}), args)
    shutil.rmtree(parts_dir(out), ignore_errors=True)
    return rows
