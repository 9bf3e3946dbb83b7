"""What a suggestions document adds for advisers: skills shown and to acquire, close trades,
beginners accepted (service.output.add_details)."""

from __future__ import annotations

from matching.fairness.policies import TradeMix
from matching.profiles import parse_youth
from service import output


def test_trade_cards_carry_skills_and_close_trades(engine, referential):
    youth, _ = parse_youth({"commune_insee": "57463", "wished_trades": ["D1102"],
                            "experiences": ["Pétrir la pâte et défourner le pain en boulangerie"]},
                           engine.referential)
    document = output.suggestions_for(engine, youth, 5, TradeMix(policy="off"))
    bakery = next(t for t in document["trades"] if t["code_rome"] == "D1102")
    core = set(referential.skills[(referential.skills.code_rome == "D1102") & referential.skills.core]["label"])
    assert bakery["skills_to_acquire"] and set(bakery["skills_to_acquire"]) <= core
    assert not {s.casefold() for s in bakery["skills_shown"]} & {s.casefold() for s in bakery["skills_to_acquire"]}
    assert len(bakery["skills_to_acquire"]) <= output.SKILLS_TO_ACQUIRE
    assert 0 < len(bakery["close_trades"]) <= output.CLOSE_TRADES
    assert all(referential.has_card(c["code_rome"]) and c["label"] for c in bakery["close_trades"])
    for trade in document["trades"]:
        assert {"skills_shown", "skills_to_acquire", "close_trades"} <= set(trade)
    for vacancy in document["vacancies"]:
        assert isinstance(vacancy["beginners_accepted"], bool)
