"""Text-to-design planner: a prompt ("gold script name Emma on the round pendant", "prénom Léa en
doré sur le mug") → a plan of inputs for one of the brand's products. Pure: no I/O, deterministic.

Steps: pick the product (given id, else the best match of the prompt's words — English and French
synonyms — against product names and SKUs); take the text (quoted text, then "name X" / "prénom X"
/ "text X", then the first run of capitalised words that are not instruction words); the font by
style words (script/cursive/élégant → fnt_script, serif/classic → fnt_serif, bold/poster →
fnt_display, mono/typewriter → fnt_mono, sans/modern → fnt_sans; none → the zone's default); the
colour by name (EN/FR), snapped to the nearest allowed colour (zone, else product palette, else
brand palette) by CIEDE2000; the zone (one the prompt names, else an arc zone, else the first text
zone the text fits). Other required one-letter zones get the text's initial; an image zone gets
`asset_id` when given. The service then builds the spec through the rules engine.
`plan_from_structured` checks and completes a plan proposed by an LLM the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from luneo.ai.error_codes import AIErrorCode
from luneo.ai.local._color import delta_e2000, parse_hex, srgb_to_lab, to_hex
from luneo.ai.local.moderation import normalize
from luneo.design.fonts import BUNDLED_FONTS, DEFAULT_FONT_ID
from luneo.design.model import ProductDef, ZoneDef

MAX_TEXT = 200
BRAND_SHADE_DELTA_E = 12.0

STYLE_FONTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fnt_sans", ("sans serif", "sans-serif", "sans empattement", "sans empattements")),
    (
        "fnt_script",
        (
            "script",
            "cursive",
            "cursif",
            "handwritten",
            "handwriting",
            "calligraphy",
            "calligraphie",
            "elegant",
            "elegante",
            "manuscrit",
            "manuscrite",
            "romantic",
            "romantique",
            "wedding",
            "mariage",
            "signature",
        ),
    ),
    (
        "fnt_mono",
        (
            "mono",
            "monospace",
            "monospaced",
            "typewriter",
            "machine a ecrire",
            "code",
            "technical",
            "technique",
        ),
    ),
    (
        "fnt_display",
        (
            "bold",
            "poster",
            "gras",
            "grasse",
            "affiche",
            "display",
            "headline",
            "impact",
            "condensed",
            "condense",
            "titre",
        ),
    ),
    (
        "fnt_serif",
        (
            "serif",
            "classic",
            "classique",
            "traditional",
            "traditionnel",
            "traditionnelle",
            "empattement",
            "empattements",
            "garamond",
            "roman",
            "vintage",
        ),
    ),
    ("fnt_sans", ("sans", "modern", "moderne", "minimal", "minimaliste", "clean", "simple")),
)

COLOUR_NAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("#b76e79", ("rose gold", "or rose")),
    ("#c9a227", ("gold", "golden", "dore", "doree", "dores", "dorees", "en or", "d or", "or jaune")),
    ("#c0c0c0", ("silver", "argent", "argente", "argentee", "argentes")),
    ("#1f3a5f", ("navy", "navy blue", "bleu marine", "marine")),
    ("#4aa3df", ("sky blue", "bleu ciel", "ciel")),
    ("#000000", ("black", "noir", "noire", "noirs")),
    ("#ffffff", ("white", "blanc", "blanche", "blancs")),
    ("#d32f2f", ("red", "rouge", "rouges")),
    ("#1e66d0", ("blue", "bleu", "bleue", "bleus")),
    ("#2e7d32", ("green", "vert", "verte", "verts", "forest")),
    ("#c2185b", ("pink", "rose", "roses", "fuchsia")),
    ("#6a1b9a", ("purple", "violet", "violette", "mauve")),
    ("#ef6c00", ("orange",)),
    ("#f9d71c", ("yellow", "jaune")),
    ("#6d4c41", ("brown", "marron", "brun", "brune")),
    ("#808080", ("grey", "gray", "gris", "grise")),
    ("#b87333", ("copper", "cuivre")),
    ("#cd7f32", ("bronze",)),
)

PRODUCT_CONCEPTS: tuple[frozenset[str], ...] = (
    frozenset({"pendant", "pendentif", "medallion", "medaillon", "necklace", "collier", "charm", "breloque"}),
    frozenset({"mug", "tasse", "cup", "mugs"}),
    frozenset({"tshirt", "shirt", "tee", "teeshirt", "t"}),
    frozenset({"sign", "panneau", "pancarte", "plaque", "enseigne", "wooden", "bois"}),
    frozenset({"phone", "case", "coque", "telephone", "iphone", "smartphone"}),
    frozenset({"card", "carte", "business", "visite"}),
    frozenset({"round", "rond", "ronde", "circle", "cercle"}),
)

ZONE_HINTS: dict[str, frozenset[str]] = {
    "arc": frozenset({"arc", "along", "top", "curved", "courbe", "haut", "arrondi", "cercle"}),
    "initial": frozenset(
        {"initial", "initiale", "initials", "initiales", "letter", "lettre", "monogram", "monogramme"}
    ),
}

TEXT_KEYWORDS = re.compile(
    r"(?:\bname[ds]?|\bcalled|\btext(?:e)?|\bpr[ée]nom|\bnom|\bword|\bmot|\binitial(?:e)?s?|\bmonogram(?:me)?"
    r"|\bwrite|\b[ée]cri(?:re|s|t|vez))\s*[:=]?\s+(?:(?:of|de|du|the|le|la)\s+)?([^\W\d_][\w'’-]*)",
    re.IGNORECASE,
)
QUOTED = re.compile(
    r"\"([^\"]{1,200})\"|“([^”]{1,200})”|«\s*([^»]{1,200}?)\s*»|(?:^|\s)'([^']{1,200})'(?=$|[\s.,;:!?])"
)
WORD = re.compile(r"[^\W\d_][\w'’-]*")

_FUNCTION_WORDS = """
a an the on in at of to for with and or my our your his her their this that it its is be please make
create want would like i we me us add put write engrave engraved engraving print printed design
designs text name named called word letter using use le la les l un une des du de d sur en avec pour
et au aux mon ma mes ton ta tes son sa ses notre votre je veux voudrais faire fais cree creer creez
ajoute ajouter mets mettre grave graver gravee imprime imprimer texte nom prenom mot lettre dans
along top front back side font police style color colour couleur written ecrit ecrire ecrivez
"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())


