"""Shared field types of the schemas, and the one-line error they raise."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import PatchwiseError

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
UtcTime = Annotated[str, Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|\+00:00)$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Cosine = Annotated[float, Field(allow_inf_nan=False, ge=-1.0, le=1.0)]
Count = Annotated[int, Field(ge=0, le=10**12)]
Json = object  # any JSON value; size and depth are bounded before validation


def text(limit: int):
    """A string of at most `limit` characters."""
    return Annotated[str, Field(max_length=limit)]


def finite_list(limit: int):
    return Annotated[list[Finite], Field(max_length=limit)]


class Closed(BaseModel):
    """A record whose fields are all known: strict types, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Open(BaseModel):
    """A record with checked fields plus others Patchwise passes through unread."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


def _location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def validated(model: type[BaseModel], data, where: str, error: type[PatchwiseError]):
    """`model` validated from `data`, or `error`: "<where>: field <f>: <what is wrong>"."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        message = first["msg"].replace("\n", " ")[:200]
        raise error(f"{where}: field {_location(first['loc'])}: {message}{more}") from None
