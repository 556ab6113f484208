"""Schemas (pydantic v2) of every file Patchwise reads: one module per file type.

Each is strict (no type coercion), closed where Patchwise owns the format
(unknown fields refused), and bounded (string lengths, list lengths; nesting
is bounded by core/strict_json.py, which also refuses non-finite numbers).
`validated` turns the first violation into a one-line error naming the field.
"""

from core.schemas.common import validated

__all__ = ["validated"]