class PlanError(ValueError):
    """The prompt cannot be turned into a plan (no product, no text): a 422 for the caller."""

    def __init__(self, code: AIErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Plan:
    """Which product and zone, what text, font and colour; the inputs for `build_spec`."""

    product_id: str
    zone: str | None
    text: str | None
    font: str | None
    color: str | None
    inputs: dict[str, dict[str, Any]]
    planner: str = "local"
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "zone": self.zone,
            "text": self.text,
            "font": self.font,
            "color": self.color,
            "inputs": self.inputs,
            "planner": self.planner,
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- helpers


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", normalize(text))


def _phrase_in(phrase: str, norm_text: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", norm_text) is not None


def _norm_spaced(text: str) -> str:
    return " ".join(_tokens(text))


def _vocabulary() -> frozenset[str]:
    words: set[str] = set(FUNCTION_WORDS)
    for _, phrases in STYLE_FONTS + COLOUR_NAMES:
        for ph in phrases:
            words.update(ph.split())
    for concept in PRODUCT_CONCEPTS:
        words.update(concept)
    for hints in ZONE_HINTS.values():
        words.update(hints)
    words.discard("rose")  # a colour and a first name: a capitalised "Rose" is kept as text
    return frozenset(words)


INSTRUCTION_WORDS = _vocabulary()


def _instruction_word(word: str, products: Sequence[ProductDef]) -> bool:
    norm = _norm_spaced(word)
    if not norm:
        return True
    if all(t in INSTRUCTION_WORDS for t in norm.split()):
        return True
    return any(norm in _product_words(p) for p in products)


def _product_words(product: ProductDef) -> set[str]:
    words = {
        t for t in _tokens(f"{product.name} {product.sku.replace('-', ' ').replace('_', ' ')}") if len(t) > 1
    }
    for concept in PRODUCT_CONCEPTS:
        if words & concept:
            words |= concept
    words -= {"demo", "the", "and", "de", "la", "le"}
    return words


# --------------------------------------------------------------------------- pieces


def pick_product(prompt: str, products: Sequence[ProductDef], product_id: str | None = None) -> ProductDef:
    """The product named by id, else the one whose name/SKU words the prompt uses most."""
    if product_id is not None:
        for p in products:
            if p.id == product_id:
                return p
        raise PlanError(AIErrorCode.PRODUCT_NOT_FOUND, f"Product {product_id} not found.")
    candidates = [p for p in products if any(z.kind == "text" for z in p.zones)]
    if not candidates:
        raise PlanError(AIErrorCode.NO_TEXT_PRODUCT, "The brand has no product with a text zone.")
    words = set(_tokens(prompt))
    scored = sorted(
        ((len(words & _product_words(p)), i, p) for i, p in enumerate(candidates)),
        key=lambda x: (-x[0], x[1]),
    )
    if scored[0][0] > 0:
        return scored[0][2]
    if len(candidates) == 1:
        return candidates[0]
    raise PlanError(
        AIErrorCode.PRODUCT_NOT_FOUND,
        "Name the product in the prompt (e.g. 'on the pendant') or pass product_id.",
    )


def extract_text(
    prompt: str, products: Sequence[ProductDef] = ()
) -> tuple[str | None, tuple[int, int] | None]:
    """The text to write and its span in the prompt: quoted text, then a keyword, then capitalised words."""
    m = QUOTED.search(prompt)
    if m:
        i = next(g for g in range(1, 5) if m.group(g) is not None)
        value = m.group(i).strip()
        if value:
            return value[:MAX_TEXT], m.span(i)
    for km in TEXT_KEYWORDS.finditer(prompt):
        word = km.group(1).strip("'’-")
        if word and not _instruction_word(word, products):
            start, end = km.span(1)
            # A following run of capitalised words belongs to the name ("name Emma Rose").
            for nxt in WORD.finditer(prompt, end):
                if (
                    not _joins(prompt[end : nxt.start()])
                    or not nxt.group(0)[:1].isupper()
                    or _instruction_word(nxt.group(0), products)
                ):
                    break
                end = nxt.end()
            return prompt[start:end][:MAX_TEXT], (start, end)
    run: list[re.Match[str]] = []
    for wm in WORD.finditer(prompt):
        w = wm.group(0)
        if run and w.lower() in CONNECTORS:
            continue
        is_name = w[:1].isupper() and not _instruction_word(w, products)
        if is_name and (not run or _joins(prompt[run[-1].end() : wm.start()])):
            run.append(wm)
        elif run:
            break
    if run:
        start, end = run[0].start(), run[-1].end()
        return prompt[start:end][:MAX_TEXT], (start, end)
    return None, None


CONNECTORS = frozenset({"&", "+", "and", "et"})


def _joins(gap: str) -> bool:
    """Whether the text between two capitalised words keeps them in one name ("Paul & Marie")."""
    inner = gap.strip()
    return inner == "" or (inner.lower() in CONNECTORS and gap != inner)


def pick_style_font(prompt: str) -> str | None:
    norm = _norm_spaced(prompt)
    for font_id, phrases in STYLE_FONTS:
        if any(_phrase_in(ph, norm) for ph in phrases):
            return font_id
    return None


def named_colour(prompt: str) -> tuple[str, str] | None:
    """(reference hex, the name used) of the first colour the prompt names."""
    norm = _norm_spaced(prompt)
    best: tuple[int, str, str] | None = None
    for hx, names in COLOUR_NAMES:
        for name in names:
            m = re.search(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", norm)
            if m and (
                best is None or m.start() < best[0] or (m.start() == best[0] and len(name) > len(best[2]))
            ):
                best = (m.start(), hx, name)
    return (best[1], best[2]) if best else None


def nearest_colour(reference: str, candidates: Sequence[str]) -> str:
    """The candidate closest to `reference` (CIEDE2000); the reference itself when none."""
    if not candidates:
        return reference.lower()
    ref = srgb_to_lab(np.array(parse_hex(reference), dtype=np.float64))
    labs = srgb_to_lab(np.array([parse_hex(c) for c in candidates], dtype=np.float64))
    d = delta_e2000(np.broadcast_to(ref, labs.shape), labs)
    return to_hex(parse_hex(candidates[int(np.argmin(d))]))


def colour_distance(a: str, b: str) -> float:
    """CIEDE2000 difference of two hex colours."""
    la = srgb_to_lab(np.array(parse_hex(a), dtype=np.float64))
    lb = srgb_to_lab(np.array(parse_hex(b), dtype=np.float64))
    return float(delta_e2000(la[None, :], lb[None, :])[0])


def zone_palette(product: ProductDef, zone: ZoneDef) -> list[str]:
    return [c.lower() for c in (zone.rules.allowed_colors or product.palette)]


def pick_zone(prompt: str, product: ProductDef, text: str | None) -> ZoneDef:
    texts = [z for z in product.zones if z.kind == "text"]
    if not texts:
        raise PlanError(AIErrorCode.NO_TEXT_ZONE, f"The product {product.sku} has no text zone.")
    words = set(_tokens(prompt))
    generic = {"name", "text", "texte", "nom", "the", "de", "la", "le"}

    def mention(z: ZoneDef) -> int:
        zw = {t for t in _tokens(f"{z.key.replace('_', ' ')} {z.label}") if len(t) > 1} - generic
        score = len(words & zw)
        if z.geometry.shape == "arc" and words & ZONE_HINTS["arc"]:
            score += 2
        if (z.rules.max_chars == 1 or "initial" in z.key) and words & ZONE_HINTS["initial"]:
            score += 2
        return score

    scored = sorted(((mention(z), i, z) for i, z in enumerate(texts)), key=lambda x: (-x[0], x[1]))
    if scored[0][0] > 0:
        return scored[0][2]
    n = len(text or "")

    def fits(z: ZoneDef) -> bool:
        return z.rules.max_chars is None or n <= z.rules.max_chars

    for z in texts:
        if z.geometry.shape == "arc" and fits(z):
            return z
    if n == 1:
        for z in texts:
            if z.rules.max_chars == 1:
                return z
    for z in texts:
        if fits(z) and not (z.rules.max_chars == 1 and n > 1):
            return z
    return texts[0]


def _font_for_zone(zone: ZoneDef, wanted: str | None, notes: list[str]) -> str:
    allowed = zone.rules.allowed_fonts
    if wanted and (not allowed or wanted in allowed):
        return wanted
    fallback = zone.default_font or (allowed[0] if allowed else DEFAULT_FONT_ID)
    if wanted:
        notes.append(f"{wanted} is not allowed in zone {zone.key}; using {fallback}.")
    return fallback


def _colour_for_zone(
    product: ProductDef, zone: ZoneDef, reference: str | None, brand_palette: Sequence[str], notes: list[str]
) -> str | None:
    if reference is None:
        return None
    allowed = zone_palette(product, zone)
    if not allowed:
        # A free zone: the brand's own shade of that colour when it has a close one (ΔE00 ≤ 12).
        near = nearest_colour(reference, brand_palette) if brand_palette else reference
        return near if colour_distance(reference, near) <= BRAND_SHADE_DELTA_E else reference.lower()
    chosen = nearest_colour(reference, allowed)
    if chosen != reference.lower():
        notes.append(f"Colour {reference} snapped to the allowed {chosen} in zone {zone.key}.")
    return chosen


def _assemble(
    product: ProductDef,
    zone: ZoneDef,
    text: str,
    font: str | None,
    colour_ref: str | None,
    brand_palette: Sequence[str],
    asset_id: str | None,
    planner: str,
    notes: list[str],
) -> Plan:
    if font:
        font_id = _font_for_zone(zone, font, notes)
    else:
        allowed = zone.rules.allowed_fonts
        font_id = zone.default_font or (allowed[0] if allowed else DEFAULT_FONT_ID)
    colour = _colour_for_zone(product, zone, colour_ref, brand_palette, notes)
    main: dict[str, Any] = {"kind": "text", "text": text, "font": font_id}
    if colour:
        main["color"] = colour
    inputs: dict[str, dict[str, Any]] = {zone.key: main}
    initial = next((ch for ch in text if ch.isalpha()), None)
    for z in product.zones:
        if z.key == zone.key or not z.rules.required:
            continue
        if z.kind == "text" and z.rules.max_chars == 1 and initial:
            letter = initial.upper()
            if z.rules.allowed_chars is not None and letter not in z.rules.allowed_chars:
                continue
            extra: dict[str, Any] = {
                "kind": "text",
                "text": letter,
                "font": _font_for_zone(z, font_id if font else None, []),
            }
            c = _colour_for_zone(product, z, colour, brand_palette, [])
            if c:
                extra["color"] = c
            inputs[z.key] = extra
            notes.append(f"Zone {z.key} is required: filled with the initial {letter}.")
    if asset_id:
        image_zone = next((z for z in product.zones if z.kind == "image"), None)
        if image_zone is not None:
            inputs[image_zone.key] = {"kind": "image", "asset_id": asset_id}
    return Plan(product.id, zone.key, text, font_id, colour, inputs, planner, notes)


# --------------------------------------------------------------------------- entry points


def plan_design(
    prompt: str,
    products: Sequence[ProductDef],
    *,
    product_id: str | None = None,
    brand_palette: Sequence[str] = (),
    asset_id: str | None = None,
) -> Plan:
    """The local (rule-based) plan for `prompt` over the brand's products."""
    product = pick_product(prompt, products, product_id)
    text, span = extract_text(prompt, products)
    if not text:
        raise PlanError(AIErrorCode.NO_TEXT_FOUND, 'Say what to write, e.g. name "Emma" or prénom Léa.')
    rest = prompt if span is None else prompt[: span[0]] + " " + prompt[span[1] :]
    zone = pick_zone(rest, product, text)
    colour = named_colour(rest)
    notes: list[str] = []
    return _assemble(
        product,
        zone,
        text,
        pick_style_font(rest),
        colour[0] if colour else None,
        brand_palette,
        asset_id,
        "local",
        notes,
    )


def plan_schema(products: Sequence[ProductDef]) -> dict[str, Any]:
    """JSON Schema of the structured plan an LLM is asked for."""
    fonts = sorted(f.id for f in BUNDLED_FONTS.values() if f.role == "primary")
    return {
        "type": "object",
        "properties": {
            "product_sku": {"type": "string", "enum": [p.sku for p in products]},
            "zone": {"type": "string", "description": "key of a text zone of the product"},
            "text": {"type": "string", "maxLength": MAX_TEXT},
            "font": {"type": "string", "enum": fonts},
            "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
        },
        "required": ["product_sku", "zone", "text"],
        "additionalProperties": False,
    }


def catalogue_brief(products: Sequence[ProductDef]) -> str:
    """A compact description of the products and their text zones for an LLM prompt."""
    lines = []
    for p in products:
        zones = [
            f"{z.key} ({z.label or z.kind}; shape {z.geometry.shape}; "
            f"max {z.rules.max_chars or 'any'} chars; "
            f"fonts {','.join(z.rules.allowed_fonts) or 'any'}; colours "
            f"{','.join(zone_palette(p, z)) or 'any'})"
            for z in p.zones
            if z.kind == "text"
        ]
        if zones:
            lines.append(f"- {p.sku}: {p.name} [{p.production_method}] zones: {'; '.join(zones)}")
    return "\n".join(lines)


def plan_from_structured(
    data: dict[str, Any],
    products: Sequence[ProductDef],
    *,
    product_id: str | None = None,
    brand_palette: Sequence[str] = (),
    asset_id: str | None = None,
) -> Plan:
    """Check an LLM's structured plan against the catalogue and complete it like a local plan."""
    if product_id is not None:
        product = pick_product("", products, product_id)
    else:
        sku = str(data.get("product_sku") or "")
        found = next((p for p in products if p.sku == sku or p.id == sku), None)
        if found is None:
            raise PlanError(AIErrorCode.INVALID_PLAN, "The plan names an unknown product.")
        product = found
    zone = next((z for z in product.zones if z.kind == "text" and z.key == data.get("zone")), None)
    if zone is None:
        raise PlanError(AIErrorCode.INVALID_PLAN, "The plan names an unknown zone.")
    text = str(data.get("text") or "").strip()[:MAX_TEXT]
    if not text:
        raise PlanError(AIErrorCode.INVALID_PLAN, "The plan has no text.")
    font = data.get("font")
    font = font if isinstance(font, str) and font in BUNDLED_FONTS else None
    colour = data.get("color")
    try:
        colour_ref = to_hex(parse_hex(colour)) if isinstance(colour, str) else None
    except ValueError:
        colour_ref = None
    return _assemble(product, zone, text, font, colour_ref, brand_palette, asset_id, "llm", [])
