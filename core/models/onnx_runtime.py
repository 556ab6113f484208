"""The fast runtime: a bundled model's embedding exported to ONNX and run by ONNX Runtime.

The torch model stays the reference. Only gradient-free batched embeddings
(the black-box explainers' perturbation passes, fidelity curves, gallery
embeddings) take this path; cell features, the exact decomposition and every
gradient stay with torch, so a reported score never depends on the runtime.

Export happens at first use into the user cache folder
(`<cache>/onnx/<model>/<weights SHA-256[:16]>-torch<v>-opset<N>-ort<v>-g<revision>.onnx`)
with a JSON sidecar holding the file's SHA-256. The exported graph is cleaned up
first (core.models.onnx_graph: ONNX Runtime's basic optimisations, zero Pads
folded into their Convs, per-channel PReLUs split), which changes how fast it
runs, not what it computes. A file whose hash no longer matches, or new weights
(another name), is exported again. Before a fresh export is kept, its embeddings
are checked against torch on a probe batch.

Threads are set deliberately: one session per model and thread count, shared by
every worker thread (ONNX Runtime's `run` is thread-safe). On the CPU each pass is
split into as many parts as the configured thread count, run side by side by
single-threaded session runs on one thread pool per session (see OnnxModel); one
inter-op thread, sequential execution, and no spin-waiting (spinning threads steal
the CPU from everything else on a loaded desktop).
A CUDA device is used through CUDAExecutionProvider when ONNX Runtime has it.
"""

from __future__ import annotations

import io
import json
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from core.atomic_write import write_bytes_atomically, write_json_atomically
from core.errors import UsageError
from core.file_hash import sha256_file
from core.models.onnx_graph import cleaned_export
from core.user_cache import user_cache_dir

RUNTIMES = ("torch", "onnx")
ONNX_OPSET = 17
ONNX_MODELS = ("faceres", "mobileface", "dlib-resnet")  # bundled full-face models with an export
GRAPH_REVISION = 2  # of core.models.onnx_graph's clean-up; a new one exports afresh
EXPORT_TOLERANCE = 1e-4  # largest |difference| of unit embeddings accepted at export

_sessions: dict[tuple, OnnxModel] = {}
_lock = threading.Lock()


class _Embedding(torch.nn.Module):
    """model.embed_tensor as a module, so that torch.onnx can trace it."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.net = model.net  # registers the weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.embed_tensor(x)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _probe(size: int) -> np.ndarray:
    """A fixed probe batch: random faces in 0..255 (seeded, so the check is reproducible)."""
    return np.random.default_rng(0).uniform(0, 255, (4, 3, size, size)).astype(np.float32)


def export_path(model) -> Path:
    sha = model.describe()["weights_sha256"][:16]
    import onnxruntime as ort

    version = torch.__version__.split("+")[0]
    name = f"{sha}-torch{version}-opset{ONNX_OPSET}-ort{ort.__version__}-g{GRAPH_REVISION}.onnx"
    return user_cache_dir() / "onnx" / model.id / name


def _export_bytes(model) -> tuple[bytes, dict]:
    """The cleaned-up ONNX graph of model.embed_tensor and what the clean-up rewrote."""
    module = _Embedding(model).eval().cpu()
    example = torch.from_numpy(_probe(model.input_size)[:2])
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            buffer,
            dynamo=False,
            opset_version=ONNX_OPSET,
            input_names=["faces"],
            output_names=["embedding"],
            dynamic_axes={"faces": {0: "batch"}, "embedding": {0: "batch"}},
        )
    module.to(model.device)
    return cleaned_export(buffer.getvalue())


def _reference_embeddings(model, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model.embed_tensor(torch.from_numpy(x).to(model.device)).double().cpu().numpy()


def _unwritable(model, path: Path, exc: OSError) -> UsageError:
    return UsageError(
        f"cannot keep the ONNX export of {model.id} in {path.parent} ({exc.strerror}); "
        "set PATCHWISE_CACHE_DIR to a writable folder or use --runtime torch"
    )


def exported_onnx(model) -> tuple[Path, str]:
    """(path, SHA-256) of the model's ONNX export, exporting it now if it is missing or altered."""
    import onnxruntime as ort

    path = export_path(model)
    sidecar = path.with_suffix(".json")
    if path.is_file() and sidecar.is_file():
        recorded = json.loads(sidecar.read_text(encoding="utf-8")).get("onnx_sha256")
        if recorded == sha256_file(path):
            return path, recorded
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # fail before the export, not after
        raise _unwritable(model, path, exc) from None
    data, rewrites = _export_bytes(model)
    check = _session_from_bytes(data, model.device, 1)
    probe = _probe(model.input_size)
    got = check.run(None, {"faces": probe})[0]
    gap = float(np.abs(_unit(got) - _unit(_reference_embeddings(model, probe))).max())
    if gap > EXPORT_TOLERANCE:
        raise UsageError(
            f"the ONNX export of {model.id} differs from torch by {gap:.2e} "
            f"(tolerance {EXPORT_TOLERANCE}); use --runtime torch"
        )
    try:
        write_bytes_atomically(path, data)
    except OSError as exc:
        raise _unwritable(model, path, exc) from None
    digest = sha256_file(path)
    write_json_atomically(
        sidecar,
        {
            "model": model.id,
            "weights_sha256": model.describe()["weights_sha256"],
            "torch": torch.__version__,
            "opset": ONNX_OPSET,
            "onnxruntime_basic_optimisations": ort.__version__,
            "graph_rewrites": rewrites,
            "onnx_sha256": digest,
            "probe_max_unit_difference": gap,
        },
    )
    return path, digest


