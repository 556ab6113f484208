"""Face detection: the bundled MTCNN on real photos, and the insightface/selection plumbing."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from core.detection import select as select_mod  # noqa: E402
from core.detection.detected_face import DetectedFace  # noqa: E402
from core.detection.insightface_detector import (  # noqa: E402
    ENV_VAR,
    InsightFaceDetector,
    find_insightface_pack,
)
from core.detection.mtcnn import DEFAULT_WEIGHTS, MTCNNDetector, nms  # noqa: E402
from core.detection.select import make_detector  # noqa: E402
from core.errors import DetectorUnavailableError, PatchwiseError, UsageError  # noqa: E402

FACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"
IMAGE_EXT = {".jpg", ".jpeg", ".png"}


def _photos(sub: str) -> list[Path]:
    base = FACES / sub
    if not base.is_dir():
        return []
    return sorted(p for p in base.rglob("*") if p.suffix.lower() in IMAGE_EXT)


IDENTITY_PHOTOS = _photos("identities")
MULTI_PHOTOS = _photos("multi_face")
needs_photos = pytest.mark.skipif(
    not IDENTITY_PHOTOS, reason=f"test photos not found under {FACES}"
)
needs_weights = pytest.mark.skipif(
    not DEFAULT_WEIGHTS.is_file(), reason=f"{DEFAULT_WEIGHTS} missing"
)


def load_rgb(path: Path) -> np.ndarray:
    """Read any photo (incl. 32-bit RGBA PNG) as HxWx3 uint8 RGB."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert img is not None, path
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def mtcnn():
    # One torch thread: on a shared 2-core machine, two OpenMP threads become up
    # to 20x slower whenever another process holds a core; one thread is steady
    # and barely slower for these small networks.
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield MTCNNDetector()
    finally:
        torch.set_num_threads(threads)


_results: dict[Path, tuple[tuple[int, int], list[DetectedFace]]] = {}


def detect_cached(det: MTCNNDetector, path: Path) -> list[DetectedFace]:
    """Detect once per photo for the whole module (the photos are used by several tests)."""
    if path not in _results:
        rgb = load_rgb(path)
        _results[path] = (rgb.shape[:2], det.detect(rgb))
    return _results[path][1]


def _name(p: Path) -> str:
    return p.name


# -- MTCNN on real photos ------------------------------------------------------


@needs_weights
@needs_photos
@pytest.mark.parametrize("path", IDENTITY_PHOTOS, ids=_name)
def test_identity_photo_has_a_face(mtcnn, path):
    faces = detect_cached(mtcnn, path)
    assert len(faces) >= 1
    assert faces[0].score >= 0.9


@needs_weights
@needs_photos
@pytest.mark.parametrize("path", MULTI_PHOTOS, ids=_name)
def test_multi_face_photo_has_two_faces(mtcnn, path):
    faces = detect_cached(mtcnn, path)
    assert len(faces) >= 2


@needs_weights
@needs_photos
@pytest.mark.parametrize("path", IDENTITY_PHOTOS + MULTI_PHOTOS, ids=_name)
def test_faces_sorted_and_well_formed(mtcnn, path):
    faces = detect_cached(mtcnn, path)
    areas = [f.area for f in faces]
    assert areas == sorted(areas, reverse=True)
    h, w = _results[path][0]
    for f in faces:
        x1, y1, x2, y2 = f.box
        assert x2 > x1 and y2 > y1
        assert 0.0 <= f.score <= 1.0
        assert f.landmarks.shape == (5, 2)
        assert np.isfinite(f.landmarks).all()
        # boxes may stick out a little at the border, but stay near the image
        assert -0.25 * w < x1 < w and -0.25 * h < y1 < h


@needs_weights
@needs_photos
@pytest.mark.parametrize("path", IDENTITY_PHOTOS + MULTI_PHOTOS, ids=_name)
def test_landmarks_are_plausible(mtcnn, path):
    faces = detect_cached(mtcnn, path)
    # the confident faces (the weak extras are small background false alarms)
    for f in [f for f in faces if f.score >= 0.99]:
        (lex, ley), (rex, rey), (nx, ny), (lmx, lmy), (rmx, rmy) = f.landmarks
        assert lex < rex, "image-left eye first"
        assert lmx < rmx, "image-left mouth corner first"
        assert max(ley, rey) < min(lmy, rmy), "eyes above the mouth"
        assert min(ley, rey) < ny < max(lmy, rmy), "nose between eyes and mouth"
        x1, y1, x2, y2 = f.box
        mx, my = 0.1 * (x2 - x1), 0.1 * (y2 - y1)
        assert (f.landmarks[:, 0] > x1 - mx).all() and (f.landmarks[:, 0] < x2 + mx).all()
        assert (f.landmarks[:, 1] > y1 - my).all() and (f.landmarks[:, 1] < y2 + my).all()


