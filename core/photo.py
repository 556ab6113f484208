"""Load an evidence photo safely and record every change made to its pixels.

The original file is read once, in binary, and never written or kept open.
Its bytes are hashed as read, then decoded from memory with Pillow. The
pixel count from the header is checked before any pixel is decoded. The
result is always an HxWx3 uint8 RGB array, and `conversions` says, in plain
words, each step taken to get there (orientation, alpha, bit depth, colour
model), so a report can show exactly what was compared.
"""

from __future__ import annotations

import hashlib
import io
import numbers
import os
import stat
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ImageReadError, ImageTooLargeError, UsageError
from core.png_integrity import png_facts

DEFAULT_MAX_PIXELS = 100_000_000
MAX_PIXELS_ENV = "PATCHWISE_MAX_PIXELS"

# Pillow format id -> the name we report. MPO is a multi-picture JPEG that
# Pillow's JPEG plugin returns for many camera files; its first image is
# the ordinary JPEG.
SUPPORTED_FORMATS = ("JPEG", "PNG", "BMP", "TIFF", "WEBP", "GIF")  # GIF, APNG: first frame
_REPORTED_FORMAT = {"MPO": "JPEG"}
_SUPPORTED_TEXT = "JPEG, PNG, BMP, TIFF, WebP, GIF"

# Errors Pillow raises for damaged data while opening or decoding.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    TypeError,
    KeyError,
    struct.error,
    zlib.error,
)
_BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)

_ORIENTATION_STEPS = {
    2: "mirrored left-right",
    3: "rotated 180°",
    4: "mirrored top-bottom",
    5: "transposed (mirrored across the top-left to bottom-right diagonal)",
    6: "rotated 90° clockwise",
    7: "transversed (mirrored across the top-right to bottom-left diagonal)",
    8: "rotated 90° counter-clockwise",
}

_EXIF_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_EXIF_BASE_TAGS = {"make": 0x010F, "model": 0x0110, "software": 0x0131}
_EXIF_IFD_TAGS = {"datetime_original": 0x9003}
_EXIF_TEXT_LIMIT = 200

_WHITE = (255, 255, 255, 255)


@dataclass(frozen=True)
class EvidenceImage:
    """An evidence photo as 8-bit RGB pixels plus its provenance.

    width/height are after EXIF orientation. `rgb` is read-only.
    """

    name: str
    sha256: str
    size_bytes: int
    format: str
    width: int
    height: int
    original_mode: str
    exif_orientation: int | None
    conversions: tuple[str, ...]
    exif_summary: dict = field(compare=False, hash=False)
    rgb: np.ndarray = field(repr=False, compare=False, hash=False)

    def to_json(self) -> dict:
        """Everything except the pixels, as JSON-able values."""
        return {
            "name": self.name,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "original_mode": self.original_mode,
            "exif_orientation": self.exif_orientation,
            "conversions": list(self.conversions),
            "exif_summary": dict(self.exif_summary),
        }


def load_evidence(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    max_pixels: int | None = None,
) -> EvidenceImage:
    """Read, hash, check and decode one evidence photo into 8-bit RGB.

    `source` is a path, or the file's bytes (then `name` labels it).
    `max_pixels` defaults to $PATCHWISE_MAX_PIXELS, else DEFAULT_MAX_PIXELS.
    Raises ImageReadError or ImageTooLargeError with a message naming the file.
    """
    limit = resolve_max_pixels(max_pixels)
    data, label, file_name = _read_source(source, name)
    name = name if name is not None else file_name
    if not data:
        raise ImageReadError(f"{label}: the file is empty (0 bytes)")

    with warnings.catch_warnings():
        # Our own limit is authoritative; Pillow's softer warning is noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with _open_image(data, label) as im:
            _check_pixel_limit(im.size, limit, label)
            notes = _format_notes(im.format, data, label)
            decoded = _decode(im, label)
        decoded.conversions[:0] = notes

    return EvidenceImage(
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        rgb=decoded.rgb,
        width=int(decoded.rgb.shape[1]),
        height=int(decoded.rgb.shape[0]),
        format=decoded.format,
        original_mode=decoded.original_mode,
        exif_orientation=decoded.exif_orientation,
        conversions=tuple(decoded.conversions),
        exif_summary=decoded.exif_summary,
    )


