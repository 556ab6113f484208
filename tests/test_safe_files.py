"""Atomic writes and image-format integrity (issue 11): temp files, modes, PNG rows, bit depth."""

from __future__ import annotations

import io
import os
import stat
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import core.atomic_write as atomic
from core.atomic_write import write_bytes_atomically
from core.errors import ImageReadError
from core.photo import load_evidence


def test_a_stale_temp_file_is_removed_on_the_next_write(tmp_path):
    target = tmp_path / "case.pwcase"
    stale = tmp_path / ".case.pwcase.abc123.tmp"
    stale.write_bytes(b"left by a killed save")
    other = tmp_path / ".other.pwcase.abc123.tmp"
    other.write_bytes(b"belongs to another file")
    write_bytes_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert not stale.exists() and other.exists()


def test_the_replaced_file_keeps_its_mode(tmp_path):
    target = tmp_path / "report.json"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    write_bytes_atomically(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    os.chmod(target, 0o640)
    write_bytes_atomically(target, b"newer")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_new_file_gets_the_umask_default_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        write_bytes_atomically(tmp_path / "new.json", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


@pytest.mark.parametrize("failure", ["fsync", "replace", "interrupt"])
def test_every_error_path_removes_the_temp_file(tmp_path, monkeypatch, failure):
    target = tmp_path / "x.json"
    target.write_bytes(b"previous")

    def fail(*args, **kwargs):
        raise KeyboardInterrupt if failure == "interrupt" else OSError("disk full")

    name = {"fsync": "fsync", "replace": "replace", "interrupt": "fsync"}[failure]
    monkeypatch.setattr(atomic.os, name, fail)
    with pytest.raises((OSError, KeyboardInterrupt)):
        write_bytes_atomically(target, b"new")
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(pixels: np.ndarray, depth: int, colour: int, rows: int | None = None) -> bytes:
    """A PNG written by hand, optionally holding only its first `rows` rows."""
    height, width = pixels.shape[:2]
    raw = b"".join(b"\0" + pixels[y].tobytes() for y in range(rows or height))
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def test_a_png_with_a_clean_but_short_stream_is_refused():
    pixels = np.random.default_rng(0).integers(0, 255, (40, 30, 3), dtype=np.uint8)
    assert load_evidence(_png(pixels, 8, 2), name="whole.png").conversions == ()
    with pytest.raises(ImageReadError, match="only 60% of the pixel data"):
        load_evidence(_png(pixels, 8, 2, rows=24), name="short.png")


@pytest.mark.parametrize("colour,channels,name", [(2, 3, "RGB"), (6, 4, "RGBA")])
def test_a_16_bit_colour_png_records_its_reduction_to_8_bits(colour, channels, name):
    pixels = np.random.default_rng(1).integers(0, 65535, (20, 16, channels)).astype(">u2")
    evidence = load_evidence(_png(pixels, 16, colour), name="deep.png")
    assert f"16-bit {name} PNG reduced to 8 bits per channel (high byte kept)" in (
        evidence.conversions
    )
    if colour == 2:  # the decoder kept the high byte: say exactly what happened
        np.testing.assert_array_equal(evidence.rgb, (pixels >> 8).astype(np.uint8))


def test_webp_is_noted_as_having_no_checksum():
    buffer = io.BytesIO()
    Image.fromarray(np.full((16, 16, 3), 128, np.uint8)).save(buffer, "WEBP", lossless=True)
    evidence = load_evidence(buffer.getvalue(), name="x.webp")
    assert any("WebP has no checksum" in note for note in evidence.conversions)


def test_impostor_sampling_draws_numbers_without_listing_every_pair(tmp_path, monkeypatch):
    """A tree of 60 identities x 3 photos: 15,930 impostor pairs; a sample of 50 is
    seeded, distinct, cross-identity, and every pair number decodes to a real pair."""
    from core.strength_of_evidence.pair_sets import capped_pairs, pairs_from_identity_tree

    for identity in range(60):
        folder = tmp_path / f"id{identity:02d}"
        folder.mkdir()
        for n in range(3):
            (folder / f"{n}.jpg").write_bytes(b"x")
    every = pairs_from_identity_tree(tmp_path)
    impostor = [p for p in every if not p.same]
    assert len(impostor) == 180 * 177 // 2 and len(set(impostor)) == len(impostor)
    assert all(p.image_a.parent != p.image_b.parent for p in impostor)
    sample = [p for p in pairs_from_identity_tree(tmp_path, 50, seed=3) if not p.same]
    assert len(set(sample)) == 50 and set(sample) <= set(impostor)
    assert sample == [p for p in pairs_from_identity_tree(tmp_path, 50, seed=3) if not p.same]
    capped = capped_pairs(tmp_path, 100, seed=3)
    assert len(capped) == 100 and sum(p.same for p in capped) == 50