@needs_weights
@needs_photos
def test_same_frame_at_240p_and_1080p_agrees(mtcnn):
    """1080p (1920 px wide) goes through the downscaled path; results map back to full size."""
    small = detect_cached(mtcnn, FACES / "identities/obama/obama_5_240p.jpg")[0]
    big_rgb = load_rgb(FACES / "identities/obama/obama_5_1080p.jpg")
    big = mtcnn.detect(big_rgb)[0]
    ratio = big_rgb.shape[1] / load_rgb(FACES / "identities/obama/obama_5_240p.jpg").shape[1]
    side = big.box[2] - big.box[0]
    np.testing.assert_allclose(np.array(big.box), np.array(small.box) * ratio, atol=0.12 * side)
    np.testing.assert_allclose(big.landmarks, small.landmarks * ratio, atol=0.06 * side)


@needs_weights
@needs_photos
def test_rgba_png_yields_a_face(mtcnn):
    path = FACES / "edge_cases" / "rgba_32bit.png"
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert raw.shape[2] == 4
    faces = mtcnn.detect(load_rgb(path))
    assert len(faces) >= 1


@needs_weights
def test_no_face_in_blank_or_noise(mtcnn):
    rng = np.random.default_rng(1234)
    for img in (
        np.zeros((480, 640, 3), np.uint8),
        np.full((300, 300, 3), 200, np.uint8),
        rng.integers(0, 256, (480, 640, 3), dtype=np.uint8),
        np.zeros((8, 8, 3), np.uint8),  # smaller than P-Net's window
    ):
        assert mtcnn.detect(img) == []


@needs_weights
def test_rejects_bad_input(mtcnn):
    with pytest.raises(PatchwiseError):
        mtcnn.detect(np.zeros((50, 50), np.uint8))
    with pytest.raises(PatchwiseError):
        mtcnn.detect(np.zeros((50, 50, 4), np.uint8))
    with pytest.raises(PatchwiseError):
        mtcnn.detect(np.zeros((50, 50, 3), np.float32))


@needs_weights
def test_describe_names_weights_and_hash(mtcnn):
    d = mtcnn.describe()
    assert d["id"] == "mtcnn" == mtcnn.id
    assert d["kind"] == "mtcnn"
    assert d["weights"]["file"] == "mtcnn.safetensors"
    assert d["weights"]["sha256"] == hashlib.sha256(DEFAULT_WEIGHTS.read_bytes()).hexdigest()
    assert d["thresholds"] == [0.6, 0.7, 0.7]
    assert d["min_face_size"] == 20


def test_missing_weights_raise(tmp_path):
    missing = tmp_path / "nope.safetensors"
    with pytest.raises(DetectorUnavailableError, match="nope.safetensors"):
        MTCNNDetector(missing)
    garbage = tmp_path / "bad.safetensors"
    garbage.write_bytes(b"not a safetensors file")
    with pytest.raises(DetectorUnavailableError, match="bad.safetensors"):
        MTCNNDetector(garbage)


def test_nms_union_and_min():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [2, 2, 6, 6]], float)
    scores = np.array([0.9, 0.8, 0.7, 0.95])
    assert sorted(nms(boxes, scores, 0.5).tolist()) == [0, 2, 3]
    # "min" mode: a box that contains the best (small) box counts as a full overlap
    assert sorted(nms(boxes, scores, 0.7, mode="min").tolist()) == [2, 3]
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).size == 0


# -- insightface: local packs only ------------------------------------------------