def resolve_max_pixels(max_pixels: int | None = None) -> int:
    """The pixel limit: the argument, else $PATCHWISE_MAX_PIXELS, else the default."""
    if max_pixels is None:
        raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
        if not raw:
            return DEFAULT_MAX_PIXELS
        try:
            max_pixels = int(raw)
        except ValueError:
            raise UsageError(f"{MAX_PIXELS_ENV}={raw!r} is not a whole number of pixels") from None
    if (
        isinstance(max_pixels, bool)
        or not isinstance(max_pixels, numbers.Integral)
        or max_pixels < 1
    ):
        raise UsageError(f"the pixel limit must be a positive whole number, got {max_pixels!r}")
    return int(max_pixels)


# --- reading -----------------------------------------------------------------


def _read_source(source: str | os.PathLike | bytes, name: str | None) -> tuple[bytes, str, str]:
    """Return (bytes, label for messages, file name)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name if name is not None else "<bytes>"
        return bytes(source), label, label
    path = Path(source)
    return _read_file(path), str(path), path.name


def _read_file(path: Path) -> bytes:
    """Read a regular file's bytes once, without modifying it."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot access the file ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageReadError(f"{path}: is a directory, not an image file")
    if not stat.S_ISREG(info.st_mode):
        raise ImageReadError(f"{path}: is not a regular file")
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot read the file ({exc.strerror or exc})") from None


# --- opening and limits ----------------------------------------------------------


def _open_image(data: bytes, label: str) -> Image.Image:
    """Parse the header only (no pixels), restricted to the supported formats.

    If Pillow's own global cap refuses the header, the header is parsed again
    without that cap so that our limit (checked next) decides and the error
    can name the real size.
    """
    try:
        return Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
    except _BOMB_ERRORS as exc:
        reopened = _open_header_uncapped(data)
        if reopened is None:
            raise ImageTooLargeError(_bomb_message(label, exc)) from None
        return reopened
    except UnidentifiedImageError:
        raise ImageReadError(_unidentified_message(data, label)) from None
    except _DECODE_ERRORS as exc:
        raise ImageReadError(f"{label}: the image header is truncated or corrupt ({exc})") from None


def _open_header_uncapped(data: bytes) -> Image.Image | None:
    """Parse the header with the supported plugins, skipping Pillow's pixel cap.

    Mirrors what Image.open does (via Pillow's plugin registry), used only
    after Pillow refused a header as too large. None if that fails.
    """
    try:
        Image.init()
        for fmt in SUPPORTED_FORMATS:
            factory, accept = Image.OPEN[fmt]
            accepted = accept(data[:16]) if accept else True
            if accepted and not isinstance(accepted, str):
                try:
                    return factory(io.BytesIO(data), "")
                except (SyntaxError, IndexError, TypeError, struct.error):
                    continue
    except Exception:  # registry layout changed, or the plugin refused again
        return None
    return None


def _check_pixel_limit(size: tuple[int, int], limit: int, label: str) -> None:
    """Refuse images whose header claims more pixels than `limit`."""
    width, height = size
    if width * height > limit:
        raise ImageTooLargeError(
            f"{label}: the image is {width} x {height} = {width * height:,} pixels, "
            f"more than the limit of {limit:,} pixels. If you trust this file, raise the "
            f"limit (command line: --max-pixels N, or the {MAX_PIXELS_ENV} environment variable)."
        )


def _bomb_message(label: str, exc: Exception) -> str:
    return (
        f"{label}: the image is too large to decode safely ({exc}). "
        f"Pillow's own limit (PIL.Image.MAX_IMAGE_PIXELS) also applies, "
        f"whatever {MAX_PIXELS_ENV} says."
    )


