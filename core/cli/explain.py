"""`explain A B --method ...`: a post-hoc (or decomposition) map for each face, with files.

Writes into --out: <method>_a.npy / <method>_b.npy (signed maps in aligned-face
pixels), <method>_{a,b}_aligned.png (overlay on the aligned face),
<method>_{a,b}_photo.png (overlay on the original photo through the inverse
alignment transform) and <method>.json (or --json OUT) with the parameters,
timings and, with --fidelity, deletion/insertion AUCs against random maps.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from core.atomic_write import write_bytes_atomically, write_json_atomically
from core.cli.runtime_options import add_runtime_options, engine_from_args

METHODS = ("xmap", "corrrise", "gradcam", "gradcampp", "sdd", "marginals")


def register(commands) -> None:
    parser = commands.add_parser(
        "explain", help="explanation maps for a pair (X-Maps, CorrRISE, Grad-CAM, SDD, marginals)"
    )
    parser.add_argument("image_a")
    parser.add_argument("image_b")
    parser.add_argument("--method", required=True, choices=METHODS)
    parser.add_argument("--model", default=None, help="model id (see `models`)")
    parser.add_argument("--face-a", type=int, default=0, help="face index in image A")
    parser.add_argument("--face-b", type=int, default=0, help="face index in image B")
    parser.add_argument(
        "--xmap-method", type=int, default=2, choices=(1, 2, 3), help="X-Maps method (Eq. 6-8)"
    )
    parser.add_argument(
        "--occlusion", default="black", choices=("black", "gray", "noise"), help="X-Maps occluder"
    )
    parser.add_argument("--masks", type=int, default=500, help="CorrRISE masks (default 500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    parser.add_argument("--gallery", metavar="DIR", help="background gallery folder (SDD)")
    parser.add_argument("--k", type=int, default=5, help="SDD competitors (default 5)")
    parser.add_argument("--out", metavar="DIR", default="explanations", help="output folder")
    parser.add_argument("--json", metavar="OUT", help="JSON path (default: OUT/<method>.json)")
    parser.add_argument("--colormap", default="diverging", help="diverging or a cv2 colormap")
    parser.add_argument("--opacity", type=float, default=0.6, help="overlay opacity 0..1")
    parser.add_argument("--hls", action="store_true", help="render with the X-Maps HLS blend")
    parser.add_argument(
        "--fidelity", action="store_true", help="measure deletion/insertion vs random maps"
    )
    parser.add_argument("--steps", type=int, default=20, help="deletion/insertion steps")
    parser.add_argument(
        "--sanity",
        action="store_true",
        help="cascading model-randomisation check: Spearman rho of the map against the maps "
        "of copies with the top layers re-drawn (a faithful map's rho falls towards 0)",
    )
    parser.add_argument("--sanity-levels", type=int, default=3, help="randomisation steps")
    parser.add_argument(
        "--mask-design",
        default="squares",
        choices=("squares", "grid"),
        help="CorrRISE masks: the paper's squares, or RISE-style shifted grid (docs)",
    )
    parser.add_argument(
        "--runtime",
        default="onnx",
        choices=("torch", "onnx"),
        help="what runs the black-box passes (X-Maps, CorrRISE, fidelity): onnx (ONNX Runtime, "
        "exported at first use, default) or torch (the reference); gradients always use torch",
    )
    add_runtime_options(parser)


def _settings(args, model, engine):
    from core.errors import UsageError
    from core.explainers.corrrise import CorrRiseSettings
    from core.explainers.gallery import load_gallery
    from core.explainers.gradcam import GradCamSettings
    from core.explainers.marginals import MarginalSettings
    from core.explainers.sdd import SddSettings
    from core.explainers.xmaps import XMapSettings

    if args.method == "xmap":
        return XMapSettings(method=args.xmap_method, occlusion=args.occlusion)
    if args.method == "corrrise":
        return CorrRiseSettings(masks=args.masks, mask_design=args.mask_design)
    if args.method in ("gradcam", "gradcampp"):
        return GradCamSettings(plus_plus=args.method == "gradcampp")
    if args.method == "sdd":
        if not args.gallery:
            raise UsageError(
                "--method sdd needs --gallery DIR (a folder of background face photos); "
                "SDD compares B against the gallery faces most like A and has no map without them"
            )
        return SddSettings(gallery=load_gallery(args.gallery, engine, model), k=args.k)
    return MarginalSettings()


def _progress(done: int, total: int) -> None:
    print(f"\r  {done}/{total} forward passes", end="", file=sys.stderr, flush=True)


def _save_npy(path: Path, array) -> None:
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    write_bytes_atomically(path, buffer.getvalue())


def write_outputs(comparison, explanation, out: Path, colormap, opacity, hls) -> list[Path]:
    """The .npy maps and the aligned-face and photo overlays; returns the paths written."""
    from core.explainers.overlay import encode_png, hls_blend, overlay_on_photo, render_overlay

    written = []
    for side, m in (("a", explanation.map_a), ("b", explanation.map_b)):
        face_side = getattr(comparison, side)
        stem = out / f"{explanation.method}_{side}"
        _save_npy(stem.with_suffix(".npy"), m)
        aligned = face_side.aligned.image
        if hls:
            on_face = hls_blend(aligned, m, colormap)
        else:
            on_face = render_overlay(aligned, m, colormap, opacity)
        on_photo = overlay_on_photo(
            face_side.prepared.evidence.rgb, m, face_side.aligned.transform, colormap, opacity
        )
        for suffix, image in (("_aligned.png", on_face), ("_photo.png", on_photo)):
            path = stem.parent / (stem.name + suffix)
            write_bytes_atomically(path, encode_png(image))
            written.append(path)
        written.append(stem.with_suffix(".npy"))
    return written


def run(args) -> int:
    from core.errors import UsageError
    from core.explainers.base import pair_from_comparison
    from core.explainers.faithfulness import FidelitySettings, fidelity
    from core.explainers.overlay import COLORMAPS
    from core.explainers.registry import availability, explain
    from core.models.registry import DEFAULT_MODEL

    if args.masks < 3 or args.steps < 1 or not 0.0 <= args.opacity <= 1.0:
        raise UsageError("--masks must be >= 3, --steps >= 1 and --opacity within 0..1")
    if args.sanity and (args.method == "marginals" or args.sanity_levels < 1):
        raise UsageError(
            "--sanity is for post-hoc explainers (not marginals) and needs --sanity-levels >= 1"
        )
    if args.colormap not in COLORMAPS:
        raise UsageError(
            f"unknown --colormap '{args.colormap}'; choose from {', '.join(COLORMAPS)}"
        )
    engine = engine_from_args(args)
    model_id = args.model or DEFAULT_MODEL
    model = engine.model(model_id)
    reason = availability(args.method, model)
    if reason:
        raise UsageError(reason)
    comparison = engine.compare(args.image_a, args.image_b, model_id, args.face_a, args.face_b)
    settings = _settings(args, model, engine)
    print(f"{args.method} on {model_id}: cosine {comparison.cosine:.4f}")
    explanation = explain(
        args.method, comparison, settings, args.seed, _progress, runtime=args.runtime
    )
    print(file=sys.stderr)
    out = Path(args.out)
    written = write_outputs(comparison, explanation, out, args.colormap, args.opacity, args.hls)
    payload = {
        "schema": "patchwise.explanation/1",
        "comparison": {
            "model": comparison.model.to_json(),
            "cosine": comparison.cosine,
            "a": comparison.a.to_json(),
            "b": comparison.b.to_json(),
        },
        "explanation": explanation.to_json(),
        "files": [str(p) for p in written],
    }
    if args.fidelity:
        pair = pair_from_comparison(comparison, model, args.runtime)
        fid_settings = FidelitySettings(steps=args.steps)
        payload["fidelity"] = fidelity(pair, explanation, fid_settings, args.seed, _progress)
        print(file=sys.stderr)
        f = payload["fidelity"]
        flag = "  WORSE THAN RANDOM" if any(f["worse_than_random"].values()) else ""
        print(
            f"per-pair score AUC ({f['mode']}): deletion {f['deletion_auc']:.4f} "
            f"(random {f['random_deletion_auc']:.4f}), insertion {f['insertion_auc']:.4f} "
            f"(random {f['random_insertion_auc']:.4f}){flag}"
        )
    if args.sanity:
        from core.explainers.registry import randomisation_check

        payload["sanity"] = randomisation_check(
            args.method, comparison, explanation, settings, args.seed, args.sanity_levels
        )
        print_sanity(payload["sanity"])
    json_path = Path(args.json) if args.json else out / f"{args.method}.json"
    write_json_atomically(json_path, payload)
    print(
        f"{explanation.forward_passes} forward passes on {explanation.runtime['runtime']} "
        f"in {explanation.seconds:.2f} s; "
        f"maps and overlays in {out}, JSON in {json_path}"
    )
    return 0


def print_sanity(result: dict) -> None:
    from core.explainers.sanity import verdict_text

    print("randomisation check (Spearman rho, original map vs randomised model's map):")
    for level in result["levels"]:
        print(
            f"  top {level['randomised_layers']:>3} of {level['of_layers']} layer groups "
            f"re-drawn (from {level['lowest_randomised']}): rho A {level['spearman_a']:+.3f}, "
            f"B {level['spearman_b']:+.3f}"
        )
    print(f"  {verdict_text(result['verdict'])}")
