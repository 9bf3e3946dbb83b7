"""Tiny known rows for the store tests (imported by name: ``tests/store`` is on ``sys.path``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, MetaData


def employer_fields(siret: str = "12345678900011", **changes) -> dict:
    return {
        "siret": siret,
        "name": "Boulangerie du Pont",
        "naf": "1071C",
        "sector_family": "artisanat",
        "size_band": "3-5",
        "commune_insee": "57463",
        "postcode": "57000",
        "lat": 49.119,
        "lon": 6.176,
        **changes,
    }


def vacancy_fields(vacancy_id: str = "V-1", siret: str = "12345678900011", **changes) -> dict:
    return {
        "id": vacancy_id,
        "employer_siret": siret,
        "title": "Apprenti boulanger (H/F)",
        "description": "Fabrication du pain et des viennoiseries.",
        "code_rome": "D1102",
        "contract": "apprentissage",
        "level_required": "none",
        "start_date": date(2026, 9, 1),
        "end_date": date(2026, 12, 31),
        **changes,
    }


def youth_profile(youth_id: str = "Y-alice", **changes) -> dict:
    return {
        "id": youth_id,
        "external_id": "DOSSIER-2026-0042",
        "mission_locale": "ML-METZ",
        "commune_insee": "57463",
        "postcode": "57000",
        "mobility_km": 15,
        "age": 19,
        "gender": "F",
        "qpv": False,
        "diploma_level": "3",
        "experiences": ["Stage en boulangerie"],
        "interests": "cuisine, contact client",
        "wished_trades": ["boulangère", "D1106"],
        "contracts": ["apprentissage"],
        "driving_licence": False,
        "available_from": "2026-09-01",
        "consent_share": True,
        **changes,
    }


def dump_database(engine: Engine) -> str:
    """Return every row of every table (the live schema, not the models) as one text."""
    metadata = MetaData()
    metadata.reflect(bind=engine)
    lines = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(table.select()):
                lines.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(lines)
