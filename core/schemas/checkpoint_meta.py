"""Schema of a checkpoint's model.json (`patchwise.checkpoint/1`, docs/training.md).

The backbone is bounded to what Patchwise trains (width <= 512, embedding
<= 4096), so a crafted file cannot make the network allocate gigabytes
before the weights' SHA-256 is checked; an RRFNet's input size must be its
layout's patch size and an xCos one must be 112 px.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from core.schemas.common import Closed, Json, Open, Sha256, text

MAX_WIDTH = 512
MAX_EMBEDDING = 4096


class BackboneModel(Closed):
    depth: Literal["r18", "r34", "r50", "r100"]
    input_size: Annotated[int, Field(ge=8, le=224)]
    first_stride: Literal[1, 2]
    width: Annotated[int, Field(ge=1, le=MAX_WIDTH)]
    embedding_size: Annotated[int, Field(ge=1, le=MAX_EMBEDDING)]
    dropout: Annotated[float, Field(allow_inf_nan=False, ge=0.0, lt=1.0)]


class ArchitectureModel(Open):
    arch: Literal["rrfnet56", "rrfnet28", "xcos"]
    backbone: BackboneModel


class CheckpointMetaModel(Open):
    schema_: Literal["patchwise.checkpoint/1"] = Field(alias="schema")
    architecture: ArchitectureModel
    weights_file: Literal["weights.safetensors"]
    weights_sha256: Sha256
    training: dict[text(64), Json] = {}
    metrics: dict[text(64), Json] = {}

    @model_validator(mode="after")
    def _input_fits_the_architecture(self):
        from core.models.rrf_layouts import PATCH_SIZES
        from core.models.rrfnet import ARCH_LAYOUTS

        arch, backbone = self.architecture.arch, self.architecture.backbone
        wanted = PATCH_SIZES[ARCH_LAYOUTS[arch]] if arch in ARCH_LAYOUTS else 112
        if backbone.input_size != wanted:
            raise ValueError(
                f"{arch} needs backbone.input_size {wanted}, not {backbone.input_size}"
            )
        return self
