"""Tests for core.photo: safe loading of evidence photos."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from core.errors import ImageReadError, ImageTooLargeError, UsageError
from core.photo import EvidenceImage, load_evidence

SHARED = Path(__file__).resolve().parents[2] / "shared"
RGBA_PHOTO = SHARED / "data" / "faces" / "edge_cases" / "rgba_32bit.png"

RED = (255, 0, 0)


@pytest.fixture(autouse=True)
def _no_env_limit(monkeypatch):
    """Tests start from the default pixel limit, whatever the shell says."""
    monkeypatch.delenv("PATCHWISE_MAX_PIXELS", raising=False)


def gradient(width: int = 32, height: int = 24) -> np.ndarray:
    """A deterministic HxWx3 uint8 test pattern."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 7 % 256, y * 11 % 256, (x + y) * 5 % 256], axis=-1).astype(np.uint8)


def save(image: Image.Image, path: Path, fmt: str | None = None, **options) -> Path:
    image.save(path, fmt, **options)
    return path


def noisy_jpeg(path: Path, size: int = 128) -> Path:
    """A JPEG big enough that cutting it in half leaves the header intact."""
    pixels = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    return save(Image.fromarray(pixels), path, "JPEG", quality=90)


def png_claiming_size(path: Path, width: int, height: int) -> Path:
    """A tiny valid PNG whose IHDR is patched to claim width x height."""
    data = bytearray(_png_bytes(Image.new("RGB", (4, 4))))
    # Layout: 8-byte signature, then IHDR: length(4) type(4) data(13) crc(4).
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# --- round trips and the result type ------------------------------------------------

WEBP_NOTE = (
    "WebP has no checksum: damage to its compressed data cannot be detected "
    "(only the SHA-256 of the file says it is unchanged)"
)


@pytest.mark.parametrize(
    "fmt, suffix, options",
    [
        ("PNG", ".png", {}),
        ("BMP", ".bmp", {}),
        ("TIFF", ".tif", {}),
        ("WEBP", ".webp", {"lossless": True}),
    ],
)
def test_lossless_round_trip(tmp_path, fmt, suffix, options):
    pixels = gradient()
    path = save(Image.fromarray(pixels), tmp_path / f"photo{suffix}", fmt, **options)

    ev = load_evidence(path)

    assert ev.format == fmt
    assert (ev.width, ev.height) == (32, 24)
    assert ev.original_mode == "RGB"
    # Nothing changed the pixels; WebP alone carries the note that it has no checksum.
    assert ev.conversions == (() if fmt != "WEBP" else (WEBP_NOTE,))
    np.testing.assert_array_equal(ev.rgb, pixels)


def test_jpeg_round_trip_and_array_properties(tmp_path):
    pixels = gradient()
    path = save(Image.fromarray(pixels), tmp_path / "photo.jpg", "JPEG", quality=95)

    ev = load_evidence(path)

    assert isinstance(ev, EvidenceImage)
    assert (ev.name, ev.format, ev.original_mode) == ("photo.jpg", "JPEG", "RGB")
    assert ev.rgb.shape == (24, 32, 3) and ev.rgb.dtype == np.uint8
    assert ev.rgb.flags.c_contiguous and not ev.rgb.flags.writeable
    assert np.abs(ev.rgb.astype(int) - pixels).mean() < 8
    assert ev.exif_orientation is None and ev.exif_summary == {}


def test_to_json_has_everything_but_pixels(tmp_path):
    path = save(Image.new("RGBA", (5, 4), (0, 0, 255, 0)), tmp_path / "a.png")

    doc = load_evidence(path).to_json()

    assert "rgb" not in doc
    assert doc["width"] == 5 and doc["height"] == 4 and doc["format"] == "PNG"
    assert doc["conversions"] == ["alpha channel composited onto white"]
    json.dumps(doc)


# --- mode conversions ---------------------------------------------------------------


def test_rgba_composited_onto_white(tmp_path):
    path = save(Image.new("RGBA", (4, 4), (255, 0, 0, 128)), tmp_path / "rgba.png")

    ev = load_evidence(path)

    assert ev.original_mode == "RGBA"
    assert "alpha channel composited onto white" in ev.conversions
    assert tuple(ev.rgb[0, 0]) == pytest.approx((255, 127, 127), abs=1)


def test_la_composited_onto_white(tmp_path):
    path = save(Image.new("LA", (4, 4), (0, 0)), tmp_path / "la.png")

    ev = load_evidence(path)

    assert ev.original_mode == "LA"
    assert "alpha channel composited onto white" in ev.conversions
    assert "grayscale expanded to RGB" in ev.conversions
    assert (ev.rgb == 255).all()


