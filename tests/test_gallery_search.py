"""Gallery search: FAISS's exact index returns numpy's brute-force top-k; the CLI ranks
real photos, writes JSON/CSV, and a report on a candidate discloses the search."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from core.cli.entry import main
from core.gallery_search import GalleryIndex, gallery_sha256, unit_rows


def brute_force_top(gallery: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(unit_rows(gallery) @ (query / np.linalg.norm(query))), kind="stable")[:k]


def test_exact_index_top_k_equals_brute_force():
    rng = np.random.default_rng(7)
    gallery = rng.standard_normal((10_000, 256))
    index = GalleryIndex.build(gallery)
    assert index.description["exact"]
    for query in rng.standard_normal((5, 256)):
        rows, scores = index.top(query, 50)
        assert rows.tolist() == brute_force_top(gallery, query, 50).tolist()
        expected = unit_rows(gallery[rows]) @ (query / np.linalg.norm(query))
        assert np.allclose(scores, expected, atol=1e-12)


def test_above_the_exact_limit_an_ivf_index_is_used_and_says_it_is_approximate():
    rng = np.random.default_rng(8)
    centres = rng.standard_normal((50, 64))
    gallery = centres[rng.integers(0, 50, 5_000)] + 0.3 * rng.standard_normal((5_000, 64))
    index = GalleryIndex.build(gallery, exact_limit=1_000)
    assert not index.description["exact"]
    assert index.description["probes"] == index.index.nprobe == 35  # half of 70 lists
    query = gallery[17] + 0.01 * rng.standard_normal(64)
    rows, _ = index.top(query, 10)
    assert rows[0] == 17
    recall = len(set(rows) & set(brute_force_top(gallery, query, 10))) / 10
    assert recall >= 0.8


def test_gallery_hash_names_the_members_not_their_order():
    assert gallery_sha256(["b", "a"]) == gallery_sha256(["a", "b"]) != gallery_sha256(["a"])


@pytest.fixture(scope="module")
def gallery_dir(faces_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gallery")
    for person in ("obama", "rose_leslie"):
        for photo in sorted((faces_dir / "identities" / person).iterdir()):
            (folder / f"{person}_{photo.name}").symlink_to(photo)
    return folder


@pytest.mark.slow
def test_search_ranks_a_real_gallery_and_the_report_discloses_it(
    faces_dir, gallery_dir, tmp_path, capsys
):
    query = faces_dir / "identities" / "obama" / "obama_1.jpg"
    store, out = tmp_path / "store", tmp_path / "search.json"
    common = ["--model", "mobileface", "--detector", "mtcnn", "--store", str(store)]
    argv = ["search", str(query), "--gallery", str(gallery_dir), "--top", "5", *common]
    assert main([*argv, "--json", str(out), "--csv", str(tmp_path / "search.csv")]) == 0
    result = json.loads(out.read_text())
    names = [c["name"] for c in result["candidates"]]
    assert len(names) == 5 and all(n.startswith("obama_") for n in names[:4])
    assert [c["rank"] for c in result["candidates"]] == [1, 2, 3, 4, 5]
    assert result["gallery"]["size"] == len(list(gallery_dir.iterdir()))
    with open(tmp_path / "search.csv", newline="") as fh:
        assert [r["name"] for r in csv.DictReader(fh)] == names
    # the store alone is a gallery too, with the same members
    assert main(["search", str(query), "--gallery", str(store), "--top", "5", *common]) == 0
    assert "gallery 9 faces" in capsys.readouterr().out

    candidate = gallery_dir / names[2]
    pdf = tmp_path / "report.pdf"
    report = ["report", str(query), str(candidate), "--out", str(pdf), "--model", "mobileface"]
    assert main([*report, "--detector", "mtcnn", "--search", str(out)]) == 0
    import pypdfium2

    page_one = pypdfium2.PdfDocument(str(pdf))[0].get_textpage().get_text_range()
    flat = " ".join(page_one.split())
    assert "candidate 3 of the 5 listed" in flat and result["gallery"]["sha256"][:40] in flat
    stranger = (
        faces_dir
        / "identities"
        / "biden"
        / sorted(p.name for p in (faces_dir / "identities" / "biden").iterdir())[0]
    )
    argv = ["report", str(query), str(stranger), *report[3:], "--search", str(out)]
    assert main(argv) == 2  # refused before comparing: K is not a candidate
