"""Schema of a verbal-scale file (`patchwise.verbal_scale/1`, docs/evidence.md).

The statements are str.format templates: only the documented placeholders
are allowed ({category}, {favoured}, {other}; {hp}, {hd} in the neutral one),
with no attribute access, index or format spec, so a lab's file can neither
crash the report nor reach into Python objects.
"""

from __future__ import annotations

import string
from typing import Annotated, Literal

from pydantic import Field, field_validator

from core.schemas.common import Closed, Open, text

STATEMENT_FIELDS = frozenset({"category", "favoured", "other"})
NEUTRAL_FIELDS = frozenset({"hp", "hd"})


def _check_template(template: str, allowed: frozenset[str]) -> str:
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"not a valid template ({exc})") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            raise ValueError(f"placeholder {{{name}}} is not one of {sorted(allowed)}")
    return template


class BandModel(Closed):
    lower: Annotated[float, Field(allow_inf_nan=False, ge=1.0, le=1e300)]
    upper: Annotated[float, Field(allow_inf_nan=False, gt=1.0, le=1e300)] | None
    category: text(100)


class PropositionsModel(Closed):
    hp: text(1000)
    hd: text(1000)


class NeutralModel(Closed):
    category: text(100)
    statement: text(2000)

    @field_validator("statement")
    @classmethod
    def _template(cls, value: str) -> str:
        return _check_template(value, NEUTRAL_FIELDS)


class VerbalScaleModel(Open):
    schema_: Literal["patchwise.verbal_scale/1"] = Field(alias="schema")
    name: text(200)
    version: text(100)
    source: text(2000) = ""
    propositions: PropositionsModel
    neutral: NeutralModel
    bands: Annotated[list[BandModel], Field(min_length=1, max_length=50)]
    statement: text(2000)

    @field_validator("statement")
    @classmethod
    def _template(cls, value: str) -> str:
        return _check_template(value, STATEMENT_FIELDS)
