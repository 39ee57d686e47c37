"""Canonical JSON (RFC 8785, JCS) and the spec hash.

`canonicalize` accepts JSON values and Pydantic models (dumped with `mode="json"`, anywhere
in the tree); tuples count as arrays. JSON numbers are IEEE doubles (RFC 8785 §3.2.2.3), so an
integer beyond ±(2^53 − 1) that maps to a double without loss is treated as that double (this keeps
canonicalize(json.loads(canonicalize(x))) == canonicalize(x) for floats such as 2.0**60).
Non-finite floats, integers a double cannot hold exactly and lone surrogates raise
`CanonicalizationError` (a ValueError): they have no canonical form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import rfc8785
from pydantic import BaseModel

CanonicalizationError = rfc8785.CanonicalizationError
_SAFE_INT = 2**53 - 1

__all__ = ["CanonicalizationError", "canonicalize", "spec_hash", "to_json_value"]


def to_json_value(obj: Any) -> Any:
    """Plain JSON value: Pydantic models dumped in JSON mode, tuples as lists."""
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, Mapping):
        return {k: to_json_value(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json_value(v) for v in obj]
    if isinstance(obj, int) and not isinstance(obj, bool) and not -_SAFE_INT <= obj <= _SAFE_INT:
        try:
            as_float = float(obj)
        except OverflowError:
            raise rfc8785.IntegerDomainError(obj) from None
        # Exact as a double, or exactly the shortest decimal of its double (what JCS prints).
        if int(as_float) != obj and int(Decimal(repr(as_float))) != obj:
            raise rfc8785.IntegerDomainError(obj)
        return as_float
    return obj


def canonicalize(obj: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of `obj`."""
    return rfc8785.dumps(to_json_value(obj))


def spec_hash(obj: Any) -> str:
    """SHA-256 hex of the canonical bytes."""
    return hashlib.sha256(canonicalize(obj)).hexdigest()
