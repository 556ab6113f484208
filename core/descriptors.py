"""Typed, read-only provenance of the model and the detector behind a result.

A model's or detector's `describe()` returns a plain record (id, honest
label, weights and their SHA-256, source, licence, ...). A Comparison keeps it
as a frozen descriptor: the fields code decides on are typed attributes
(`kind` is a ModelKind), and the whole record stays readable as a read-only
mapping (`descriptor["license"]`) and serialisable with `to_json()`, which is
what cases and reports store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from core.models.face_model import ModelKind


def _frozen_record(record: Mapping) -> Mapping:
    return MappingProxyType(json.loads(json.dumps(dict(record))))


@dataclass(frozen=True)
class Descriptor(Mapping):
    """A describe() record, read-only; `id` and `label` typed."""

    record: Mapping = field(repr=False)

    def __post_init__(self):
        object.__setattr__(self, "record", _frozen_record(self.record))

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def label(self) -> str:
        return str(self.record.get("label", ""))

    def __getitem__(self, key: str):
        return self.record[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.record)

    def __len__(self) -> int:
        return len(self.record)

    def to_json(self) -> dict:
        """A plain, independent copy of the record (JSON types only)."""
        return json.loads(json.dumps(dict(self.record)))


@dataclass(frozen=True)
class ModelDescriptor(Descriptor):
    """A recognition model's provenance; `kind` says what its cells are and how it scores."""

    @property
    def kind(self) -> ModelKind:
        return ModelKind(self.record["kind"])

    @property
    def weights_sha256(self) -> str | None:
        return self.record.get("weights_sha256")

    @property
    def score_kind(self) -> str:
        """ "cosine", or "xcos" for models that score pairs themselves."""
        return str(self.record.get("score_kind", "cosine"))


@dataclass(frozen=True)
class DetectorDescriptor(Descriptor):
    """A face detector's provenance (kind, weights, thresholds)."""

    @property
    def kind(self) -> str:
        return str(self.record.get("kind", self.id))
