"""Job-dating ("Rencontres des métiers") input: the firms and youths CSVs, distances and fit.

:func:`parse_firms` and :func:`parse_youths` validate the two CSV files documented in
``docs/EVENT_PLANNER.md`` into typed rows; :func:`build_instance` turns them into the arrays the
planner (:mod:`matching.events.plan`) works on. Every error names the file, the line and the
column, in French and English.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.errors import InvalidProfile, OutOfRange, PasserelleError, UnknownRomeCode
from matching.profiles import check_mobility
from matching.referential.geo import haversine_km, resolve_location
from matching.referential.loader import Referential
from matching.types import DEFAULT_MOBILITY_KM, GENDERS, NOT_STATED, Location

FIRM_COLUMNS = ("firm_id", "name", "code_rome", "commune_insee", "postcode", "slots", "seats")
FIRM_REQUIRED = ("firm_id", "code_rome", "slots")
YOUTH_COLUMNS = ("youth_id", "commune_insee", "postcode", "mobility_km", "gender",
                 "wished_codes", "open_to_non_traditional")
YOUTH_REQUIRED = ("youth_id",)
MAX_SLOTS = 48
MAX_SEATS = 10
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "oui", "o", "vrai"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "n", "non", "faux"})
_CODE_SEPARATORS = re.compile(r"[\s,;|]+")

# Default fit: relevance of the firm's trade to the youth's wishes, discounted with distance.
EXACT, LINKED, SAME_DOMAIN, DISCOVERY = 1.0, 0.6, 0.3, 0.1
DISTANCE_WEIGHT = 0.3


@dataclass(frozen=True)
class EventFirm:
    """A firm at the event: the trade it presents, where it is, its interview capacity.

    ``slots`` time slots with ``seats`` interviews in parallel (recruiters at the stand):
    it can meet ``slots * seats`` young people.
    """

    firm_id: str
    name: str
    code_rome: str
    location: Location
    slots: int
    seats: int = 1

    @property
    def capacity(self) -> int:
        return self.slots * self.seats


@dataclass(frozen=True)
class EventYouth:
    """A registered young person. ``gender`` only checks the mix floors, never the fit."""

    youth_id: str
    location: Location
    mobility_km: float = DEFAULT_MOBILITY_KM
    gender: str | None = None
    wished_codes: tuple[str, ...] = ()
    open_to_non_traditional: bool = False

    @property
    def gender_group(self) -> str:
        """``"F"``, ``"M"``, ``"X"`` or ``"not_stated"``."""
        return self.gender or NOT_STATED


@dataclass(frozen=True, eq=False)
class EventInstance:
    """The arrays of one event: rows are youths, columns are firms.

    Attributes:
        youth_ids: shape ``(n_youths,)``.
        firm_ids: shape ``(n_firms,)``.
        slots: time slots of each firm, shape ``(n_firms,)`` int64 (>= 1).
        seats: interviews in parallel per slot, shape ``(n_firms,)`` int64 (>= 1).
        groups: gender group of each youth (``F``, ``M``, ``X``, ``not_stated``), ``(n_youths,)``.
        distances_km: youth-to-firm distance, shape ``(n_youths, n_firms)`` float64.
        reachable: firm within the youth's mobility radius, ``(n_youths, n_firms)`` bool.
        fit: how good a meeting is (higher is better), ``(n_youths, n_firms)`` float64.
        outside_band: the firm's trade lies outside the gender band of the youth's wishes,
            ``(n_youths, n_firms)`` bool (all False for a youth without a known wish band).
        open_to_non_traditional: the youth agreed to meet such a firm, ``(n_youths,)`` bool.
    """

    youth_ids: npt.NDArray[np.str_]
    firm_ids: npt.NDArray[np.str_]
    slots: npt.NDArray[np.int64]
    seats: npt.NDArray[np.int64]
    groups: npt.NDArray[np.object_]
    distances_km: npt.NDArray[np.float64]
    reachable: npt.NDArray[np.bool_]
    fit: npt.NDArray[np.float64]
    outside_band: npt.NDArray[np.bool_]
    open_to_non_traditional: npt.NDArray[np.bool_]

    @property
    def capacity(self) -> npt.NDArray[np.int64]:
        """Meetings each firm can hold, shape ``(n_firms,)``."""
        return self.slots * self.seats

    @property
    def n_slots(self) -> int:
        """Time slots of the event: the longest firm's."""
        return int(self.slots.max()) if len(self.slots) else 0