def _providers(device: torch.device) -> list[str]:
    import onnxruntime as ort

    if device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def _session_from_bytes(source, device: torch.device, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(source, options, providers=_providers(device))


class OnnxModel:
    """A FaceModel whose batched embeddings (`embed_array`) run in ONNX Runtime.

    Everything else (cell features, embed_tensor, spatial_forward, layout, id)
    is the torch reference model's, reached through attribute delegation.

    On the CPU a pass is split into `threads` parts run side by side, each by a
    single-threaded session run, on one small thread pool shared by every worker
    (issue 12). Measured at load average ~5 on 2 cores, per image: mobileface
    0.20 ms of CPU split against 0.28 ms with two intra-op threads (passes of 8),
    faceres 6.2 against 7.5 ms (passes of 4): the intra-op threads met at a barrier
    after every operator, which costs most on small operators and on a loaded machine.
    """

    runtime = "onnx"

    def __init__(self, reference, threads: int):
        self.reference = reference
        self.threads = threads
        path, self.onnx_sha256 = exported_onnx(reference)
        on_cpu = _providers(reference.device) == ["CPUExecutionProvider"]
        self.parts = threads if on_cpu else 1
        session_threads = 1 if self.parts > 1 else threads
        self.session = _session_from_bytes(str(path), reference.device, session_threads)
        self.providers = self.session.get_providers()
        self.pool = ThreadPoolExecutor(self.parts, "onnx-part") if self.parts > 1 else None

    def __getattr__(self, name):
        return getattr(self.reference, name)

    def _run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"faces": x})[0]

    def embed_array(self, x: np.ndarray) -> np.ndarray:
        """B x 3 x S x S float32 RGB 0..255 -> B x D float64 embeddings."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if self.pool is None or len(x) < 2:
            return self._run(x).astype(np.float64)
        parts = np.array_split(x, min(self.parts, len(x)))
        return np.concatenate(list(self.pool.map(self._run, parts))).astype(np.float64)

    def describe_runtime(self) -> dict:
        return {
            "runtime": "onnx",
            "onnx_sha256": self.onnx_sha256,
            "onnxruntime_providers": self.providers,
            "parallel_parts": self.parts,
            "intra_op_threads": 1 if self.parts > 1 else self.threads,
        }


def runtime_name(model) -> str:
    return getattr(model, "runtime", "torch")


def describe_runtime(model) -> dict:
    """What ran the batched embeddings: torch (the reference) or ONNX Runtime with its file."""
    describe = getattr(model, "describe_runtime", None)
    if describe is not None:
        return describe()
    return {"runtime": "torch", "torch": torch.__version__, "threads": torch.get_num_threads()}


def onnx_unavailable_reason(model) -> str | None:
    if model.id not in ONNX_MODELS:
        return f"no ONNX export for {model.id} (only {', '.join(ONNX_MODELS)}); torch is used"
    return None


def with_runtime(model, runtime: str, threads: int | None = None):
    """The model on `runtime`: itself for torch, a shared OnnxModel for onnx.

    A model without an ONNX export stays on torch; `onnx_unavailable_reason`
    says why, and the explanation records the runtime that actually ran.
    """
    if runtime not in RUNTIMES:
        raise UsageError(f"unknown runtime '{runtime}' (use {' or '.join(RUNTIMES)})")
    model = getattr(model, "reference", model)
    if runtime == "torch" or onnx_unavailable_reason(model):
        return model
    threads = threads or os.cpu_count() or 1
    key = (model.id, str(model.device), model.describe()["weights_sha256"], threads)
    with _lock:
        if key not in _sessions:
            _sessions[key] = OnnxModel(model, threads)
        return _sessions[key]
