"""Errors the engine raises, each with the CLI exit code it maps to.

The exit codes are part of the CLI contract and are documented in
docs/cli.md. Never renumber an existing code.
"""

from __future__ import annotations


class PatchwiseError(Exception):
    """Base class of every error Patchwise reports to a user."""

    exit_code = 1


class UsageError(PatchwiseError):
    """The command line or settings are invalid."""

    exit_code = 2


class ImageReadError(PatchwiseError):
    """The file is empty, truncated, not an image, or in an unsupported format."""

    exit_code = 3


class ImageTooLargeError(PatchwiseError):
    """The image has more pixels than the configured limit (decompression bomb guard)."""

    exit_code = 4


class NoFaceError(PatchwiseError):
    """The detector found no face in the image."""

    exit_code = 5


class FaceIndexError(PatchwiseError):
    """The requested face index does not exist in the image."""

    exit_code = 6


class ModelNotFoundError(PatchwiseError):
    """The model id is unknown, or its weights are missing or do not fit."""

    exit_code = 7


class DetectorUnavailableError(PatchwiseError):
    """The requested detector (e.g. an insightface model pack) is missing or broken."""

    exit_code = 8


class CaseFileError(PatchwiseError):
    """A .pwcase file cannot be read, or its originals or manifest fail verification."""

    exit_code = 9


class CalibrationError(PatchwiseError):
    """A calibration cannot be fitted (too few pairs), read, or used with this model."""

    exit_code = 10


class ClusterError(PatchwiseError):
    """The cluster cannot be reached, or a chunk of work failed after its retries."""

    exit_code = 11
