"""The comparison engine on the shared real photos: exactness, restriction and ranking."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from core.decomposition import cosine
from core.engine import Engine
from core.models.registry import model_ids

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def identity_photos(faces_dir):
    """(person, path) for every identity photo."""
    return [
        (person.name, path)
        for person in sorted((faces_dir / "identities").iterdir())
        for path in sorted(person.iterdir())
    ]


@pytest.mark.slow
@pytest.mark.parametrize("model_id", model_ids())
def test_decomposition_is_exact_on_a_real_pair(engine, faces_dir, model_id, no_network):
    a = faces_dir / "identities/obama/obama_1.jpg"
    b = faces_dir / "identities/biden/biden_1.jpg"
    result = engine.compare(a, b, model_id)
    dec = result.decomposition
    k = engine.model(model_id).layout.count
    assert dec.pair_matrix.shape == (k, k)
    assert dec.residual <= 1e-5
    assert -1.0 <= result.cosine <= 1.0
    assert no_network == []


@pytest.mark.parametrize("model_id", ["faceres", "mobileface"])
def test_cell_sum_equals_the_networks_own_embedding(engine, faces_dir, model_id):
    """The cells are a rewriting of the converted network's embedding, not an approximation."""
    model = engine.model(model_id)
    prepared = engine.prepare(faces_dir / "identities/kit_harington/kit_harington_1.jpg")
    aligned, features = engine.side_features([(prepared, 0)], model)[0]
    x = torch.from_numpy(aligned.image.astype(np.float32).transpose(2, 0, 1)[None].copy())
    with torch.inference_mode():
        own = model.net.embed(x)[0].double().numpy()
    assert np.allclose(features.embedding, own, rtol=1e-4, atol=1e-4 * np.abs(own).max())


@pytest.mark.slow
@pytest.mark.parametrize("model_id", ["faceres-rrf56", "faceres-rrf28"])
def test_restricted_patches_ignore_pixels_outside_them(engine, faces_dir, model_id):
    model = engine.model(model_id)
    prepared = engine.prepare(faces_dir / "identities/obama/obama_2.jpg")
    aligned, _ = engine.side_features([(prepared, 0)], model)[0]
    face = aligned.image
    x1, y1, x2, y2 = (round(v) for v in model.layout.boxes[-1])
    scrambled = np.random.default_rng(0).integers(0, 256, face.shape, dtype=np.uint8)
    scrambled[y1:y2, x1:x2] = face[y1:y2, x1:x2]
    original, changed = model.cell_features(np.stack([face, scrambled]))
    # Only the last patch's pixels were kept: its feature must not move ...
    assert np.allclose(original.cells[-1], changed.cells[-1], rtol=0, atol=1e-5)
    # ... while the other patches, whose pixels changed, do move.
    assert not np.allclose(original.cells[0], changed.cells[0], atol=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("model_id", model_ids())
def test_genuine_pairs_outscore_impostor_pairs(engine, identity_photos, model_id):
    from sklearn.metrics import roc_auc_score

    model = engine.model(model_id)
    prepared = [engine.prepare(path) for _, path in identity_photos]
    features = engine.side_features([(p, 0) for p in prepared], model)
    genuine, impostor = [], []
    for (i, (pa, _)), (j, (pb, _)) in itertools.combinations(enumerate(identity_photos), 2):
        score = cosine(features[i][1].embedding, features[j][1].embedding)
        (genuine if pa == pb else impostor).append(score)
    auc = roc_auc_score([1] * len(genuine) + [0] * len(impostor), genuine + impostor)
    print(
        f"{model_id}: AUC {auc:.3f}, genuine mean {np.mean(genuine):.3f}, "
        f"impostor mean {np.mean(impostor):.3f}"
    )
    assert np.mean(genuine) > np.mean(impostor)
    assert auc > 0.8


@pytest.mark.slow
def test_multi_face_indices_select_different_faces(engine, faces_dir):
    photo = faces_dir / "multi_face/obama_and_biden.jpg"
    first = engine.compare(photo, photo, "mobileface", face_a=0, face_b=1)
    same = engine.compare(photo, photo, "mobileface", face_a=1, face_b=1)
    assert first.a.prepared.faces[0] != first.b.prepared.faces[1]
    assert same.cosine == pytest.approx(1.0, abs=1e-6)
    assert first.cosine < 0.9


@pytest.mark.slow
def test_json_result_has_the_documented_fields(engine, faces_dir):
    fresh = Engine(engine.detector, CPU)  # empty caches, so every stage runs and is timed
    result = fresh.compare(
        faces_dir / "identities/obama/obama_3.jpg",
        faces_dir / "identities/obama/obama_4.jpg",
        "faceres-rrf56",
    )
    doc = result.to_json()
    assert doc["a"]["image"]["sha256"] != doc["b"]["image"]["sha256"]
    assert len(doc["a"]["alignment"]["transform"]) == 2
    assert doc["model"]["weights_sha256"] and doc["detector"]["id"]
    assert np.array(doc["decomposition"]["pair_matrix"]).shape == (5, 5)
    assert doc["decomposition"]["residual"] <= 1e-5
    assert doc["score"]["cosine"] == pytest.approx(result.cosine)
    assert {"load", "detect", "align", "embed", "decompose"} <= set(doc["timings_ms"])


@pytest.mark.slow
@pytest.mark.parametrize("model_id", model_ids())
def test_embed_tensor_matches_the_cell_sum(engine, model_id):
    """The differentiable path explainers use gives the same embedding as the cells."""
    model = engine.model(model_id)
    faces = np.random.default_rng(5).integers(
        0, 256, (2, model.input_size, model.input_size, 3), dtype=np.uint8
    )
    from_cells = np.stack([f.embedding for f in model.cell_features(faces)])
    x = torch.from_numpy(faces.astype(np.float32).transpose(0, 3, 1, 2).copy())
    with torch.inference_mode():
        direct = model.embed_tensor(x).double().numpy()
    assert np.allclose(direct, from_cells, rtol=0, atol=1e-4 * np.abs(from_cells).max())