def test_grayscale_expanded(tmp_path):
    path = save(Image.new("L", (4, 4), 77), tmp_path / "gray.png")

    ev = load_evidence(path)

    assert ev.original_mode == "L"
    assert ev.conversions == ("grayscale expanded to RGB",)
    assert (ev.rgb == 77).all()


def test_16bit_png_scaled_by_bit_depth(tmp_path):
    values = np.array([[0, 257 * 100, 32768, 65535]], dtype=np.uint16)
    path = save(Image.fromarray(values), tmp_path / "deep.png")

    ev = load_evidence(path)

    assert ev.original_mode.startswith("I;16")
    assert any("16-bit scaled to 8-bit" in step for step in ev.conversions)
    assert ev.rgb[0, :, 0].tolist() == [0, 100, 128, 255]


def test_cmyk_jpeg_converted(tmp_path):
    image = Image.new("CMYK", (8, 8), (0, 0, 0, 0))
    image.paste((0, 255, 255, 0), (0, 0, 4, 8))  # red on the left half
    path = save(image, tmp_path / "cmyk.jpg", "JPEG", quality=95)

    ev = load_evidence(path)

    assert ev.original_mode == "CMYK"
    assert any(step.startswith("CMYK converted to RGB") for step in ev.conversions)
    assert tuple(ev.rgb[4, 1]) == pytest.approx(RED, abs=12)
    assert tuple(ev.rgb[4, 6]) == pytest.approx((255, 255, 255), abs=12)


def test_palette_png_expanded(tmp_path):
    pixels = np.zeros((4, 6, 3), dtype=np.uint8)
    pixels[:, 3:] = (0, 128, 255)
    image = Image.fromarray(pixels).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    path = save(image, tmp_path / "palette.png")

    ev = load_evidence(path)

    assert ev.original_mode == "P"
    assert ev.conversions == ("palette expanded",)
    np.testing.assert_array_equal(ev.rgb, pixels)


def test_palette_with_transparency(tmp_path):
    image = Image.new("P", (4, 4), 0)
    image.putpalette([10, 20, 30] * 256)
    path = save(image, tmp_path / "trns.png", transparency=0)

    ev = load_evidence(path)

    assert "palette expanded" in ev.conversions
    assert "alpha channel composited onto white" in ev.conversions
    assert (ev.rgb == 255).all()


def test_multipage_tiff_uses_first_frame(tmp_path):
    first = Image.new("RGB", (6, 5), RED)
    second = Image.new("RGB", (6, 5), (0, 0, 255))
    path = tmp_path / "pages.tif"
    first.save(path, save_all=True, append_images=[second])

    ev = load_evidence(path)

    assert ev.conversions == ("multi-frame file (2 frames): using the first frame only",)
    assert (ev.rgb == RED).all()


# --- EXIF ---------------------------------------------------------------------------


def test_exif_orientation_6_rotates_clockwise(tmp_path):
    image = Image.new("RGB", (60, 30), (255, 255, 255))
    image.paste(RED, (0, 0, 10, 10))  # marker in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "ACME"
    exif[0x0110] = "Cam 1"
    exif.get_ifd(0x8769)[0x9003] = "2024:01:02 03:04:05"
    path = save(image, tmp_path / "rotated.jpg", "JPEG", exif=exif, quality=95)

    ev = load_evidence(path)

    assert (ev.width, ev.height) == (30, 60)
    assert ev.exif_orientation == 6
    assert ev.conversions == ("EXIF orientation 6 applied (rotated 90° clockwise)",)
    # Rotating 90° clockwise moves the top-left corner to the top-right.
    assert tuple(ev.rgb[4, 25]) == pytest.approx(RED, abs=30)
    assert tuple(ev.rgb[4, 4]) == pytest.approx((255, 255, 255), abs=30)
    assert ev.exif_summary == {
        "make": "ACME",
        "model": "Cam 1",
        "datetime_original": "2024:01:02 03:04:05",
    }


# --- provenance: bytes, hashing, the original left untouched -------------------------


def test_bytes_input(tmp_path):
    path = save(Image.fromarray(gradient()), tmp_path / "photo.png")
    data = path.read_bytes()

    named = load_evidence(data, name="exhibit-7.png")
    unnamed = load_evidence(data)

    assert named.name == "exhibit-7.png" and unnamed.name == "<bytes>"
    assert named.sha256 == hashlib.sha256(data).hexdigest()
    np.testing.assert_array_equal(named.rgb, gradient())


