"""Prompt moderation: brand-blocked terms plus a short built-in list, matched on whole words.

Text and terms are compared casefolded and accent-free (NFKD), on word tokens, so "Nazi", "NAZÍ" and
"nazis" match "nazi" while "class" does not match "ass". Multi-word terms match consecutive words.
A common look-alike substitution (0→o, 1→i, 3→e, 4→a, 5→s, 7→t, @→a, $→s) is also checked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Kept deliberately short: unambiguous terms for content a brand's products must never carry.
BUILTIN_TERMS: dict[str, tuple[str, ...]] = {
    "hate": ("nazi", "swastika", "heil hitler", "white power", "kkk", "sieg heil", "hakenkreuz"),
    "sexual": ("porn", "porno", "pornographie", "pornography", "hentai", "nsfw"),
    "sexual_minors": ("child porn", "pedophile", "pedophilia", "pedophilie", "pedopornographie"),
    "violence": ("terrorist attack", "attentat", "school shooting", "beheading", "decapitation"),
    "self_harm": ("kill yourself", "suicide toi", "tue toi"),
}
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})


@dataclass(frozen=True, slots=True)
class ModerationResult:
    """Whether the text may be used, which terms matched (as configured) and their categories."""

    allowed: bool
    matched_terms: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)


def normalize(text: str) -> str:
    """Casefold, expand ligatures, strip accents."""
    folded = text.casefold().replace("œ", "oe").replace("æ", "ae")
    return "".join(ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text)


def _variants(text: str) -> list[list[str]]:
    base = normalize(text)
    words = _words(base)
    leet = _words(re.sub(r"[^\w\s@$]", " ", base).translate(_LEET))
    return [words] if leet == words else [words, leet]


def _matches(term_words: Sequence[str], words: Sequence[str]) -> bool:
    n = len(term_words)
    if n == 0 or n > len(words):
        return False
    for i in range(len(words) - n + 1):
        ok = True
        for j, tw in enumerate(term_words):
            w = words[i + j]
            # Whole words; the last word may carry a plural ending ("nazis", "porns").
            if w != tw and not (j == n - 1 and w in (tw + "s", tw + "es", tw + "x")):
                ok = False
                break
        if ok:
            return True
    return False


def check_prompt(text: str, blocked_terms: Iterable[str] = (), *, builtin: bool = True) -> ModerationResult:
    """Check text against a brand's blocked terms and (unless disabled) the built-in list."""
    variants = _variants(text)
    matched: list[str] = []
    categories: list[str] = []
    candidates: list[tuple[str, str]] = [(t, "brand") for t in blocked_terms if t.strip()]
    if builtin:
        candidates += [(t, cat) for cat, terms in BUILTIN_TERMS.items() for t in terms]
    for term, cat in candidates:
        tw = _words(normalize(term))
        if any(_matches(tw, words) for words in variants):
            if term not in matched:
                matched.append(term)
            if cat not in categories:
                categories.append(cat)
    return ModerationResult(not matched, matched, categories)
