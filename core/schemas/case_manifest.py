"""Schema of a .pwcase manifest (`patchwise.case/1` and `/2`, docs/reports.md).

The fields the report prints or the re-run compares are typed; the engine's
provenance descriptions pass through as bounded JSON (they are signed and
re-derived on re-run, never trusted for a decision).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from core.case.case_model import TEXT_LIMITS
from core.schemas.common import (
    Closed,
    Cosine,
    Count,
    Finite,
    Json,
    Open,
    Sha256,
    UtcTime,
    finite_list,
    text,
)

MAX_AUDIT_ENTRIES = 10_000
MAX_CELLS = 64 * 64  # the largest decomposition a model has is 49 x 49


class AuditEntryModel(Closed):
    time_utc: UtcTime
    action: text(100)
    detail: text(4000)
    previous_sha256: Sha256


class InputModel(Closed):
    role: Literal["A", "B"]
    name: text(500)
    size_bytes: Count
    sha256: Sha256
    format: text(32)
    width: Annotated[int, Field(ge=1, le=1_000_000)]
    height: Annotated[int, Field(ge=1, le=1_000_000)]
    exif_summary: Annotated[dict[text(64), Json], Field(max_length=64)]
    conversions: Annotated[list[text(500)], Field(max_length=64)]
    face_index: Annotated[int, Field(ge=0, le=10_000)]
    stored_as: Annotated[str, Field(pattern=r"^originals/[AB]/[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$")]


class CalibrationRecordModel(Closed):
    file: text(255)
    sha256: Sha256
    size_bytes: Count
    status: text(300)
    demo: bool
    stored_as: Annotated[str, Field(pattern=r"^calibration/[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$")]


class ExplainerSettingModel(Closed):
    method: text(64)
    seed: Annotated[int, Field(ge=0, le=2**63)]
    settings: Annotated[dict[text(64), Json], Field(max_length=64)]


class RuntimeModel(Closed):
    threads: Annotated[int, Field(ge=1, le=4096)]
    deterministic_algorithms: bool
    device: text(64)


Point = Annotated[list[Finite], Field(min_length=2, max_length=2)]
FivePoints = Annotated[list[Point], Field(min_length=5, max_length=5)]


class SearchOriginModel(Closed):
    """A case that began as a gallery search (core/case/search_origin.py)."""

    gallery_size: Annotated[int, Field(ge=0, le=10**10)]
    gallery_sha256: Sha256
    gallery_source: text(4096) | None
    candidate_rank: Annotated[int, Field(ge=1, le=10**10)]
    query_sha256: Sha256
    candidate_sha256: Sha256
    candidates_listed: Annotated[int, Field(ge=1, le=10**7)]
    index: text(100)
    search_model: text(300)
    search_sha256: Sha256
    search_file: text(1000) | None = None
    search_file_sha256: Sha256 | None = None


class SettingsModel(Closed):
    model_id: text(300)
    detector_kind: text(64)
    detector_pack: text(1000) | None
    max_pixels: Annotated[int, Field(ge=1, le=10**12)] | None
    threshold: Cosine | None
    calibration: CalibrationRecordModel | None
    explainers: Annotated[list[ExplainerSettingModel], Field(max_length=20)]
    runtime: RuntimeModel | None = None
    landmarks: dict[Literal["A", "B"], FivePoints] | None = None  # placed by hand (x, y px)
    search: SearchOriginModel | None = None


class FaceModel(Open):
    box: Annotated[list[Finite], Field(min_length=4, max_length=4)]


class ImageRefModel(Open):
    sha256: Sha256


class SideModel(Open):
    image: ImageRefModel
    faces: Annotated[list[FaceModel], Field(min_length=1, max_length=1000)]
    chosen_face: Annotated[int, Field(ge=0, le=10_000)]

    @model_validator(mode="after")
    def _chosen_face_exists(self):
        if self.chosen_face >= len(self.faces):
            raise ValueError(f"chosen_face {self.chosen_face} but only {len(self.faces)} faces")
        return self


class BiasTermsModel(Open):
    a: finite_list(MAX_CELLS)
    b: finite_list(MAX_CELLS)
    bias_bias: Finite


class DecompositionModel(Open):
    pair_matrix: Annotated[list[finite_list(MAX_CELLS)], Field(max_length=MAX_CELLS)]
    bias_terms: BiasTermsModel


class ScoreModel(Open):
    cosine: Cosine


class ComparisonModel(Open):
    a: SideModel
    b: SideModel
    score: ScoreModel
    decomposition: DecompositionModel
    model: dict[text(100), Json]
    detector: dict[text(100), Json]


class ThresholdModel(Open):
    cosine: Cosine | None
    source: text(2000)


class VerbalModel(Closed):
    category: text(100)
    supports: Literal["hp", "hd", "neither"]
    statement: text(2000)
    scale_version: text(100)


class EvidenceModel(Open):
    schema_: Literal["patchwise.evidence/1"] = Field(alias="schema")
    calibration_status: text(300)
    score: ScoreModel
    threshold: ThresholdModel
    decision: Literal["same", "different"] | None
    c_score: dict[text(64), Json] | None
    lr: Annotated[float, Field(allow_inf_nan=False, gt=0)] | None
    log10_lr: Finite | None
    lr_unbounded: Annotated[float, Field(allow_inf_nan=False, gt=0)] | None
    log10_lr_unbounded: Finite | None
    elub_log10: Annotated[list[Finite], Field(min_length=2, max_length=2)] | None
    elub_applied: bool
    verbal: VerbalModel | None
    calibration: dict[text(100), Json] | None


class ExplainerResultModel(Open):
    method: text(64)
    seed: Annotated[int, Field(ge=0, le=2**63)]
    map_summary: dict[Literal["A", "B"], Annotated[list[finite_list(64)], Field(max_length=64)]]


class ResultsModel(Closed):
    comparison: ComparisonModel
    evidence: EvidenceModel | None
    explainers: Annotated[list[ExplainerResultModel], Field(max_length=20)]


class PropositionsModel(Closed):
    hp: text(TEXT_LIMITS["hp"])
    hd: text(TEXT_LIMITS["hd"])


class CaseManifestModel(Closed):
    schema_: Literal["patchwise.case/1", "patchwise.case/2"] = Field(alias="schema")
    case_id: text(100)
    examiner: text(TEXT_LIMITS["examiner"])
    agency: text(TEXT_LIMITS["agency"])
    notes: text(TEXT_LIMITS["notes"])
    propositions: PropositionsModel
    created_utc: UtcTime
    modified_utc: UtcTime
    inputs: Annotated[list[InputModel], Field(min_length=2, max_length=2)]
    settings: SettingsModel
    provenance: dict[text(100), Json]
    results: ResultsModel
    audit_log: Annotated[list[AuditEntryModel], Field(min_length=1, max_length=MAX_AUDIT_ENTRIES)]
    audit_head_sha256: Sha256 | None = None

    @field_validator("case_id")
    @classmethod
    def _printable_id(cls, value: str) -> str:
        if not value.strip() or not value.isprintable() or "/" in value:
            raise ValueError("must be 1-100 printable characters without '/'")
        return value

    @model_validator(mode="after")
    def _one_of_each_role(self):
        if [i.role for i in self.inputs] != ["A", "B"]:
            raise ValueError("inputs must be image A then image B")
        if self.schema_ == "patchwise.case/2" and self.audit_head_sha256 is None:
            raise ValueError("audit_head_sha256 is required in patchwise.case/2")
        if (self.settings.calibration is None) != (
            self.results.evidence is None or (self.results.evidence.calibration is None)
        ):
            raise ValueError("settings.calibration and results.evidence.calibration disagree")
        return self
