"""A searchable open-licence clipart library: a curated subset of Tabler Icons (MIT).

299 SVG icons (24×24 viewBox; filled where Tabler has a filled style, else stroked outline) with
their names, categories and tags in `icons/index.json`; `icons/LICENSE` is Tabler's MIT licence.
Search tokenises the query (case- and accent-insensitive, simple plural folding) and expands
English and French synonyms ("love" → heart, "mariage" → rings, …).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

SYNONYMS: dict[str, tuple[str, ...]] = {
    "love": ("heart",),
    "amour": ("heart",),
    "coeur": ("heart",),
    "valentine": ("heart",),
    "valentin": ("heart",),
    "romance": ("heart",),
    "romantic": ("heart",),
    "wedding": ("rings", "heart", "glass-champagne"),
    "mariage": ("rings", "heart", "glass-champagne"),
    "marriage": ("rings", "heart"),
    "engagement": ("rings", "diamond"),
    "fiancailles": ("rings", "diamond"),
    "anniversary": ("heart", "glass-champagne"),
    "birthday": ("cake", "gift", "balloon", "confetti"),
    "anniversaire": ("cake", "gift", "balloon", "confetti"),
    "party": ("confetti", "balloon", "glass-cocktail"),
    "fete": ("confetti", "balloon"),
    "celebration": ("confetti", "glass-champagne"),
    "flower": ("flower", "plant", "leaf"),
    "fleur": ("flower",),
    "floral": ("flower", "leaf"),
    "garden": ("flower", "plant", "seedling"),
    "jardin": ("flower", "plant"),
    "etoile": ("star",),
    "star": ("star", "sparkles"),
    "night": ("moon", "moon-stars"),
    "nuit": ("moon", "moon-stars"),
    "lune": ("moon",),
    "soleil": ("sun",),
    "summer": ("sun", "beach", "ice-cream"),
    "ete": ("sun", "beach"),
    "winter": ("snowflake", "snowman"),
    "hiver": ("snowflake", "snowman"),
    "neige": ("snowflake", "snowman"),
    "christmas": ("christmas-tree", "gift", "snowflake"),
    "noel": ("christmas-tree", "gift", "snowflake"),
    "xmas": ("christmas-tree", "gift"),
    "halloween": ("pumpkin-scary", "ghost", "bat"),
    "baby": ("baby-carriage", "baby-bottle"),
    "bebe": ("baby-carriage", "baby-bottle"),
    "naissance": ("baby-carriage", "baby-bottle"),
    "cat": ("cat",),
    "chat": ("cat",),
    "dog": ("dog", "paw"),
    "chien": ("dog", "paw"),
    "pet": ("paw", "dog", "cat"),
    "animal": ("paw",),
    "oiseau": ("feather",),
    "bird": ("feather",),
    "cheval": ("horse",),
    "poisson": ("fish",),
    "papillon": ("butterfly",),
    "music": ("music", "note", "piano"),
    "musique": ("music", "note", "piano"),
    "song": ("music", "note"),
    "sea": ("anchor", "sailboat", "wave-sine"),
    "mer": ("anchor", "sailboat", "wave-sine"),
    "ocean": ("anchor", "sailboat"),
    "marin": ("anchor", "sailboat"),
    "nautical": ("anchor", "sailboat"),
    "beach": ("beach", "sun"),
    "plage": ("beach", "sun"),
    "voyage": ("plane", "map", "globe"),
    "travel": ("plane", "map", "globe"),
    "montagne": ("mountain",),
    "nature": ("tree", "leaf", "mountain"),
    "foret": ("tree",),
    "forest": ("tree",),
    "arbre": ("tree",),
    "feuille": ("leaf",),
    "football": ("ball-football",),
    "foot": ("ball-football",),
    "soccer": ("ball-football",),
    "basket": ("ball-basketball",),
    "tennis": ("ball-tennis",),
    "rugby": ("rugby", "ball-american-football"),
    "velo": ("bike",),
    "cycling": ("bike",),
    "gym": ("barbell", "dumbbell"),
    "fitness": ("barbell", "dumbbell"),
    "sport": ("trophy", "medal"),
    "winner": ("trophy", "medal", "crown"),
    "champion": ("trophy", "medal", "crown"),
    "king": ("crown", "chess-king"),
    "queen": ("crown", "chess-queen"),
    "roi": ("crown",),
    "reine": ("crown",),
    "princess": ("crown",),
    "princesse": ("crown",),
    "coffee": ("coffee", "mug"),
    "cafe": ("coffee", "mug"),
    "tea": ("teapot", "mug"),
    "wine": ("glass-full",),
    "vin": ("glass-full",),
    "biere": ("beer",),
    "cuisine": ("chef-hat", "bowl-spoon"),
    "cooking": ("chef-hat", "bowl-spoon"),
    "chef": ("chef-hat",),
    "gateau": ("cake",),
    "luck": ("clover", "horseshoe"),
    "chance": ("clover", "horseshoe"),
    "magic": ("wand", "sparkles", "crystal-ball"),
    "magie": ("wand", "sparkles"),
    "space": ("rocket", "planet", "ufo"),
    "espace": ("rocket", "planet"),
    "home": ("home",),
    "maison": ("home",),
    "family": ("home-heart", "heart"),
    "famille": ("home-heart", "heart"),
    "friend": ("heart-handshake",),
    "ami": ("heart-handshake",),
    "friendship": ("heart-handshake",),
    "amitie": ("heart-handshake",),
    "peace": ("peace",),
    "paix": ("peace",),
    "zen": ("yin-yang", "om", "yoga"),
    "book": ("book",),
    "livre": ("book",),
    "school": ("pencil", "book"),
    "ecole": ("pencil", "book"),
    "teacher": ("pencil", "book", "apple"),
    "maitresse": ("pencil", "book", "apple"),
    "maitre": ("pencil", "book"),
    "art": ("palette", "brush"),
    "painting": ("palette", "brush"),
    "camping": ("tent", "campfire"),
    "fire": ("flame", "campfire"),
    "feu": ("flame", "campfire"),
    "rainbow": ("rainbow",),
    "arc": ("rainbow",),
    "pluie": ("cloud-rain", "umbrella"),
    "rain": ("cloud-rain", "umbrella"),
}
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "for",
        "with",
        "in",
        "on",
        "at",
        "to",
        "my",
        "our",
        "your",
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "un",
        "une",
        "et",
        "avec",
        "pour",
        "en",
        "au",
        "aux",
        "sur",
        "mon",
        "ma",
        "mes",
        "notre",
        "nos",
        "ton",
        "ta",
        "tes",
        "design",
        "logo",
        "image",
        "picture",
        "dessin",
        "motif",
        "style",
        "please",
        "svp",
    ]
)
# Icons that carry a negative mood: only chosen when asked for by name.
_DEMOTED = frozenset({"heart-broken", "pumpkin-scary", "ghost", "bug", "spider", "bat", "mood-crazy-happy"})
_PLURAL_KEEP = {
    "glass",
    "gas",
    "bus",
    "yes",
    "plus",
    "chess",
    "dress",
    "cactus",
    "octopus",
    "christmas",
    "news",
}


@dataclass(frozen=True, slots=True)
class ClipartHit:
    """A search result: icon name, relevance score, style ('filled' or 'outline'), category, tags."""

    name: str
    score: float
    style: str
    category: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Icon:
    name: str
    file: str
    style: str
    category: str
    tags: tuple[str, ...]
    words: frozenset[str]


def normalize_text(text: str) -> str:
    """Casefold and strip accents (NFKD, combining marks removed)."""
    folded = text.casefold().replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokenize(text: str) -> list[str]:
    """Lower-case, accent-free word tokens with simple plural folding ("hearts" → "heart")."""
    out: list[str] = []
    for tok in re.findall(r"[a-z0-9]+", normalize_text(text)):
        out.append(_singular(tok))
    return out


def _singular(tok: str) -> str:
    if len(tok) > 3 and tok.endswith("s") and tok not in _PLURAL_KEEP and not tok.endswith("ss"):
        return tok[:-1]
    return tok


@cache
def _library() -> tuple[_Icon, ...]:
    data = json.loads(resources.files(__package__).joinpath("icons/index.json").read_text("utf-8"))
    icons = []
    for item in data["icons"]:
        tags = tuple(item["tags"])
        words = frozenset(_singular(w) for w in (*tags, *item["name"].split("-")))
        icons.append(_Icon(item["name"], item["file"], item["style"], item["category"], tags, words))
    return tuple(icons)


def icon_names() -> list[str]:
    """Every icon name in the library (sorted)."""
    return sorted(i.name for i in _library())


@cache
def icon_svg(name: str) -> str:
    """The SVG source of an icon; KeyError when the name is unknown."""
    for icon in _library():
        if icon.name == name:
            return resources.files(__package__).joinpath("icons", icon.file).read_text("utf-8")
    raise KeyError(name)


def search_clipart(query: str, limit: int = 20) -> list[ClipartHit]:
    """Icons matching the query words (name > name part > tag > category), best first.

    Synonyms (English and French) add candidates at a lower weight.
    """
    tokens = [t for t in tokenize(query) if len(t) > 1 and t not in STOPWORDS]
    weighted: dict[str, float] = {}
    for tok in tokens:
        weighted[tok] = max(weighted.get(tok, 0.0), 1.0)
        for syn in SYNONYMS.get(tok, ()):
            weighted[syn] = max(weighted.get(syn, 0.0), 0.9)
    if not weighted:
        return []
    hits: list[ClipartHit] = []
    for icon in _library():
        parts = icon.name.split("-")
        score = 0.0
        for term, weight in weighted.items():
            if term == icon.name:
                score += 10.0 * weight
            elif term in parts:
                score += (6.0 - 0.5 * parts.index(term)) * weight
            elif term in icon.words:
                score += 2.0 * weight
            elif term == normalize_text(icon.category):
                score += 1.0 * weight
        if icon.name in _DEMOTED and icon.name not in weighted:
            score *= 0.3
        if score > 0:
            hits.append(ClipartHit(icon.name, round(score, 3), icon.style, icon.category, icon.tags))
    hits.sort(key=lambda h: (-h.score, len(h.name), h.name))
    return hits[: max(0, limit)]
