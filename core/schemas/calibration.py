"""Schema of a calibration file (`patchwise.calibration/1`, docs/evidence.md).

Beyond types: the threshold is a cosine in [-1, 1], the ELUB bounds are
finite and ordered (lower <= 0 <= upper), the stored curve is monotone
non-decreasing in the score (a higher score never lowers the LR), `kind`
and `status` agree, and the score lists are bounded.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from core.schemas.common import Closed, Cosine, Count, Finite, Json, Open, Sha256, text

MAX_SCORES = 2_000_000
DEMO_STATUS = "DEMO calibration — not for casework"

Scores = Annotated[list[Cosine], Field(min_length=1, max_length=MAX_SCORES)]


class CalibrationModelRef(Closed):
    id: text(300)
    label: text(1000) | None
    weights_file: text(300) | None
    weights_sha256: Sha256


class ThresholdModel(Closed):
    cosine: Cosine
    distance: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=2.0)]
    rule: text(1000)


class CalibratorModel(Closed):
    kind: Literal["logistic", "isotonic", "kde"]
    library: text(100)
    parameters: dict[text(64), Json]
    folds: Annotated[int, Field(ge=2, le=100)]
    seed: Annotated[int, Field(ge=0, le=2**63)]


class ElubModel(Closed):
    lower_log10: Annotated[float, Field(allow_inf_nan=False, le=0.0, ge=-300.0)]
    upper_log10: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=300.0)]
    method: text(1000)


class ScoresModel(Closed):
    genuine: Scores
    impostor: Scores


class CurveModel(Closed):
    cosine: Annotated[list[Cosine], Field(min_length=2, max_length=10_000)]
    log10_lr: Annotated[list[Finite], Field(min_length=2, max_length=10_000)]

    @model_validator(mode="after")
    def _monotone(self):
        if len(self.cosine) != len(self.log10_lr):
            raise ValueError("cosine and log10_lr have different lengths")
        if any(b < a for a, b in zip(self.cosine, self.cosine[1:], strict=False)):
            raise ValueError("the curve's cosines are not increasing")
        if any(b < a - 1e-9 for a, b in zip(self.log10_lr, self.log10_lr[1:], strict=False)):
            raise ValueError("log10 LR falls as the score rises (an LR must be monotone in it)")
        return self


class CountsModel(Closed):
    pairs: Count
    genuine: Count
    impostor: Count


class CalibrationFileModel(Open):
    schema_: Literal["patchwise.calibration/1"] = Field(alias="schema")
    name: text(200)
    kind: Literal["demo", "lab"]
    label: text(300)
    status: text(300)
    created: dict[text(64), Json]
    model: CalibrationModelRef
    detector: dict[text(64), Json]
    dataset: dict[text(64), Json]
    counts: CountsModel
    threshold: ThresholdModel
    cscore: dict[text(64), Json]
    calibrator: CalibratorModel
    elub: ElubModel
    metrics: dict[text(64), Json]
    scores: ScoresModel
    curve: CurveModel

    @model_validator(mode="after")
    def _kind_and_status_agree(self):
        if self.kind == "demo" and self.status != DEMO_STATUS:
            raise ValueError(f"a demo calibration's status must be {DEMO_STATUS!r}")
        if self.kind == "lab" and self.status != f"lab calibration: {self.name}":
            raise ValueError("a lab calibration's status must be 'lab calibration: <name>'")
        if self.counts.genuine != len(self.scores.genuine):
            raise ValueError("counts.genuine differs from the number of genuine scores")
        if self.counts.impostor != len(self.scores.impostor):
            raise ValueError("counts.impostor differs from the number of impostor scores")
        return self