def _unidentified_message(data: bytes, label: str) -> str:
    """Say what is wrong with bytes Pillow could not identify."""
    claimed = _sniff_format(data)
    if claimed in SUPPORTED_FORMATS:
        return f"{label}: the {claimed} header is truncated or corrupt"
    if claimed:
        return f"{label}: {claimed} images are not supported (supported: {_SUPPORTED_TEXT})"
    return f"{label}: not a supported image ({_SUPPORTED_TEXT})"


def _sniff_format(data: bytes) -> str | None:
    """Name the format the leading bytes claim, for error messages only."""
    signatures = {
        b"\xff\xd8\xff": "JPEG",
        b"\x89PNG\r\n\x1a\n": "PNG",
        b"BM": "BMP",
        b"II*\x00": "TIFF",
        b"MM\x00*": "TIFF",
        b"GIF87a": "GIF",
        b"GIF89a": "GIF",
        b"%PDF": "PDF",
        b"\x00\x00\x00\x0cjP  ": "JPEG 2000",
    }
    for magic, fmt in signatures.items():
        if data.startswith(magic):
            return fmt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp":
        return "AVIF" if data[8:12] in (b"avif", b"avis") else "HEIC/HEIF"
    return None


def _format_notes(fmt: str | None, data: bytes, label: str) -> list[str]:
    """Refuse a PNG missing rows; note what a format hides (bit depth, no checksum)."""
    if fmt == "WEBP":
        return [
            "WebP has no checksum: damage to its compressed data cannot be detected "
            "(only the SHA-256 of the file says it is unchanged)"
        ]
    facts = png_facts(data) if fmt == "PNG" else None
    if facts is None:
        return []
    if not facts.complete:
        share = facts.found_bytes / max(facts.expected_bytes, 1)
        raise ImageReadError(
            f"{label}: the PNG holds only {share:.0%} of the pixel data its header declares "
            "(truncated; the missing rows would decode as black)"
        )
    note = facts.reduction_note()
    return [note] if note else []


# --- decoding ----------------------------------------------------------------------


@dataclass
class _Decoded:
    rgb: np.ndarray
    format: str
    original_mode: str
    exif_orientation: int | None
    exif_summary: dict
    conversions: list[str]


def _decode(im: Image.Image, label: str) -> _Decoded:
    """Decode the first frame, orient it and convert it to read-only RGB pixels."""
    fmt = _REPORTED_FORMAT.get(im.format, im.format)
    conversions: list[str] = []
    try:
        note = _select_first_frame(im)
        im.load()
    except _BOMB_ERRORS as exc:
        raise ImageTooLargeError(_bomb_message(label, exc)) from None
    except _DECODE_ERRORS as exc:
        raise ImageReadError(f"{label}: the image data is truncated or corrupt ({exc})") from None
    if note:
        conversions.append(note)

    original_mode = im.mode
    exif, exif_note = _read_exif(im)
    if exif_note:
        conversions.append(exif_note)
    orientation = _orientation(exif)
    try:
        oriented, orient_note = _apply_orientation(im, orientation)
        rgb_image, mode_notes = _to_rgb(oriented, _bits_per_sample(im))
    except _DECODE_ERRORS as exc:
        raise ImageReadError(
            f"{label}: cannot convert the {original_mode} image to RGB ({exc})"
        ) from None
    if orient_note:
        conversions.append(orient_note)
    conversions.extend(mode_notes)

    return _Decoded(
        rgb=_frozen_array(rgb_image),
        format=fmt,
        original_mode=original_mode,
        exif_orientation=orientation,
        exif_summary=_exif_summary(exif),
        conversions=conversions,
    )


def _select_first_frame(im: Image.Image) -> str | None:
    """Stay on frame 0 of a multi-frame file; say so if there are others."""
    frames = getattr(im, "n_frames", 1)
    if frames <= 1:
        return None
    im.seek(0)
    if im.format == "MPO":
        return f"multi-picture JPEG (MPO, {frames} images): using the primary image only"
    return f"multi-frame file ({frames} frames): using the first frame only"


