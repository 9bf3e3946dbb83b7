"""French wording for synthetic data: gendered job titles, vacancy texts, youth experiences.

Pure functions over strings; the random choices are made by the caller (as uniform numbers in
``[0, 1)``) so that every text is a deterministic function of the seed.
"""

from __future__ import annotations

from collections.abc import Sequence

EMPLOYER_KINDS = {
    "artisanat": "Entreprise artisanale",
    "commerce": "Commerce de proximité",
    "liberal": "Cabinet libéral",
    "other": "Établissement",
}
CONTRACT_PHRASES = {
    "CDI": "en CDI",
    "CDD": "en CDD de six mois",
    "interim": "en mission d'intérim",
    "apprentissage": "en contrat d'apprentissage",
    "professionnalisation": "en contrat de professionnalisation",
    "stage": "pour un stage",
    "immersion": "pour une immersion professionnelle (PMSMP) de deux semaines",
}
CONDITIONS = (
    "Horaires : du lundi au vendredi, 35 heures par semaine.",
    "Travail du mardi au samedi, horaires en journée.",
    "Horaires décalés, travail possible le week-end et les jours fériés.",
    "Temps partiel de 24 heures par semaine, évolutif.",
    "Permis B souhaité pour les déplacements.",
    "Poste accessible en transports en commun.",
    "Tenue de travail fournie, prime de panier.",
)
BEGINNERS_WELCOME = "Débutant(e)s bienvenu(e)s : une formation est assurée sur place."
EXPERIENCE_WANTED = "Une première expérience dans le métier est demandée."
GENERIC_EXPERIENCES = (
    "Babysitting le week-end",
    "Aide aux devoirs pour des collégiens",
    "Service civique de six mois dans une association sportive",
    "Animation en centre de loisirs pendant les vacances (BAFA)",
    "Vente sur les marchés avec ma famille",
    "Distribution de prospectus dans mon quartier",
)
HOBBIES = (
    "Le week-end je fais du foot",
    "Je fais de la musique",
    "J'aime les jeux vidéo",
    "Je dessine beaucoup",
    "Je fais de la danse",
    "J'aime cuisiner pour ma famille",
    "Je fais de la boxe",
    "J'aime bricoler",
)
NUMBERS_FR = ("deux", "trois", "quatre")


def gendered(label: str, gender: str | None) -> str:
    """Return the feminine (``"F"``) or masculine form of a ROME label such as ``"Boulanger / Boulangère"``.

    ``"Conducteur / Conductrice d'engins"`` -> ``"Conductrice d'engins"`` (F). The gendered span
    is the longest tail of the left side whose first word shares its first letters with the
    first word after the slash (``"Instructeur sportif / Instructrice sportive"``).
    """
    if " / " not in label:
        return label
    left, right = label.split(" / ", 1)
    left_words, right_words = left.split(" "), right.split(" ")
    span = 1
    for n in range(min(len(left_words), len(right_words)), 0, -1):
        a, b = left_words[-n].lower(), right_words[0].lower()
        prefix = min(3, len(a), len(b))
        if prefix and a[:prefix] == b[:prefix]:
            span = n
            break
    if gender == "F":
        form = " ".join(left_words[:-span] + right_words)
    else:
        form = " ".join(left_words + right_words[span:])
    return gendered(form, gender) if " / " in form else form


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym (``"DSI"``)."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def lower_label(label: str) -> str:
    """Lower-case the first letter of each side of ``"Boulanger / Boulangère"``."""
    return " / ".join(lower_first(part) for part in label.split(" / "))


def _clean_skill(skill: str) -> str:
    """Lower-case a ROME skill label and drop a trailing ellipsis ("nettoyer, pré-polir ...")."""
    return lower_first(skill.rstrip(" .…").rstrip(" ,"))


def short_naf_label(label: str) -> str:
    """Shorten a NAF label for display: ``"Commerce de détail de pain, pâtisserie (...)"`` -> first clause."""
    for cut in (" (", ", ", " ; "):
        if cut in label:
            label = label.split(cut, 1)[0]
    return label.strip()


def vacancy_title(label: str, contract: str, u: float) -> str:
    """Return a job-ad title from an appellation label, as employers write them."""
    masculine = gendered(label, "M")
    if contract == "apprentissage" and u < 0.5:
        return f"Apprenti(e) {lower_first(masculine)} H/F"
    if u < 0.75:
        return f"{masculine} H/F"
    return label


def vacancy_description(
    *,
    sector_family: str,
    naf_label: str,
    commune: str,
    appellation: str,
    contract: str,
    definition: str,
    skills: Sequence[str],
    beginners_accepted: bool,
    u: float,
) -> str:
    """Return 2 to 4 French sentences describing a vacancy."""
    kind = EMPLOYER_KINDS.get(sector_family, EMPLOYER_KINDS["other"])
    sector = f" ({naf_label.lower()})" if naf_label else ""
    sentences = [
        f"{kind}{sector} à {commune} recherche un(e) {lower_label(appellation)} "
        f"{CONTRACT_PHRASES[contract]}."
    ]
    if definition:
        # ROME 4.0 definitions start either with a verb ("Réalise des travaux...") or with the
        # job as subject ("Le Serveur en restauration joue un rôle clé...").
        subject = definition.split(" ", 1)[0] in (
            "Le",
            "La",
            "Les",
            "Un",
            "Une",
        ) or definition.startswith("L'")
        sentences.append(definition if subject else f"Missions : {lower_first(definition)}")
    if skills:
        items = [lower_first(s) for s in skills]
        listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]
        sentences.append(f"Vous serez amené(e) à {listed}.")
    if u < 0.35:
        sentences.append(BEGINNERS_WELCOME if beginners_accepted else EXPERIENCE_WANTED)
    elif u < 0.85:
        sentences.append(CONDITIONS[int((u - 0.35) / 0.5 * len(CONDITIONS))])
    return " ".join(sentences[:4])


def experience(appellation: str, skills: Sequence[str], u: float, v: float) -> str:
    """Return one short French experience line (stage, petit boulot, intérim, bénévolat...)."""
    job = lower_first(appellation)
    done = [_clean_skill(s) for s in skills[:2]]
    what = " et ".join(done)
    if u < 0.40:
        weeks = NUMBERS_FR[int(v * len(NUMBERS_FR))]
        return (
            f"Stage de {weeks} semaines comme {job} : {what}"
            if what
            else f"Stage de {weeks} semaines comme {job}"
        )
    if u < 0.60:
        return f"Job d'été comme {job} : {done[0]}" if done else f"Job d'été comme {job}"
    if u < 0.72:
        return (
            f"Mission d'intérim comme {job} : {what}" if what else f"Mission d'intérim comme {job}"
        )
    if u < 0.82:
        return f"Immersion (PMSMP) d'une semaine comme {job}"
    if u < 0.90 and done:
        return f"Bénévolat dans une association : {done[0]}"
    return GENERIC_EXPERIENCES[int(v * len(GENERIC_EXPERIENCES))]


def interests(centre: str | None, skill: str | None, gender: str | None, u: float) -> str:
    """Return a youth's interests sentence from a ROME interest centre, a skill and a hobby."""
    parts = []
    if centre:
        parts.append(gendered(centre, gender if gender in ("F", "M") else "M"))
    if skill and u < 0.6:
        parts.append(f"J'aime {_clean_skill(skill)}")
    if u < 0.3 or not parts:
        parts.append(HOBBIES[int(u / 0.3 * len(HOBBIES)) % len(HOBBIES)])
    return ". ".join(parts)
