"""The `--calibration` option's value: a file, 'demo' (the bundled DEMO calibration), or none."""

from __future__ import annotations

from core.errors import CalibrationError
from core.strength_of_evidence.calibration_file import (
    Calibration,
    default_calibration_path,
    load_calibration,
)

DEMO_KEYWORD = "demo"


def calibration_from_arg(value: str | None, model_describe: dict) -> Calibration | None:
    """None for no value; the model's bundled DEMO calibration for 'demo'; else load the file."""
    if value is None:
        return None
    if value == DEMO_KEYWORD:
        path = default_calibration_path(model_describe["id"])
        if path is None:
            raise CalibrationError(
                f"no bundled DEMO calibration for model {model_describe['id']!r}"
            )
        return load_calibration(path, model_describe)
    return load_calibration(value, model_describe)