def _frozen_array(im: Image.Image) -> np.ndarray:
    """A C-contiguous, read-only HxWx3 uint8 copy of an RGB image."""
    rgb = np.ascontiguousarray(np.array(im, dtype=np.uint8))
    rgb.setflags(write=False)
    return rgb


# --- EXIF ------------------------------------------------------------------------


def _read_exif(im: Image.Image) -> tuple[Image.Exif | None, str | None]:
    """The image's EXIF, or None with a note if it is present but unreadable."""
    try:
        return im.getexif(), None
    except Exception as exc:  # malformed EXIF must not stop the comparison
        return None, f"EXIF data unreadable, ignored ({type(exc).__name__}: {exc})"


def _orientation(exif: Image.Exif | None) -> int | None:
    if exif is None:
        return None
    value = exif.get(_EXIF_ORIENTATION)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _apply_orientation(im: Image.Image, orientation: int | None) -> tuple[Image.Image, str | None]:
    """Apply an EXIF orientation with Pillow's exif_transpose and describe it."""
    if orientation is None or orientation == 1:
        return im, None
    step = _ORIENTATION_STEPS.get(orientation)
    if step is None:
        return im, f"EXIF orientation {orientation} is not a valid value (1-8), ignored"
    return ImageOps.exif_transpose(im), f"EXIF orientation {orientation} applied ({step})"


def _exif_summary(exif: Image.Exif | None) -> dict:
    """Camera make/model, software and DateTimeOriginal, where present."""
    if exif is None:
        return {}
    summary = {key: _exif_text(exif.get(tag)) for key, tag in _EXIF_BASE_TAGS.items()}
    try:
        exif_ifd = exif.get_ifd(_EXIF_IFD)
    except Exception:  # a broken sub-IFD only loses the date
        exif_ifd = {}
    summary.update({key: _exif_text(exif_ifd.get(tag)) for key, tag in _EXIF_IFD_TAGS.items()})
    return {key: value for key, value in summary.items() if value}