@pytest.fixture
def no_pack_env(monkeypatch, tmp_path):
    """No env var and a fake, empty HOME, so the real ~/.insightface is never read."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv(ENV_VAR, raising=False)
    return home


def test_insightface_empty_dir_is_unavailable(tmp_path):
    with pytest.raises(DetectorUnavailableError) as info:
        InsightFaceDetector(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_insightface_missing_dir_is_unavailable(tmp_path):
    missing = tmp_path / "no_such_pack"
    with pytest.raises(DetectorUnavailableError) as info:
        InsightFaceDetector(missing)
    assert str(missing) in str(info.value)


def test_insightface_garbage_onnx_is_unavailable(tmp_path):
    (tmp_path / "det_10g.onnx").write_bytes(b"\x00garbage, not an onnx model" * 10)
    with pytest.raises(DetectorUnavailableError) as info:
        InsightFaceDetector(tmp_path)
    assert "det_10g.onnx" in str(info.value)
    assert str(tmp_path) in str(info.value)


def test_find_pack_env_var_and_home(no_pack_env, monkeypatch, tmp_path):
    assert find_insightface_pack(None) is None

    # a default pack under (the fake) HOME
    default = no_pack_env / ".insightface" / "models" / "buffalo_s"
    default.mkdir(parents=True)
    assert find_insightface_pack(None) is None  # no .onnx yet: does not count
    (default / "det_500m.onnx").write_bytes(b"x")
    assert find_insightface_pack(None) == default

    # the env var wins over the defaults
    env_pack = tmp_path / "env_pack"
    env_pack.mkdir()
    (env_pack / "scrfd.onnx").write_bytes(b"x")
    monkeypatch.setenv(ENV_VAR, str(env_pack))
    assert find_insightface_pack(None) == env_pack

    # an explicit directory wins over the env var
    explicit = tmp_path / "explicit"
    explicit.mkdir()
    (explicit / "det.onnx").write_bytes(b"x")
    assert find_insightface_pack(str(explicit)) == explicit

    # an explicit directory without .onnx files gives None
    empty = tmp_path / "empty"
    empty.mkdir()
    assert find_insightface_pack(str(empty)) is None


class _FakeSCRFD:
    """Stands in for an insightface detection model (no real pack is available offline)."""

    taskname = "detection"
    use_kps = True

    def __init__(self):
        self.seen = None
        self.prepared = None

    def prepare(self, ctx_id, **kwargs):
        self.prepared = (ctx_id, kwargs)

    def detect(self, img, **kwargs):
        self.seen = img
        det = np.array([[10, 10, 30, 30, 0.9], [100, 50, 200, 170, 0.99]], np.float32)
        kps = np.tile(np.array([[1, 1], [2, 1], [1.5, 2], [1, 3], [2, 3]], np.float32), (2, 1, 1))
        return det, kps


def test_insightface_detector_converts_results(tmp_path, monkeypatch):
    from insightface.model_zoo import model_zoo

    (tmp_path / "det_10g.onnx").write_bytes(b"stand-in")
    (tmp_path / "w600k_r50.onnx").write_bytes(b"stand-in")
    fake = _FakeSCRFD()
    calls = []

    def fake_get_model(name, **kwargs):
        calls.append((Path(name).name, kwargs))
        return fake

    monkeypatch.setattr(model_zoo, "get_model", fake_get_model)
    det = InsightFaceDetector(tmp_path)
    assert calls[0][0] == "det_10g.onnx" and len(calls) == 1  # detector tried first
    assert calls[0][1].get("download") is False
    assert fake.prepared == (-1, {"input_size": (640, 640), "det_thresh": 0.5})
    assert det.id == f"insightface:{tmp_path.name}/det_10g.onnx"
    d = det.describe()
    assert d["weights"]["sha256"] == hashlib.sha256(b"stand-in").hexdigest()

    rgb = np.zeros((240, 320, 3), np.uint8)
    rgb[..., 0] = 255  # pure red in RGB
    faces = det.detect(rgb)
    assert fake.seen[0, 0].tolist() == [0, 0, 255], "insightface must get BGR"
    assert [f.score for f in faces] == pytest.approx([0.99, 0.9])  # largest first
    assert faces[0].box == (100.0, 50.0, 200.0, 170.0)
    assert faces[0].landmarks.shape == (5, 2)


# -- selection -----------------------------------------------------------------------


@needs_weights
def test_make_detector_auto_falls_back_to_mtcnn(no_pack_env):
    select_mod._mtcnn_cache.clear()
    det = make_detector("auto")
    assert det.id == "mtcnn"
    assert make_detector("mtcnn") is det  # cached: weights loaded once


def test_make_detector_insightface_without_pack_names_places(no_pack_env):
    with pytest.raises(DetectorUnavailableError) as info:
        make_detector("insightface")
    msg = str(info.value)
    for pack in ("buffalo_l", "buffalo_m", "buffalo_s", "antelopev2"):
        assert str(no_pack_env / ".insightface" / "models" / pack) in msg
    assert ENV_VAR in msg


def test_make_detector_explicit_bad_pack_raises(no_pack_env, tmp_path):
    empty = tmp_path / "pack"
    empty.mkdir()
    for kind in ("auto", "insightface"):
        with pytest.raises(DetectorUnavailableError, match=str(empty)):
            make_detector(kind, pack_dir=str(empty))


def test_make_detector_unknown_kind():
    with pytest.raises(UsageError):
        make_detector("dlib")


def _write_synthetic_scrfd(path: Path) -> None:
    """A tiny ONNX graph shaped like SCRFD with keypoints (9 outputs, strides 8/16/32).

    Its face score at each cell is sigmoid(10 * mean of input channel 0), and
    insightface feeds channel 0 = R (it swaps the BGR it is given). So a red
    patch "is a face" only if the detector hands insightface real BGR.
    """
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node(
            "Constant", [], ["ten"], value=helper.make_tensor("c10", TensorProto.FLOAT, [], [10.0])
        ),
        helper.make_node(
            "Constant", [], ["zero"], value=helper.make_tensor("c0", TensorProto.FLOAT, [], [0.0])
        ),
        helper.make_node(
            "Constant", [], ["one"], value=helper.make_tensor("c1", TensorProto.FLOAT, [], [1.0])
        ),
        helper.make_node(
            "Constant", [], ["s0"], value=helper.make_tensor("s0v", TensorProto.INT64, [1], [0])
        ),
        helper.make_node(
            "Constant", [], ["s1"], value=helper.make_tensor("s1v", TensorProto.INT64, [1], [1])
        ),
        helper.make_node("Slice", ["x", "s0", "s1", "s1"], ["ch0"]),
    ]
    outs = {"score": [], "bbox": [], "kps": []}
    for s in (8, 16, 32):
        shp = {k: f"shape{k}_{s}" for k in (1, 4, 10)}
        for k in (1, 4, 10):
            nodes.append(
                helper.make_node(
                    "Constant",
                    [],
                    [shp[k]],
                    value=helper.make_tensor(f"sv{k}_{s}", TensorProto.INT64, [2], [-1, k]),
                )
            )
        nodes += [
            helper.make_node(
                "AveragePool", ["ch0"], [f"p{s}"], kernel_shape=[s, s], strides=[s, s]
            ),
            helper.make_node("Mul", [f"p{s}", "ten"], [f"z{s}"]),
            helper.make_node("Sigmoid", [f"z{s}"], [f"sg{s}"]),
            helper.make_node("Transpose", [f"sg{s}"], [f"t{s}"], perm=[0, 2, 3, 1]),
            helper.make_node("Mul", [f"t{s}", "zero"], [f"zr{s}"]),
            helper.make_node("Add", [f"zr{s}", "one"], [f"on{s}"]),
            helper.make_node("Concat", [f"t{s}"] * 2, [f"sc{s}"], axis=3),
            helper.make_node("Reshape", [f"sc{s}", shp[1]], [f"score_{s}"]),
            helper.make_node("Concat", [f"on{s}"] * 8, [f"bb{s}"], axis=3),
            helper.make_node("Reshape", [f"bb{s}", shp[4]], [f"bbox_{s}"]),
            helper.make_node("Concat", [f"zr{s}"] * 20, [f"kp{s}"], axis=3),
            helper.make_node("Reshape", [f"kp{s}", shp[10]], [f"kps_{s}"]),
        ]
        for k, n in (("score", 1), ("bbox", 4), ("kps", 10)):
            outs[k].append(helper.make_tensor_value_info(f"{k}_{s}", TensorProto.FLOAT, [None, n]))
    graph = helper.make_graph(
        nodes,
        "fake_scrfd",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 640, 640])],
        outs["score"] + outs["bbox"] + outs["kps"],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())


def test_insightface_detector_with_synthetic_scrfd(tmp_path):
    """Real insightface routing + SCRFD decoding on a stand-in graph (no real pack offline)."""
    pack = tmp_path / "fake_pack"
    pack.mkdir()
    _write_synthetic_scrfd(pack / "det_fake.onnx")
    det = InsightFaceDetector(pack)
    assert det.id == "insightface:fake_pack/det_fake.onnx"
    assert det.describe()["model_class"] == "SCRFD"

    rgb = np.zeros((640, 640, 3), np.uint8)
    rgb[128:192, 320:384, 0] = 255  # a red patch, in RGB
    faces = det.detect(rgb)
    assert faces, "the red patch must fire when the detector converts RGB to BGR"
    for f in faces:
        cx, cy = (f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2
        assert 320 <= cx <= 384 and 128 <= cy <= 192
        assert f.landmarks.shape == (5, 2)
    blue = np.zeros_like(rgb)
    blue[128:192, 320:384, 2] = 255
    assert det.detect(blue) == []
