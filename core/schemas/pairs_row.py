"""Schema of one row of a pairs CSV (`image_a,image_b,same`, docs/cli.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from core.schemas.common import Open

TRUE_WORDS = frozenset({"1", "yes", "true", "y"})
FALSE_WORDS = frozenset({"0", "no", "false", "n"})

PathText = Annotated[str, Field(min_length=1, max_length=4096)]


class PairsRowModel(Open):
    image_a: PathText
    image_b: PathText
    same: Annotated[str, Field(max_length=10)]

    @field_validator("image_a", "image_b")
    @classmethod
    def _plain_path(cls, value: str) -> str:
        value = value.strip()
        if not value or "\x00" in value:
            raise ValueError("must be a non-empty path without NUL")
        return value

    @field_validator("same")
    @classmethod
    def _yes_or_no(cls, value: str) -> str:
        if value.strip().lower() not in TRUE_WORDS | FALSE_WORDS:
            raise ValueError("must be 1/0/yes/no/true/false")
        return value

    @property
    def is_same(self) -> bool:
        return self.same.strip().lower() in TRUE_WORDS