FitFn = Callable[[Sequence[EventYouth], Sequence[EventFirm], npt.NDArray[np.float64]], npt.ArrayLike]
"""``fit(youths, firms, distances_km) -> (n_youths, n_firms)`` scores, higher is better."""


@contextmanager
def _at_line(source: str, line: int) -> Iterator[None]:
    """Prefix any domain error raised inside with the file and line."""
    try:
        yield
    except PasserelleError as error:
        raise type(error)(
            f"{source} line {line}: {error.message}", field=error.field,
            message_fr=f"{source} ligne {line} : {error.message_fr}",
        ) from None


def _rows(text: str, source: str, columns: Sequence[str], required: Sequence[str]):
    """Yield ``(line, row)`` of a CSV text (comma or semicolon separated), columns checked."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    names = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if not names:
        raise InvalidProfile(f"{source} is empty: the first line must name the columns",
                             message_fr=f"{source} est vide : la première ligne doit nommer les colonnes")
    reader.fieldnames = names
    allowed = ", ".join(columns)
    for name in names:
        if name not in columns:
            raise InvalidProfile(
                f"{source}: unknown column '{name}': allowed columns are {allowed}", field=name,
                message_fr=f"{source} : colonne « {name} » inconnue : les colonnes admises sont {allowed}")
    for name in (*required, "commune_insee|postcode"):
        if not set(name.split("|")) & set(names):
            shown = name.replace("|", " or ")
            raise InvalidProfile(
                f"{source}: missing column {shown}: required columns are "
                f"{', '.join(required)} and commune_insee or postcode",
                field=name.split("|")[0],
                message_fr=f"{source} : colonne {shown.replace(' or ', ' ou ')} manquante : les colonnes "
                f"obligatoires sont {', '.join(required)} et commune_insee ou postcode")
    count = 0
    for row in reader:
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if not any(values.values()):
            continue
        if None in row:
            raise InvalidProfile(f"{source} line {reader.line_num}: more values than columns",
                                 message_fr=f"{source} ligne {reader.line_num} : plus de valeurs que de colonnes")
        count += 1
        yield reader.line_num, values
    if not count:
        raise InvalidProfile(f"{source} has no data rows", message_fr=f"{source} ne contient aucune ligne")


def _integer(row: dict[str, str], name: str, default: int | None, high: int) -> int:
    text = row.get(name, "")
    if not text and default is not None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= high:
        raise OutOfRange(f"{name} {text!r} is not a whole number between 1 and {high}", field=name,
                         message_fr=f"{name} {text!r} n'est pas un nombre entier entre 1 et {high}")
    return value


def _identifier(row: dict[str, str], name: str, seen: dict[str, int], line: int) -> str:
    value = row.get(name, "")
    if not value:
        raise InvalidProfile(f"empty {name}: give each row an id", field=name,
                             message_fr=f"{name} vide : donnez un identifiant à chaque ligne")
    if value in seen:
        raise InvalidProfile(f"duplicate {name} {value!r} (also on line {seen[value]})", field=name,
                             message_fr=f"{name} {value!r} en double (déjà ligne {seen[value]})")
    seen[value] = line
    return value


def _rome_code(referential: Referential, text: str, name: str) -> str:
    code = text.strip().upper()
    if not referential.has_card(code):
        raise UnknownRomeCode(
            f"unknown ROME code {text!r} in {name}: give a ROME 4.0 job card code such as 'D1102' "
            "(see `passerelle trades search`)", field=name,
            message_fr=f"code ROME inconnu {text!r} dans {name} : indiquez le code d'une fiche "
            "métier ROME 4.0, par exemple 'D1102' (voir `passerelle trades search`)")
    return code


def parse_firms(text: str, referential: Referential, *, source: str = "firms.csv") -> list[EventFirm]:
    """Validate the firms CSV (see ``docs/EVENT_PLANNER.md``) into :class:`EventFirm` rows.

    Raises:
        InvalidProfile, OutOfRange, UnknownRomeCode, UnknownCommune, LocationMismatch: the
            message names the file, the line and the column.
    """
    firms: list[EventFirm] = []
    seen: dict[str, int] = {}
    for line, row in _rows(text, source, FIRM_COLUMNS, FIRM_REQUIRED):
        with _at_line(source, line):
            firm_id = _identifier(row, "firm_id", seen, line)
            code = _rome_code(referential, row["code_rome"], "code_rome")
            firms.append(EventFirm(
                firm_id=firm_id, name=row.get("name") or firm_id, code_rome=code,
                location=resolve_location(referential, row.get("commune_insee"), row.get("postcode")),
                slots=_integer(row, "slots", None, MAX_SLOTS),
                seats=_integer(row, "seats", 1, MAX_SEATS),
            ))
    return firms


def _boolean(text: str, name: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise InvalidProfile(f"{name} {text!r} is not a yes/no value: use 1 or 0 (or oui/non)", field=name,
                         message_fr=f"{name} {text!r} n'est pas oui/non : utilisez 1 ou 0 (ou oui/non)")


def parse_youths(text: str, referential: Referential, *, source: str = "youths.csv") -> list[EventYouth]:
    """Validate the youths CSV (see ``docs/EVENT_PLANNER.md``) into :class:`EventYouth` rows.

    Raises:
        InvalidProfile, OutOfRange, UnknownRomeCode, UnknownCommune, LocationMismatch: the
            message names the file, the line and the column.
    """
    youths: list[EventYouth] = []
    seen: dict[str, int] = {}
    for line, row in _rows(text, source, YOUTH_COLUMNS, YOUTH_REQUIRED):
        with _at_line(source, line):
            youth_id = _identifier(row, "youth_id", seen, line)
            gender = row.get("gender", "").upper() or None
            if gender is not None and gender not in GENDERS:
                raise InvalidProfile(
                    f"gender {row['gender']!r}: use F, M, X or leave empty (not stated)", field="gender",
                    message_fr=f"genre {row['gender']!r} : utilisez F, M, X ou laissez vide (non renseigné)")
            mobility = row.get("mobility_km", "")
            try:
                radius = float(mobility.replace(",", ".")) if mobility else DEFAULT_MOBILITY_KM
            except ValueError:
                raise OutOfRange(
                    f"mobility_km {mobility!r} is not a number: give a distance in km between 1 and 200",
                    field="mobility_km", message_fr=f"mobility_km {mobility!r} n'est pas un nombre : "
                    "indiquez une distance en km entre 1 et 200") from None
            codes = [c for c in _CODE_SEPARATORS.split(row.get("wished_codes", "")) if c]
            youths.append(EventYouth(
                youth_id=youth_id,
                location=resolve_location(referential, row.get("commune_insee"), row.get("postcode")),
                mobility_km=check_mobility(radius),
                gender=gender,
                wished_codes=tuple(dict.fromkeys(_rome_code(referential, c, "wished_codes") for c in codes)),
                open_to_non_traditional=_boolean(row.get("open_to_non_traditional", ""),
                                                 "open_to_non_traditional"),
            ))
    return youths


def distances_km(youths: Sequence[EventYouth], firms: Sequence[EventFirm]) -> npt.NDArray[np.float64]:
    """Great-circle distances between commune centres, shape ``(n_youths, n_firms)``."""
    y_lat = np.array([y.location.lat for y in youths], dtype=float)[:, None]
    y_lon = np.array([y.location.lon for y in youths], dtype=float)[:, None]
    f_lat = np.array([f.location.lat for f in firms], dtype=float)
    f_lon = np.array([f.location.lon for f in firms], dtype=float)
    return np.asarray(haversine_km(y_lat, y_lon, f_lat, f_lon), dtype=float).reshape(len(youths), len(firms))


def default_fit(
    youths: Sequence[EventYouth],
    firms: Sequence[EventFirm],
    distances: npt.NDArray[np.float64],
    referential: Referential,
) -> npt.NDArray[np.float64]:
    """Score each meeting from the referential alone, shape ``(n_youths, n_firms)``.

    Relevance of the firm's card to the youth's wished cards, the best over the wishes:
    ``EXACT`` (1.0) same card, ``LINKED`` (0.6) a ROME mobility link either way,
    ``SAME_DOMAIN`` (0.3) same domaine professionnel (first three characters, e.g. ``D11``),
    else ``DISCOVERY`` (0.1; also for a youth without wishes). Then discounted with distance:
    ``relevance * (1 - DISTANCE_WEIGHT * min(distance / mobility_km, 1))``. Gender plays no part.
    """
    mobility = referential.mobility
    links = set(zip(mobility["code_rome"], mobility["code_rome_target"], strict=True))
    relevance = np.full((len(youths), len(firms)), DISCOVERY)
    for row, youth in enumerate(youths):
        for column, firm in enumerate(firms):
            code = firm.code_rome
            for wish in youth.wished_codes:
                if wish == code:
                    score = EXACT
                elif (wish, code) in links or (code, wish) in links:
                    score = LINKED
                elif wish[:3] == code[:3]:
                    score = SAME_DOMAIN
                else:
                    continue
                relevance[row, column] = max(relevance[row, column], score)
    radius = np.array([y.mobility_km for y in youths], dtype=float)[:, None]
    return relevance * (1.0 - DISTANCE_WEIGHT * np.minimum(distances / radius, 1.0))


def build_instance(
    firms: Sequence[EventFirm],
    youths: Sequence[EventYouth],
    referential: Referential,
    fit: FitFn | npt.ArrayLike | None = None,
) -> EventInstance:
    """Compute distances, reachability, fit and gender bands of one event.

    Args:
        firms, youths: parsed rows (:func:`parse_firms`, :func:`parse_youths`).
        referential: gives each card's share of women (bands) and, for the default fit, the
            mobility links.
        fit: ``None`` for :func:`default_fit`, a function ``fit(youths, firms, distances_km)``
            (e.g. built on the recommender's scores) or a matrix; shape ``(n_youths, n_firms)``.

    Raises:
        ValueError: the fit has the wrong shape or non-finite values.
    """
    distances = distances_km(youths, firms)
    if fit is None:
        scores = default_fit(youths, firms, distances, referential)
    else:
        scores = np.asarray(fit(youths, firms, distances) if callable(fit) else fit, dtype=float)
    if scores.shape != distances.shape or not np.isfinite(scores).all():
        raise ValueError(f"fit must be a finite matrix of shape {distances.shape}, got {scores.shape}")
    firm_bands = np.array([referential.band(referential.card(f.code_rome)["share_women"]) for f in firms])
    outside = np.zeros(distances.shape, dtype=bool)
    for row, youth in enumerate(youths):
        wish_bands = {referential.band(referential.card(c)["share_women"]) for c in youth.wished_codes}
        wish_bands.discard("unknown")
        if wish_bands:
            outside[row] = (firm_bands != "unknown") & ~np.isin(firm_bands, sorted(wish_bands))
    radius = np.array([y.mobility_km for y in youths], dtype=float)[:, None]
    return EventInstance(
        youth_ids=np.array([y.youth_id for y in youths], dtype=str),
        firm_ids=np.array([f.firm_id for f in firms], dtype=str),
        slots=np.array([f.slots for f in firms], dtype=np.int64),
        seats=np.array([f.seats for f in firms], dtype=np.int64),
        groups=np.array([y.gender_group for y in youths], dtype=object),
        distances_km=distances,
        reachable=distances <= radius + 1e-9,
        fit=scores,
        outside_band=outside,
        open_to_non_traditional=np.array([y.open_to_non_traditional for y in youths], dtype=bool),
    )
