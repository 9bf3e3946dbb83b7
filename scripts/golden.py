"""Golden outputs of the CLI, the API and batch scoring on the demo data, for refactors.

Runs the code of the checkout this script sits in (``python -c`` from its root, which comes
before the editable install on ``sys.path``), so a copy of an older commit (``git worktree add``)
gives the outputs before a change. Runs each output on a throw-away copy of a data home that already holds the demo (``passerelle
demo`` ran there), removes timestamps and generated ids, and writes one JSON file per output into
``OUT``. Compare two runs with ``diff -r``: a refactor that changes no behaviour gives no
difference.

    PASSERELLE_HOME=~/.local/share/passerelle .venv/bin/python scripts/golden.py /tmp/golden-before
    ... change the code ...
    PASSERELLE_HOME=~/.local/share/passerelle .venv/bin/python scripts/golden.py /tmp/golden-after
    diff -r /tmp/golden-before /tmp/golden-after
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSERELLE = [sys.executable, "-c", "from service.cli import app; app(prog_name='passerelle')"]
VOLATILE_KEYS = {"suggestion_id", "suggestion_ids", "list_id", "created_at", "updated_at",
                 "generated_at", "started_at", "finished_at", "elapsed_s", "seconds", "request_id",
                 "key", "id_prefix", "timings", "store_generation"}
PSEUDONYM_KEY = "golden-outputs"  # fixed, so pseudonymised batch ids compare across runs
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?")


def scrub(value):
    """Drop volatile keys and blank timestamps, recursively."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return TIMESTAMP.sub("<time>", value)
    return value


def cli(home: Path, *args: str) -> str:
    env = {**os.environ, "PASSERELLE_HOME": str(home), "PASSERELLE_PSEUDONYM_KEY": PSEUDONYM_KEY}
    env.pop("PASSERELLE_DATABASE_URL", None)
    done = subprocess.run([*PASSERELLE, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"passerelle {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def write(out: Path, name: str, document) -> None:
    (out / f"{name}.json").write_text(json.dumps(scrub(document), ensure_ascii=False, indent=1,
                                                 sort_keys=True) + "\n", encoding="utf-8")


def capture_cli(home: Path, out: Path) -> str:
    write(out, "demo", json.loads(cli(home, "demo", "--json")))
    write(out, "trades_search", json.loads(cli(home, "trades", "search",
                                                "je veux travailler avec du pain", "--json")))
    for mix in ("off", "balanced", "counter_stereotype"):
        write(out, f"suggest_{mix}", json.loads(cli(home, "suggest", "--profile", "examples/youth.json",
                                                    "--mix", mix, "--top-k", "10", "--json")))
    vacancy = json.loads(cli(home, "demo", "--json"))["candidates"]["vacancy"]["vacancy_id"]
    for balance in ("pool", "parity", "off"):
        write(out, f"candidates_{balance}", json.loads(cli(home, "candidates", "--vacancy", vacancy,
                                                           "--balance", balance, "--json")))
    return vacancy


def capture_batch(home: Path, out: Path, work: Path) -> None:
    import pyarrow.parquet as pq

    for what in ("youths", "vacancies"):
        target = work / f"{what}.parquet"
        cli(home, "batch", "score", "--what", what, "--mission-locale", "ML-METZ", "--top-k", "5",
            "--out", str(target))
        table = pq.read_table(target)
        meta = json.loads(table.schema.metadata[b"passerelle"])
        rows = table.to_pylist()
        write(out, f"batch_{what}", {"metadata": meta, "rows": rows[:3000], "count": len(rows)})
    schedule = work / "schedule.csv"
    cli(home, "batch", "plan-event", "--firms", "examples/event_firms.csv",
        "--youths", "examples/event_youths.csv", "--out", str(schedule))
    write(out, "plan_event", schedule.read_text(encoding="utf-8").splitlines())


def capture_api(home: Path, out: Path, vacancy: str) -> None:
    os.environ["PASSERELLE_HOME"] = str(home)
    os.environ.pop("PASSERELLE_DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    from fastapi.testclient import TestClient

    from service.api.app import create_app
    from service.config import get_settings

    get_settings.cache_clear()
    adviser = cli(home, "users", "create", "--role", "adviser", "--mission-locale", "ML-METZ").split()[-1]
    staff = cli(home, "users", "create", "--role", "employer_relations",
                "--mission-locale", "ML-METZ").split()[-1]
    with TestClient(create_app(get_settings())) as client:
        def get(path, key):
            response = client.get(path, headers={"Authorization": f"Bearer {key}"})
            return {"status": response.status_code, "body": response.json()}

        youths = get("/v1/youths?limit=3", adviser)
        write(out, "api_youths", youths)
        for item in youths["body"][:3]:
            youth_id = item["id"]
            for mix in ("off", "balanced"):
                write(out, f"api_suggestions_{youth_id}_{mix}",
                      get(f"/v1/youths/{youth_id}/suggestions?mix={mix}", adviser))
        write(out, "api_candidates", get(f"/v1/vacancies/{vacancy}/candidates", staff))
        write(out, "api_trades", get("/v1/trades/search?q=boulanger", adviser))
        write(out, "api_unknown_youth", get("/v1/youths/UNKNOWN-ID", adviser))


def main() -> None:
    out = Path(sys.argv[1])
    source = Path(os.environ["PASSERELLE_HOME"])
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(source, home)
        vacancy = capture_cli(home, out)
        capture_batch(home, out, Path(tmp))
        capture_api(home, out, vacancy)
    print(f"golden outputs in {out}")


if __name__ == "__main__":
    main()
