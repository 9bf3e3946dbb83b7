"""Job-dating planner: hand-solved instances, a brute-force oracle, the 40 x 6 x 300 synthetic
event checked constraint by constraint, CSV errors and the CLI edge."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from matching.errors import PasserelleError
from matching.events.inputs import EventInstance, build_instance, parse_firms, parse_youths
from matching.events.plan import assign_slots, plan_meetings
from matching.events.report import FLOORS, applicable_floors, greedy_meetings
from matching.referential.geo import haversine_km
from matching.synthetic.event import synthetic_event, synthetic_event_csv
from service.cli.event import plan_event

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def make_instance(fit, *, groups=None, reachable=None, slots=None, seats=None, outside=None, open_to=None):
    """An event straight from arrays: rows are youths, columns firms."""
    fit = np.asarray(fit, dtype=float)
    n_youths, n_firms = fit.shape
    return EventInstance(
        youth_ids=np.array([f"Y{i}" for i in range(n_youths)]),
        firm_ids=np.array([f"F{j}" for j in range(n_firms)]),
        slots=np.asarray(slots if slots is not None else [2] * n_firms, dtype=np.int64),
        seats=np.asarray(seats if seats is not None else [1] * n_firms, dtype=np.int64),
        groups=np.array(groups if groups is not None else ["F"] * n_youths, dtype=object),
        distances_km=np.zeros(fit.shape),
        reachable=np.ones(fit.shape, bool) if reachable is None else np.asarray(reachable, bool),
        fit=fit,
        outside_band=np.zeros(fit.shape, bool) if outside is None else np.asarray(outside, bool),
        open_to_non_traditional=np.zeros(n_youths, bool) if open_to is None else np.asarray(open_to, bool),
    )


def pairs_of(plan) -> set[tuple[str, str]]:
    return {(m.youth_id, m.firm_id) for m in plan.meetings}


def notes_of(plan) -> dict[str, tuple[str, ...]]:
    return {n.code: n.subjects for n in plan.notes}


# ----------------------------------------------------------------- hand-solved instances
def test_two_firms_three_youths_optimum_beats_greedy():
    # Firm F0 has one seat, F1 two; one meeting each. By hand: F0-Y1, F1-Y0, F1-Y2 = 0.8 + 0.5
    # + 0.7 = 2.0; greedy takes Y0-F0 (0.9) first and ends at 0.9 + 0.7 + 0.1 = 1.7.
    instance = make_instance([[0.9, 0.5], [0.8, 0.1], [0.2, 0.7]], slots=[1, 2])
    plan = plan_meetings(instance, max_meetings=1)
    assert pairs_of(plan) == {("Y1", "F0"), ("Y0", "F1"), ("Y2", "F1")}
    assert plan.total_fit == pytest.approx(2.0)
    assert plan.greedy_total_fit == pytest.approx(1.7)
    assert plan.status == "optimal"
    assert all(c.satisfied == c.applicable for c in plan.constraints)


def test_mix_floor_brings_a_second_gender_group():
    instance = make_instance([[1.0], [0.9], [0.1]], groups=["F", "F", "M"])
    assert pairs_of(plan_meetings(instance, floors=False)) == {("Y0", "F0"), ("Y1", "F0")}
    plan = plan_meetings(instance)
    assert pairs_of(plan) == {("Y0", "F0"), ("Y2", "F0")}
    assert plan.total_fit == pytest.approx(1.1)
    assert notes_of(plan) == {"coverage_relaxed": ("Y1",)}  # three youths, two seats


def test_not_stated_is_a_gender_group_of_its_own():
    instance = make_instance([[1.0], [0.9], [0.1]], groups=["M", "M", "not_stated"])
    assert pairs_of(plan_meetings(instance)) == {("Y0", "F0"), ("Y2", "F0")}


def test_mix_floor_left_out_when_the_pool_holds_one_group():
    instance = make_instance([[1.0, 0.2], [0.9, 0.3]], groups=["F", "F"])
    plan = plan_meetings(instance)
    assert notes_of(plan)["firm_mix_not_applicable"] == ("F0", "F1")
    assert next(c for c in plan.constraints if c.name == "firm_mix").applicable == 0


def test_non_traditional_meeting_for_those_who_agreed_only():
    fit = [[1.0, 0.2]]
    outside = [[False, True]]
    agreed = plan_meetings(make_instance(fit, outside=outside, open_to=[True]), max_meetings=1)
    assert pairs_of(agreed) == {("Y0", "F1")}
    refused = plan_meetings(make_instance(fit, outside=outside, open_to=[False]), max_meetings=1)
    assert pairs_of(refused) == {("Y0", "F0")}


def test_coverage_before_a_second_meeting():
    instance = make_instance([[0.9, 0.9], [0.9, 0.9], [0.1, 0.1]], slots=[2, 2])
    unconstrained = plan_meetings(instance, floors=False)
    assert {y for y, _ in pairs_of(unconstrained)} == {"Y0", "Y1"}
    assert unconstrained.total_fit == pytest.approx(3.6)
    plan = plan_meetings(instance)
    assert {y for y, _ in pairs_of(plan)} == {"Y0", "Y1", "Y2"}
    assert plan.total_fit == pytest.approx(2.8)


def test_floors_relaxed_as_few_as_possible_and_named():
    # One young man within reach of two firms, one meeting each: only one firm can meet him.
    fit = np.full((5, 2), 0.5)
    instance = make_instance(fit, groups=["M", "F", "F", "F", "F"], slots=[2, 2])
    plan = plan_meetings(instance, max_meetings=1)
    mix = next(c for c in plan.constraints if c.name == "firm_mix")
    assert (mix.satisfied, mix.applicable) == (1, 2)
    assert notes_of(plan)["firm_mix_relaxed"] == mix.failing
    # Not enough seats: one youth goes without, and is named.
    crowded = plan_meetings(make_instance([[0.5], [0.4]], slots=[1]), max_meetings=1)
    assert notes_of(crowded)["coverage_relaxed"] == ("Y1",)


def test_unreachable_youth_is_named_and_not_counted():
    instance = make_instance([[0.5], [0.5]], reachable=[[True], [False]])
    plan = plan_meetings(instance)
    assert notes_of(plan)["coverage_not_applicable"] == ("Y1",)
    assert pairs_of(plan) == {("Y0", "F0")}


def test_max_meetings_beyond_the_event_slots_is_refused():
    with pytest.raises(PasserelleError) as error:
        plan_meetings(make_instance([[0.5]], slots=[2]), max_meetings=3)
    assert error.value.field == "max_meetings" and "créneaux" in error.value.message_fr


def test_time_limit_and_solver_failure_are_said(monkeypatch):
    import matching.events.plan as event_plan

    instance = make_instance([[0.9, 0.5], [0.8, 0.1], [0.2, 0.7]], slots=[1, 2])
    solve = event_plan._solve
    monkeypatch.setattr(event_plan, "_solve", lambda *args: (solve(*args)[0], False))
    stopped = plan_meetings(instance, max_meetings=1)
    assert stopped.status == "time_limit" and "time_limit" in notes_of(stopped)
    assert stopped.total_fit == pytest.approx(2.0)
    monkeypatch.setattr(event_plan, "_solve", lambda *args: (None, False))
    failed = plan_meetings(instance, max_meetings=1)
    assert failed.status == "greedy" and "solver_failed" in notes_of(failed)
    assert failed.total_fit == pytest.approx(failed.greedy_total_fit) == pytest.approx(1.7)


def test_same_input_same_schedule():
    rng = np.random.default_rng(3)
    instance = make_instance(rng.random((12, 4)), groups=rng.choice(["F", "M", "X"], 12), slots=[3] * 4)
    assert plan_meetings(instance).meetings == plan_meetings(instance).meetings


# ----------------------------------------------------------------- properties
def test_assign_slots_never_double_books():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n_youths, n_firms, n_slots = 9, 5, 4
        seats = rng.integers(1, 3, n_firms)
        instance = make_instance(rng.random((n_youths, n_firms)), slots=[n_slots] * n_firms, seats=seats)
        youth_rows, firm_rows = greedy_meetings(instance, n_slots, floors=False)
        slots = assign_slots(youth_rows, firm_rows, seats, n_slots)
        assert slots.min() >= 1 and slots.max() <= n_slots
        assert len(set(zip(youth_rows, slots, strict=True))) == len(slots)
        per_firm_slot = np.unique(firm_rows * 10 + slots, return_counts=True)
        assert (per_firm_slot[1] <= seats[per_firm_slot[0] // 10]).all()


def oracle(instance, max_meetings):
    """Brute force: fewest unmet floors, then the highest fit (tiny instances only)."""
    youth_rows, firm_rows = np.nonzero(instance.reachable)
    applies = applicable_floors(instance)
    best = (np.inf, -np.inf)
    for chosen in itertools.product((False, True), repeat=len(youth_rows)):
        chosen = np.array(chosen, dtype=bool)
        ys, fs = youth_rows[chosen], firm_rows[chosen]
        if (np.bincount(fs, minlength=len(instance.firm_ids)) > instance.capacity).any():
            continue
        if (np.bincount(ys, minlength=len(instance.youth_ids)) > max_meetings).any():
            continue
        met = {
            "coverage": np.isin(np.arange(len(instance.youth_ids)), ys),
            "firm_mix": np.array([len(set(instance.groups[ys[fs == f]])) >= 2 for f in range(len(instance.firm_ids))]),
            "non_traditional": np.isin(np.arange(len(instance.youth_ids)), ys[instance.outside_band[ys, fs]]),
        }
        unmet = sum(int((applies[n] & ~met[n]).sum()) for n in FLOORS)
        total = float(instance.fit[ys, fs].sum())
        if unmet < best[0] or (unmet == best[0] and total > best[1]):
            best = (unmet, total)
    return best


@st.composite
def small_events(draw):
    n_youths = draw(st.integers(1, 5))
    n_firms = draw(st.integers(1, 3))
    shape = (n_youths, n_firms)
    cells = st.lists(st.booleans(), min_size=n_youths * n_firms, max_size=n_youths * n_firms)
    reachable = np.array(draw(cells)).reshape(shape)
    while reachable.sum() > 10:  # keep the oracle at 2**10 subsets
        reachable[np.argwhere(reachable)[0][0], np.argwhere(reachable)[0][1]] = False
    fit = np.array(draw(st.lists(st.integers(1, 20), min_size=reachable.size, max_size=reachable.size)))
    slots = draw(st.lists(st.integers(1, 3), min_size=n_firms, max_size=n_firms))
    instance = make_instance(
        fit.reshape(shape) / 10, reachable=reachable, slots=slots,
        seats=draw(st.lists(st.integers(1, 2), min_size=n_firms, max_size=n_firms)),
        groups=draw(st.lists(st.sampled_from(["F", "M", "X", "not_stated"]), min_size=n_youths, max_size=n_youths)),
        outside=np.array(draw(cells)).reshape(shape),
        open_to=draw(st.lists(st.booleans(), min_size=n_youths, max_size=n_youths)),
    )
    return instance, draw(st.integers(1, max(slots)))


@settings(max_examples=80, deadline=None)
@given(small_events())
def test_any_small_event_meets_the_limits_and_matches_the_oracle(event):
    instance, max_meetings = event
    plan = plan_meetings(instance, max_meetings=max_meetings)
    hard = {c.name: c for c in plan.constraints if c.name not in FLOORS}
    assert all(c.satisfied == c.applicable for c in hard.values()), plan.constraints
    unmet = sum(c.applicable - c.satisfied for c in plan.constraints if c.name in FLOORS)
    greedy_unmet = sum(c.applicable - c.satisfied for c in plan.greedy_constraints if c.name in FLOORS)
    best_unmet, best_total = oracle(instance, max_meetings)
    assert unmet == best_unmet <= greedy_unmet
    assert plan.total_fit == pytest.approx(best_total, abs=1e-6)
    if unmet == greedy_unmet:
        assert plan.total_fit >= plan.greedy_total_fit - 1e-9
    relaxed = {s for n in plan.notes if n.code.endswith("_relaxed") for s in n.subjects}
    assert relaxed == {s for c in plan.constraints if c.name in FLOORS for s in c.failing}


# ----------------------------------------------------------------- the 40 x 6 x 300 event
@pytest.fixture(scope="module")
def big_event(referential):
    firms_text, youths_text = synthetic_event_csv(referential, n_firms=40, n_youths=300, slots=6, seed=2026)
    firms, youths = parse_firms(firms_text, referential), parse_youths(youths_text, referential)
    instance = build_instance(firms, youths, referential)
    return firms, youths, instance, plan_meetings(instance, max_meetings=2, time_limit_s=30)


def test_big_event_keeps_every_hard_limit(big_event):
    firms, youths, _, plan = big_event
    firm = {f.firm_id: f for f in firms}
    youth = {y.youth_id: y for y in youths}
    assert plan.status == "optimal" and plan.seconds < 30
    per_firm = {f: [m for m in plan.meetings if m.firm_id == f] for f in firm}
    assert all(len(ms) <= firm[f].slots * firm[f].seats for f, ms in per_firm.items())
    for f, ms in per_firm.items():
        per_slot = np.bincount([m.slot for m in ms], minlength=firm[f].slots + 1)
        assert per_slot.max(initial=0) <= firm[f].seats and all(1 <= m.slot <= 6 for m in ms)
    per_youth = {y: [m for m in plan.meetings if m.youth_id == y] for y in youth}
    assert max(len(ms) for ms in per_youth.values()) <= 2
    assert all(len({m.slot for m in ms}) == len(ms) for ms in per_youth.values())
    assert all(len({m.firm_id for m in ms}) == len(ms) for ms in per_youth.values())
    for m in plan.meetings:
        y, f = youth[m.youth_id].location, firm[m.firm_id].location
        distance = float(haversine_km(y.lat, y.lon, f.lat, f.lon))
        assert distance == pytest.approx(m.distance_km) and distance <= youth[m.youth_id].mobility_km


def test_big_event_keeps_every_floor_the_pool_allows(big_event, referential):
    """Each floor is recomputed here from the parsed rows (reach, bands, groups): the fixture
    must give every floor subjects it applies to, the plan must meet it for each of them, and
    its report must count the same subjects and name the others as left out."""
    firms, youths, _, plan = big_event
    youth = {y.youth_id: y for y in youths}

    def reach(y, f):
        return haversine_km(y.location.lat, y.location.lon, f.location.lat, f.location.lon) <= y.mobility_km

    def band(code):
        return referential.band(referential.card(code)["share_women"])

    met = {y.youth_id: [m.firm_id for m in plan.meetings if m.youth_id == y.youth_id] for y in youths}
    code = {f.firm_id: f.code_rome for f in firms}
    applies: dict[str, set[str]] = {"coverage": set(), "non_traditional": set(), "firm_mix": set()}
    for y in youths:
        if any(reach(y, f) for f in firms):
            applies["coverage"].add(y.youth_id)
            assert met[y.youth_id], y.youth_id
        wish_bands = {band(c) for c in y.wished_codes} - {"unknown"}
        outside = [f for f in firms if reach(y, f) and band(f.code_rome) not in wish_bands | {"unknown"}]
        if y.open_to_non_traditional and wish_bands and outside:
            applies["non_traditional"].add(y.youth_id)
            assert any(band(code[f]) not in wish_bands | {"unknown"} for f in met[y.youth_id]), y.youth_id
    for f in firms:
        pool = {youth[y.youth_id].gender_group for y in youths if reach(y, f)}
        if len(pool) >= 2 and f.slots * f.seats >= 2:
            applies["firm_mix"].add(f.firm_id)
            groups = {youth[m.youth_id].gender_group for m in plan.meetings if m.firm_id == f.firm_id}
            assert len(groups) >= 2, f.firm_id
    checks = {c.name: c for c in plan.constraints}
    notes = {n.code: set(n.subjects) for n in plan.notes}
    everyone = {"coverage": set(youth), "firm_mix": set(code),
                "non_traditional": {y.youth_id for y in youths if y.open_to_non_traditional}}
    for name, subjects in applies.items():
        assert subjects, f"the fixture gives the {name} floor nothing to apply to"
        assert (checks[name].applicable, checks[name].satisfied, checks[name].failing) == (
            len(subjects), len(subjects), ()), name
        assert notes.get(f"{name}_not_applicable", set()) == everyone[name] - subjects, name
    assert not [n for n in plan.notes if n.code.endswith("_relaxed")]


def test_big_event_beats_the_greedy_baseline(big_event):
    _, _, instance, plan = big_event
    assert plan.total_fit >= plan.greedy_total_fit
    unconstrained = plan_meetings(instance, max_meetings=2, floors=False)
    assert unconstrained.total_fit >= unconstrained.greedy_total_fit >= plan.greedy_total_fit * 0.5


def test_synthetic_event_is_seeded(referential):
    first = synthetic_event(referential, n_firms=5, n_youths=20, seed=4)
    assert first == synthetic_event(referential, n_firms=5, n_youths=20, seed=4)
    assert first != synthetic_event(referential, n_firms=5, n_youths=20, seed=5)
    assert all(row["firm_id"].startswith("SYN") for row in first[0])


# ----------------------------------------------------------------- input
def test_examples_parse_and_default_fit(referential):
    firms = parse_firms((EXAMPLES / "event_firms.csv").read_text(encoding="utf-8"), referential)
    youths = parse_youths((EXAMPLES / "event_youths.csv").read_text(encoding="utf-8"), referential)
    assert len(firms) == 6 and len(youths) == 16
    assert youths[1].location.commune_insee == "57463" and youths[8].gender_group == "X"
    assert youths[0].wished_codes == ("D1202", "J1501") and youths[0].open_to_non_traditional
    assert youths[4].gender_group == "not_stated" and firms[2].capacity == 8
    instance = build_instance(firms, youths, referential)
    # SYN-Y14 (Metz) wishes D1102: the Metz bakery is an exact match at 0 km.
    assert instance.fit[13, 0] == pytest.approx(1.0)
    # SYN-Y11 wishes D1102 too; the supermarket's D1507 is a mobility link of D1102, 6.4 km away.
    assert instance.fit[10, 5] == pytest.approx(0.6 * (1 - 0.3 * instance.distances_km[10, 5] / 20))
    # SYN-Y02 wishes F1703 (male band): the hairdresser (female band) lies outside it.
    assert instance.outside_band[1, 1] and not instance.outside_band[1, 3]
    custom = build_instance(firms, youths, referential, fit=lambda ys, fs, d: -d)
    assert custom.fit[0, 0] == -custom.distances_km[0, 0]
    with pytest.raises(ValueError, match="shape"):
        build_instance(firms, youths, referential, fit=np.zeros((2, 2)))


FIRMS_HEADER = "firm_id,name,code_rome,commune_insee,slots,seats\n"
YOUTHS_HEADER = "youth_id,commune_insee,postcode,mobility_km,gender,wished_codes,open_to_non_traditional\n"


@pytest.mark.parametrize(
    ("text", "field", "needle"),
    [
        ("firm_id,code_rome,commune_insee\nA,D1102,57463\n", "slots", "colonne slots manquante"),
        ("firm_id,code_rome,slots\nA,D1102,3\n", "commune_insee", "commune_insee ou postcode"),
        (FIRMS_HEADER + "A,Boulangerie,X9999,57463,3,1\n", "code_rome", "ligne 2 : code ROME inconnu"),
        (FIRMS_HEADER + "A,Boulangerie,D1102,99999,3,1\n", "commune_insee", "code commune inconnu"),
        (FIRMS_HEADER + "A,Boulangerie,D1102,57463,0,1\n", "slots", "entre 1 et 48"),
        (FIRMS_HEADER + "A,Boulangerie,D1102,57463,trois,1\n", "slots", "nombre entier"),
        (FIRMS_HEADER + "A,B,D1102,57463,3,1\nA,C,D1102,57463,3,1\n", "firm_id", "en double (déjà ligne 2)"),
        ("firm_id,code,code_rome,commune_insee,slots\n", "code", "colonne « code » inconnue"),
        (FIRMS_HEADER, None, "aucune ligne"),
        ("", None, "vide"),
    ],
)
def test_bad_firms_csv_gives_a_clear_error(referential, text, field, needle):
    with pytest.raises(PasserelleError) as error:
        parse_firms(text, referential)
    assert error.value.field == field and needle in error.value.message_fr
    assert "firms.csv" in error.value.message


@pytest.mark.parametrize(
    ("row", "field", "needle"),
    [
        ("Y1,57463,,10,W,,0", "gender", "F, M, X"),
        ("Y1,57463,,500,F,,0", "mobility_km", "entre 1 et 200"),
        ("Y1,57463,,loin,F,,0", "mobility_km", "n'est pas un nombre"),
        ("Y1,57463,,10,F,D1102|Z0000,0", "wished_codes", "code ROME inconnu"),
        ("Y1,57463,,10,F,,peut-être", "open_to_non_traditional", "oui/non"),
        ("Y1,57463,75001,10,F,,0", "postcode", "ne correspond pas"),
        ("Y1,,,10,F,,0", "commune_insee", "lieu manquant"),
    ],
)
def test_bad_youths_csv_gives_a_clear_error(referential, row, field, needle):
    with pytest.raises(PasserelleError) as error:
        parse_youths(YOUTHS_HEADER + row + "\n", referential)
    assert error.value.field == field and needle in error.value.message_fr
    assert "ligne 2" in error.value.message_fr


def test_semicolons_excel_bom_and_lowercase_are_accepted(referential):
    text = "\ufeffYouth_ID;postcode;gender;wished_codes\nY1;57000;f;d1102 g1602\n"
    (youth,) = parse_youths(text, referential)
    assert youth.gender == "F" and youth.wished_codes == ("D1102", "G1602") and youth.mobility_km == 20


# ----------------------------------------------------------------- CLI edge
@pytest.fixture()
def cli_app(monkeypatch, referential):
    import service.cli.common

    class Workspace:
        def referential(self):
            return referential

    monkeypatch.setattr(service.cli.common, "workspace", Workspace)
    app = typer.Typer()
    batch = typer.Typer()
    app.add_typer(batch, name="batch")
    batch.command("plan-event")(plan_event)
    return app


def test_cli_plans_the_example_event(cli_app, tmp_path):
    out = tmp_path / "schedule.csv"
    args = ["batch", "plan-event", "--firms", str(EXAMPLES / "event_firms.csv"),
            "--youths", str(EXAMPLES / "event_youths.csv"), "--out", str(out)]
    result = CliRunner().invoke(cli_app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["firm_id", "slot", "youth_id", "fit", "distance_km"]
    assert len(rows) == document["meetings"] > 0 and document["status"] == "optimal"
    assert document["total_fit"] >= document["greedy_total_fit"]
    assert {c["name"] for c in document["constraints"]} >= set(FLOORS)
    assert [p.name for p in tmp_path.iterdir()] == ["schedule.csv"]  # no temporary file left
    text = CliRunner().invoke(cli_app, args)
    assert text.exit_code == 0 and "Adéquation totale" in text.stdout and "SYN-Y10" in text.stdout


def test_cli_bad_csv_is_one_line_and_exit_2(cli_app, tmp_path):
    firms = tmp_path / "firms.csv"
    firms.write_text(FIRMS_HEADER + "A,Boulangerie,D1102,57463,0,1\n", encoding="utf-8")
    out = tmp_path / "schedule.csv"
    args = ["batch", "plan-event", "--firms", str(firms), "--youths", str(EXAMPLES / "event_youths.csv"),
            "--out", str(out), "--json"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 2 and result.stdout == "" and not out.exists()
    (line,) = result.stderr.strip().splitlines()
    assert "firms.csv ligne 2" in line and "[slots]" in line and "(en: " in line
    missing = CliRunner().invoke(cli_app, [*args[:3], str(tmp_path / "nope.csv"), *args[4:]])
    assert missing.exit_code == 2 and "introuvable" in missing.stderr


def test_cli_help_ends_with_an_example(cli_app):
    result = CliRunner().invoke(cli_app, ["batch", "plan-event", "--help"])
    assert result.exit_code == 0 and "Example: passerelle batch plan-event" in result.output
