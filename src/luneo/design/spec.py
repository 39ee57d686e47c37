"""Building a DesignSpec from a product and a shopper's inputs, and the spec's JSON Schema.

`build_spec` runs the rules engine, fills defaults (font, colour, auto-fit size), pins fonts
and images by SHA-256, and returns the spec with its canonical bytes (RFC 8785) and hash.
The same product and inputs always give the same bytes.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from luneo.design.bytecache import MIB, ByteLRU
from luneo.design.canonical import CanonicalizationError, canonicalize
from luneo.design.model import SPEC_VERSION, DesignSpec, ProductDef, TextInput
from luneo.design.rules import AssetLookup, FontDataLookup, Violation, validate_inputs

SCHEMA_ID = f"https://luneo.app/schemas/design-spec/{SPEC_VERSION}.json"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass
class BuildResult:
    """`spec`/`spec_hash`/`canonical` are set only when there are no violations."""

    spec: DesignSpec | None
    spec_hash: str | None
    canonical: bytes
    violations: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)
    sizes: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.spec is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.model_dump(mode="json") if self.spec else None,
            "spec_hash": self.spec_hash,
            "violations": [v.as_dict() for v in self.violations],
            "warnings": [w.as_dict() for w in self.warnings],
            "sizes": dict(self.sizes),
        }


def build_spec(
    product: ProductDef,
    inputs: dict[str, Any],
    *,
    font_sha_lookup: Callable[[str], str | None] | None = None,
    asset_lookup: AssetLookup | None = None,
    font_data_lookup: FontDataLookup | None = None,
    blocked_words: Sequence[str] = (),
    allowed_words: Sequence[str] = (),
) -> BuildResult:
    """Validate, resolve and freeze a design. Never raises on bad inputs (see `violations`).

    Brand (non-bundled) fonts need `font_data_lookup` (bytes, to check coverage and fit);
    `font_sha_lookup` may pin their stored SHA-256 (else the SHA-256 of the bytes is used).
    `asset_lookup(asset_id) -> (sha256, width_px, height_px)`; an unknown asset is a violation.
    `blocked_words`/`allowed_words`: the brand's lists, as in `validate_inputs`.
    """
    res = validate_inputs(
        product,
        inputs,
        font_data_lookup=font_data_lookup,
        asset_lookup=asset_lookup,
        blocked_words=blocked_words,
        allowed_words=allowed_words,
    )
    fail = BuildResult(None, None, b"", res.violations, res.warnings, res.sizes)
    if res.violations:
        return fail
    resolved: dict[str, Any] = {}
    for key, inp in res.resolved.items():
        if isinstance(inp, TextInput) and inp.font and font_sha_lookup is not None:
            pinned = font_sha_lookup(inp.font)
            if pinned:
                inp = inp.model_copy(update={"font_sha256": pinned})
        resolved[key] = inp
    try:
        prod = product if isinstance(product, ProductDef) else ProductDef.model_validate(product)
        # Inputs are re-validated from JSON so the spec holds exactly what its bytes say.
        spec = DesignSpec.model_validate(
            {
                "spec_version": SPEC_VERSION,
                "product": prod,
                "inputs": {k: v.model_dump(mode="json") for k, v in resolved.items()},
            }
        )
        canonical = canonical_spec(spec)
    except CanonicalizationError as exc:
        fail.violations = [
            Violation(
                None,
                "invalid_number",
                "The design contains a number JSON cannot carry.",
                {"reason": str(exc)},
            )
        ]
        return fail
    except (ValidationError, ValueError, TypeError) as exc:
        fail.violations = [
            Violation(None, "invalid_input", "The design could not be built.", {"reason": type(exc).__name__})
        ]
        return fail
    return BuildResult(spec, hashlib.sha256(canonical).hexdigest(), canonical, [], res.warnings, res.sizes)


# Canonical product bytes by the product's JSON, bounded in bytes (the key, about as large as the
# value, is counted too).
PRODUCT_CACHE_BYTES = 16 * MIB
product_canonical_cache: ByteLRU[str, bytes] = ByteLRU(PRODUCT_CACHE_BYTES, lambda v: 2 * len(v))


def _product_canonical(product: ProductDef) -> bytes:
    return product_canonical_cache.get_or_set(product.model_dump_json(), lambda: canonicalize(product))


def canonical_spec(spec: DesignSpec) -> bytes:
    """canonicalize(spec), with the product's canonical bytes cached (products repeat, inputs don't).

    JCS serialises an object's members independently, sorted by UTF-16 code units of their
    names, so the top-level object can be joined from separately canonicalised members.
    """
    members: dict[str, bytes] = {}
    for name in type(spec).model_fields:
        value = getattr(spec, name)
        if name == "product":
            members[name] = _product_canonical(value)
        else:
            members[name] = canonicalize(value)
    parts = [
        canonicalize(k) + b":" + members[k] for k in sorted(members, key=lambda k: k.encode("utf-16-be"))
    ]
    return b"{" + b",".join(parts) + b"}"


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (Draft 2020-12) of DesignSpec, versioned by `spec_version`."""
    schema = copy.deepcopy(DesignSpec.model_json_schema(mode="validation"))
    out: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "Luneo DesignSpec",
        "version": SPEC_VERSION,
        "description": (
            "A personalized product's frozen design. Its RFC 8785 canonical bytes are hashed "
            "(SHA-256) into spec_hash."
        ),
    }
    schema.pop("title", None)
    schema.pop("description", None)
    out.update(schema)
    return out
