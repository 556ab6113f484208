"""Human-readable summaries printed by the CLI."""

from __future__ import annotations

from core.engine import Comparison, FaceSide


def _side_line(tag: str, side: FaceSide) -> str:
    ev = side.prepared.evidence
    face = side.prepared.faces[side.index]
    converted = f"; {', '.join(ev.conversions)}" if ev.conversions else ""
    return (
        f"{tag}: {ev.name} ({ev.width}x{ev.height} {ev.format}, sha256 {ev.sha256[:16]}…)\n"
        f"   face {side.index + 1} of {len(side.prepared.faces)} found "
        f"(index {side.index}, detector score {face.score:.3f}){converted}"
    )


def print_comparison(result: Comparison, top: int = 5) -> None:
    dec = result.decomposition
    layout = dec.layout
    print(
        f"Patchwise — model {result.model.id} on {result.device}, detector {result.detector['id']}"
    )
    print(f"  {result.model['label']}")
    print(_side_line("A", result.a))
    print(_side_line("B", result.b))
    kind = result.model.get("score_kind", "cosine")
    name = "xCos score" if kind == "xcos" else "cosine similarity"
    print(f"{name}: {result.cosine:+.4f}  (a similarity score, not a likelihood ratio)")
    print(
        f"decomposition: {layout.count}x{layout.count} pairs of {layout.label}; "
        f"sum of terms {dec.total:+.6f}, residual {dec.residual:.1e}"
    )
    if result.model.id == "mobileface":
        bias = dec.bias_a.sum() + dec.bias_b.sum() + dec.bias_bias
        print(f"  bias terms (head bias): {bias:+.4f}")
    positive, negative = dec.top_pairs(top)
    for title, pairs in (("most similar", positive), ("most dissimilar", negative)):
        if pairs:
            print(f"{title} pairs (cell i on A, cell j on B):")
            for p in pairs:
                print(f"  ({p['i']:>2}, {p['j']:>2})  {p['term']:+.4f}")
    if top > 0 and not negative:
        print("  (no negative pair terms: this model's cell vectors are non-negative)")
    stages = ", ".join(f"{k} {v:.0f} ms" for k, v in result.timings_ms.items())
    print(f"timings: {stages}")


def print_evaluation(result: dict) -> None:
    m = result["metrics"]
    print(
        f"Patchwise evaluate — model {result['model']['id']}, detector {result['detector']['id']}"
    )
    print(
        f"images: {result['images']} ({len(result['failed_images'])} failed); "
        f"pairs scored: {m['pairs']} of {result['pairs_in_csv']} "
        f"({m['genuine']} genuine, {m['impostor']} impostor)"
    )
    for item in result["failed_images"]:
        print(f"  failed: {item['error']}")
    if "roc_auc" not in m:
        print(m.get("note", "no metrics"))
        return
    cv = m["cv_accuracy"]
    cv_text = "n/a" if cv["mean"] is None else f"{cv['mean']:.4f} ± {cv['std']:.4f}"
    print(f"ROC AUC {m['roc_auc']:.4f}   EER {m['eer']:.4f} (threshold {m['eer_threshold']:.4f})")
    print(
        f"best accuracy {m['best_accuracy']:.4f} at threshold {m['best_threshold']:.4f}; "
        f"10-fold accuracy {cv_text}"
    )
    tars = ", ".join(
        f"FAR {far}: {'n/a (too few impostors)' if v is None else f'{v:.4f}'}"
        for far, v in m["tar_at_far"].items()
    )
    print(f"TAR at {tars}")


def print_models(listing: dict) -> None:
    print("Models:")
    for model in listing["models"]:
        if "error" in model:
            print(f"  {model['id']:<15} UNAVAILABLE: {model['error']}")
            continue
        print(f"  {model['id']:<15} {model['label']}")
        print(
            f"  {'':<15} weights {model['weights_file']} sha256 {model['weights_sha256'][:16]}…"
            f"; license {model.get('license')}"
        )
    print("Detectors:")
    for det in listing["detectors"]:
        state = det.get("error") or det.get("weights_sha256", "")[:16]
        print(f"  {det['id']:<15} {state}")
