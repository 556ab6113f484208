"""The calibration an examiner or a command chose: none, the bundled DEMO one, or a file.

One rule for every front end (the CLI's --calibration, the workbench's toolbar,
a case's re-run): "none" means uncalibrated (only the model's documented
default threshold), "demo" means the model's bundled DEMO calibration (not for
casework), anything else is the path of a lab calibration file.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import CalibrationError
from core.strength_of_evidence.calibration_file import (
    Calibration,
    default_calibration_path,
    load_calibration,
)

NONE, DEMO = "none", "demo"


def calibration_path(choice: str | None, model_id: str) -> Path | None:
    """The file a choice names, or None (uncalibrated, or no DEMO bundled for this model)."""
    if choice in (None, NONE):
        return None
    if choice == DEMO:
        return default_calibration_path(model_id)
    return Path(choice)


def load_chosen_calibration(choice: str | None, model_describe: dict) -> Calibration | None:
    """The chosen calibration checked against the model; None for no choice or "none".

    "demo" for a model without a bundled DEMO calibration raises CalibrationError.
    """
    if choice in (None, NONE):
        return None
    path = calibration_path(choice, model_describe["id"])
    if path is None:
        raise CalibrationError(f"no bundled DEMO calibration for model {model_describe['id']!r}")
    return load_calibration(path, model_describe)


class CalibrationCache:
    """Loaded calibrations by (choice's file, model weights); loading checks the model."""

    def __init__(self):
        self._loaded: dict[tuple, Calibration] = {}

    def get(self, choice: str, model_describe: dict) -> Calibration | None:
        """The chosen calibration for this model, or None when the choice gives none.

        Unlike load_chosen_calibration, "demo" for a model without one is None
        here: the workbench shows that as its status instead of an error.
        """
        path = calibration_path(choice, model_describe["id"])
        if path is None:
            return None
        key = (str(path), model_describe["weights_sha256"])
        if key not in self._loaded:
            self._loaded[key] = load_calibration(path, model_describe)
        return self._loaded[key]
