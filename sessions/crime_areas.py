"""Crime areas: the controlled vocabulary of ``#tags`` (issue 23), with labels in the four
languages of the documents.

The terms are those the built-in plans and the demo use, named in the spirit of INTERPOL's
crime areas; a few other spellings a facilitator types (``#human-trafficking``, ``#narcotics``)
are aliases of a term.  A tag that is not in the vocabulary is kept and shown as typed.
"""

from __future__ import annotations

# term -> its label in en, fr, es, ar
TERMS: dict[str, dict[str, str]] = {
    "drugs": {
        "en": "drug trafficking",
        "fr": "trafic de drogue",
        "es": "narcotráfico",
        "ar": "الاتجار بالمخدرات",
    },
    "cybercrime": {
        "en": "cybercrime",
        "fr": "cybercriminalité",
        "es": "ciberdelincuencia",
        "ar": "الجرائم السيبرانية",
    },
    "fraud": {
        "en": "fraud",
        "fr": "fraude",
        "es": "fraude",
        "ar": "الاحتيال",
    },
    "financial-crime": {
        "en": "financial crime",
        "fr": "criminalité financière",
        "es": "delitos financieros",
        "ar": "الجرائم المالية",
    },
    "firearms": {
        "en": "firearms trafficking",
        "fr": "trafic d’armes à feu",
        "es": "tráfico de armas de fuego",
        "ar": "الاتجار بالأسلحة النارية",
    },
    "fugitives": {
        "en": "fugitives",
        "fr": "fugitifs",
        "es": "prófugos",
        "ar": "الفارّون",
    },
    "maritime": {
        "en": "maritime crime",
        "fr": "criminalité maritime",
        "es": "delincuencia marítima",
        "ar": "الجرائم البحرية",
    },
    "trafficking-in-persons": {
        "en": "trafficking in persons",
        "fr": "traite des personnes",
        "es": "trata de personas",
        "ar": "الاتجار بالأشخاص",
    },
    "migrant-smuggling": {
        "en": "migrant smuggling",
        "fr": "trafic de migrants",
        "es": "tráfico ilícito de migrantes",
        "ar": "تهريب المهاجرين",
    },
    "vehicles": {
        "en": "vehicle crime",
        "fr": "criminalité liée aux véhicules",
        "es": "delitos relacionados con vehículos",
        "ar": "الجرائم المتعلقة بالمركبات",
    },
    "wildlife": {
        "en": "wildlife crime",
        "fr": "criminalité liée aux espèces sauvages",
        "es": "delitos contra la vida silvestre",
        "ar": "الجرائم المتعلقة بالأحياء البرية",
    },
    "environmental-crime": {
        "en": "environmental crime",
        "fr": "criminalité environnementale",
        "es": "delitos ambientales",
        "ar": "الجرائم البيئية",
    },
    "counterfeit": {
        "en": "illicit goods and counterfeiting",
        "fr": "produits illicites et contrefaçon",
        "es": "productos ilícitos y falsificación",
        "ar": "السلع غير المشروعة والتزييف",
    },
    "child-abuse": {
        "en": "crimes against children",
        "fr": "criminalité contre les enfants",
        "es": "delitos contra menores",
        "ar": "الجرائم ضد الأطفال",
    },
    "terrorism": {
        "en": "terrorism",
        "fr": "terrorisme",
        "es": "terrorismo",
        "ar": "الإرهاب",
    },
    "organized-crime": {
        "en": "organized crime",
        "fr": "criminalité organisée",
        "es": "delincuencia organizada",
        "ar": "الجريمة المنظمة",
    },
    "cultural-property": {
        "en": "cultural property crime",
        "fr": "atteintes aux biens culturels",
        "es": "delitos contra bienes culturales",
        "ar": "الجرائم المتعلقة بالممتلكات الثقافية",
    },
    "corruption": {
        "en": "corruption",
        "fr": "corruption",
        "es": "corrupción",
        "ar": "الفساد",
    },
}

# other spellings of a term
ALIASES: dict[str, str] = {
    "trafficking": "trafficking-in-persons",
    "human-trafficking": "trafficking-in-persons",
    "thb": "trafficking-in-persons",
    "tip": "trafficking-in-persons",
    "smuggling": "migrant-smuggling",
    "people-smuggling": "migrant-smuggling",
    "narcotics": "drugs",
    "drug-trafficking": "drugs",
    "cyber": "cybercrime",
    "financial": "financial-crime",
    "money-laundering": "financial-crime",
    "wildlife-crime": "wildlife",
    "environment": "environmental-crime",
    "illegal-fishing": "environmental-crime",
    "weapons": "firearms",
    "guns": "firearms",
    "vehicle-crime": "vehicles",
    "stolen-vehicles": "vehicles",
    "counterfeiting": "counterfeit",
    "illicit-goods": "counterfeit",
    "csae": "child-abuse",
    "children": "child-abuse",
    "organised-crime": "organized-crime",
    "terrorist-financing": "terrorism",
    "cultural-heritage": "cultural-property",
    "art": "cultural-property",
}


def term(tag: str) -> str | None:
    """The vocabulary's term for a tag (case and ``_`` ignored), or None for a tag of one's own."""
    key = tag.strip().lstrip("#").casefold().replace("_", "-").replace(" ", "-")
    if key in TERMS:
        return key
    return ALIASES.get(key)


def label(tag: str, lang: str = "en") -> str:
    """A tag as the documents of ``lang`` name it: the term's label, or the tag as typed."""
    found = term(tag)
    if found is None:
        return tag
    labels = TERMS[found]
    return labels.get(lang) or labels["en"]