def test_hash_and_original_unchanged(tmp_path):
    path = noisy_jpeg(tmp_path / "evidence.jpg", size=32)
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before_bytes = path.read_bytes()
    before_mtime = path.stat().st_mtime_ns

    ev = load_evidence(path)

    assert ev.sha256 == hashlib.sha256(before_bytes).hexdigest()
    assert ev.size_bytes == len(before_bytes)
    assert path.read_bytes() == before_bytes
    assert path.stat().st_mtime_ns == before_mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence.jpg"]
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# --- errors ---------------------------------------------------------------------------


def test_empty_file(tmp_path):
    path = tmp_path / "evidence.jpg"
    path.write_bytes(b"")

    with pytest.raises(ImageReadError, match=r"evidence\.jpg: the file is empty \(0 bytes\)"):
        load_evidence(path)


def test_truncated_jpeg(tmp_path):
    full = noisy_jpeg(tmp_path / "full.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(full[: len(full) // 2])

    with pytest.raises(ImageReadError, match=r"cut\.jpg: the image data is truncated or corrupt"):
        load_evidence(path)


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a photo\n")

    with pytest.raises(ImageReadError, match=r"notes\.jpg: not a supported image"):
        load_evidence(path)


def test_animated_gif_and_apng_load_their_first_frame_and_say_so(tmp_path):
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((200, 0, 0), (0, 0, 200))]
    for name, fmt in (("anim.gif", "GIF"), ("anim.png", "PNG")):
        path = save(frames[0], tmp_path / name, fmt, save_all=True, append_images=frames[1:])
        ev = load_evidence(path)
        assert ev.format == fmt and ev.rgb.shape == (8, 8, 3)
        assert ev.rgb[0, 0, 0] > 150 and ev.rgb[0, 0, 2] < 50  # the first (red) frame
        assert any("first frame only" in step for step in ev.conversions)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ImageReadError, match=r"nowhere\.jpg: no such file"):
        load_evidence(tmp_path / "nowhere.jpg")
    with pytest.raises(ImageReadError, match="is a directory"):
        load_evidence(tmp_path)


def test_huge_header_refused_before_decoding(tmp_path):
    path = png_claiming_size(tmp_path / "bomb.png", 100_000, 100_000)

    with pytest.raises(ImageTooLargeError) as caught:
        load_evidence(path)

    message = str(caught.value)
    assert "bomb.png" in message and "100000 x 100000" in message
    assert "100,000,000" in message and "PATCHWISE_MAX_PIXELS" in message
    assert caught.value.exit_code == 4


def test_our_limit_decides_over_pillows_global_cap(tmp_path, monkeypatch):
    """Pillow's process-wide cap refusing the header must not hide our limit."""
    path = save(Image.fromarray(gradient(10, 10)), tmp_path / "small.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)

    np.testing.assert_array_equal(load_evidence(path).rgb, gradient(10, 10))
    with pytest.raises(ImageTooLargeError, match="10 x 10 = 100 pixels"):
        load_evidence(path, max_pixels=50)
    assert Image.MAX_IMAGE_PIXELS == 10


def test_errors_for_bytes_use_the_given_name():
    with pytest.raises(ImageReadError, match=r"exhibit\.jpg: the file is empty"):
        load_evidence(b"", name="exhibit.jpg")


def test_max_pixels_argument(tmp_path):
    path = save(Image.new("RGB", (10, 10)), tmp_path / "small.png")

    with pytest.raises(ImageTooLargeError, match="10 x 10 = 100 pixels"):
        load_evidence(path, max_pixels=99)
    assert load_evidence(path, max_pixels=100).width == 10


def test_env_var_sets_limit(tmp_path, monkeypatch):
    path = save(Image.new("RGB", (10, 10)), tmp_path / "small.png")

    monkeypatch.setenv("PATCHWISE_MAX_PIXELS", "50")
    with pytest.raises(ImageTooLargeError, match="limit of 50 pixels"):
        load_evidence(path)

    monkeypatch.setenv("PATCHWISE_MAX_PIXELS", "lots")
    with pytest.raises(UsageError, match="PATCHWISE_MAX_PIXELS"):
        load_evidence(path)


# --- a real photo from the shared data set ------------------------------------------------


@pytest.mark.skipif(not RGBA_PHOTO.is_file(), reason="shared data set not present")
def test_real_rgba_photo():
    ev = load_evidence(RGBA_PHOTO)

    assert ev.original_mode == "RGBA" and ev.format == "PNG"
    assert any("alpha" in step for step in ev.conversions)
    assert ev.rgb.shape == (ev.height, ev.width, 3)