def _exif_text(value: object) -> str | None:
    """A short, printable string from an EXIF text value, or None."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    text = "".join(ch for ch in value if ch.isprintable()).strip()
    return text[:_EXIF_TEXT_LIMIT] or None


# --- conversion to 8-bit RGB -------------------------------------------------------


_HIGH_DEPTH_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_ALPHA_MODES = ("RGBA", "LA", "RGBa", "PA")


def _to_rgb(im: Image.Image, bits: int | None) -> tuple[Image.Image, list[str]]:
    """Convert any supported mode to 8-bit RGB, recording each step."""
    notes: list[str] = []
    if im.mode in _HIGH_DEPTH_MODES:
        im = _scale_to_8bit(im, bits, notes)
    if im.mode in ("P", "PA"):
        im = _expand_palette(im, notes)
    if im.mode == "CMYK":
        im = _cmyk_to_rgb(im, notes)
    if im.mode in ("YCbCr", "LAB", "HSV"):
        notes.append(f"{im.mode} converted to RGB")
        im = im.convert("RGB")
    if "transparency" in im.info and im.mode in ("1", "L", "RGB"):
        im = im.convert("LA" if im.mode != "RGB" else "RGBA")
        notes.append("transparent colour (tRNS) turned into an alpha channel")
    if im.mode in _ALPHA_MODES:
        im = _composite_on_white(im, notes)
    if im.mode in ("1", "L"):
        notes.append(
            "1-bit black-and-white expanded to RGB"
            if im.mode == "1"
            else "grayscale expanded to RGB"
        )
        im = im.convert("RGB")
    if im.mode != "RGB":
        notes.append(f"{im.mode} converted to RGB")
        im = im.convert("RGB")
    return im, notes


def _bits_per_sample(im: Image.Image) -> int | None:
    """The declared bits per sample of a TIFF (e.g. 12 in a 16-bit container)."""
    tags = getattr(im, "tag_v2", None)
    if tags is None:
        return None
    value = tags.get(258)
    if isinstance(value, tuple):
        value = value[0] if value else None
    return value if isinstance(value, int) and 1 <= value <= 32 else None


def _scale_to_8bit(im: Image.Image, bits: int | None, notes: list[str]) -> Image.Image:
    """Scale 16/32-bit integer or float samples to 0-255 (linear, no clipping)."""
    values = np.asarray(im)
    if im.mode == "F":
        out, note = _scale_float(values.astype(np.float64))
    else:
        if im.mode.startswith("I;16"):
            bits = bits if bits and bits <= 16 else 16
        out, note = _scale_integer(values.astype(np.int64), bits)
    notes.append(note)
    return Image.fromarray(out, mode="L")


def _scale_integer(values: np.ndarray, bits: int | None) -> tuple[np.ndarray, str]:
    """Integers: divide by the full range of the bit depth; stretch if unknown or signed."""
    if bits and values.size and values.min() >= 0:
        top = (1 << bits) - 1
        out = (np.minimum(values, top) * 255 + top // 2) // top
        return out.astype(np.uint8), f"{bits}-bit scaled to 8-bit (0-{top} mapped to 0-255)"
    return _stretch(values.astype(np.float64), "32-bit integer")


def _scale_float(values: np.ndarray) -> tuple[np.ndarray, str]:
    """Floats: 0-1 data scaled by 255; anything else stretched min-max."""
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    if values.size and values.min() >= 0.0 and values.max() <= 1.0:
        out = np.rint(values * 255.0).astype(np.uint8)
        return out, "32-bit float scaled to 8-bit (0.0-1.0 mapped to 0-255)"
    return _stretch(values, "32-bit float")


def _stretch(values: np.ndarray, kind: str) -> tuple[np.ndarray, str]:
    """Linear min-max stretch to 0-255, for data with no known full range."""
    low = float(values.min()) if values.size else 0.0
    high = float(values.max()) if values.size else 0.0
    if high > low:
        out = np.rint((values - low) * (255.0 / (high - low)))
    else:
        out = np.zeros_like(values)
    note = f"{kind} stretched to 8-bit (values {low:g}-{high:g} mapped to 0-255)"
    return out.astype(np.uint8), note


def _expand_palette(im: Image.Image, notes: list[str]) -> Image.Image:
    """P/PA to RGB, or to RGBA when the palette carries transparency."""
    notes.append("palette expanded")
    has_alpha = (
        im.mode == "PA"
        or "transparency" in im.info
        or (im.palette is not None and im.palette.mode == "RGBA")
    )
    return im.convert("RGBA" if has_alpha else "RGB")


def _cmyk_to_rgb(im: Image.Image, notes: list[str]) -> Image.Image:
    """CMYK to RGB through the embedded ICC profile if usable, else Pillow's formula."""
    icc = im.info.get("icc_profile")
    if icc:
        converted = _icc_to_srgb(im, icc)
        if converted is not None:
            notes.append("CMYK converted to RGB (sRGB) using the embedded ICC profile")
            return converted
        notes.append("CMYK converted to RGB (embedded ICC profile unusable; simple formula)")
    else:
        notes.append("CMYK converted to RGB (no ICC profile; simple formula)")
    return im.convert("RGB")


def _icc_to_srgb(im: Image.Image, icc: bytes) -> Image.Image | None:
    """Convert with LittleCMS; None if it is unavailable or the profile is bad."""
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(im, source, target, outputMode="RGB")
    except Exception:  # ImportError, PyCMSError, OSError: fall back, and say so
        return None


def _composite_on_white(im: Image.Image, notes: list[str]) -> Image.Image:
    """Flatten any alpha channel onto a white background."""
    if im.mode == "LA":
        notes.append("grayscale expanded to RGB")
    rgba = im.convert("RGBA")
    low, high = rgba.getchannel("A").getextrema()
    opaque = " (fully opaque; pixels unchanged)" if low == 255 else ""
    notes.append(f"alpha channel composited onto white{opaque}")
    background = Image.new("RGBA", rgba.size, _WHITE)
    return Image.alpha_composite(background, rgba).convert("RGB")
