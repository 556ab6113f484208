"""Human-readable summaries printed by the CLI."""

from __future__ import annotations

from core.engine import Comparison, FaceSide


def _side_line(tag: str, side: FaceSide) -> str:
    ev = side.prepared.evidence
    face = side.prepared.faces[side.index]
    converted = f"; {', '.join(ev.conversions)}" if ev.conversions else ""
    header = f"{tag}: {ev.name} ({ev.width}x{ev.height} {ev.format}, sha256 {ev.sha256[:16]}…)\n"
    if face.placed_by_hand:
        points = " ".join(f"({x:.1f},{y:.1f})" for x, y in face.landmarks)
        return f"{header}   landmarks PLACED BY HAND: {points}{converted}"
    return (
        f"{header}   face {side.index + 1} of {len(side.prepared.faces)} found "
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
    name = {"xcos": "xCos score", "fused log-odds": "fused score (log-odds)"}.get(
        kind, "cosine similarity"
    )
    print(f"{name}: {result.cosine:+.4f}  (a similarity score, not a likelihood ratio)")
    print(
        f"decomposition: {layout.count}x{layout.count} pairs of {layout.label}; "
        f"sum of terms {dec.total:+.6f}, residual {dec.residual:.1e} (rounding check)"
    )
    if result.forward_residual is not None:
        print(
            f"  forward check: the model's own forward pass scores {result.forward_score:+.6f}; "
            f"forward residual |forward - sum of terms| {result.forward_residual:.1e}"
        )
    for part in dec.parts:  # a fused score: each member's block and the intercept
        if part["model"] == "intercept":
            print(f"  intercept {part['weight']:+.4f}")
        else:
            print(
                f"  {part['model']}: weight {part['weight']:+.4f} x cosine "
                f"{part['cosine']:+.4f} (cells {part['cells'][0]}..{part['cells'][1] - 1})"
            )
    if dec.bias_a.any() or dec.bias_b.any() or dec.bias_bias:
        bias = dec.bias_a.sum() + dec.bias_b.sum() + dec.bias_bias
        print(f"  bias terms (head bias{', intercept' if dec.parts else ''}): {bias:+.4f}")
    positive, negative = dec.top_pairs(top)
    for title, pairs in (("most similar", positive), ("most dissimilar", negative)):
        if pairs:
            print(f"{title} pairs (cell i on A, cell j on B):")
            for p in pairs:
                print(f"  ({p['i']:>2}, {p['j']:>2})  {p['term']:+.4f}")
    if top > 0 and not negative:
        print("  (no pair term is negative in this comparison)")
    stages = ", ".join(f"{k} {v:.0f} ms" for k, v in result.timings_ms.items())
    print(f"timings: {stages}")


def print_store_use(store: dict) -> None:
    if store["path"] is None:
        print(f"embedding store: off; {store['faces_embedded']} face(s) embedded")
        return
    damaged = store["entries_failing_sha256"]
    print(
        f"embedding store {store['path']}: {store['faces_from_store']} face(s) reused, "
        f"{store['faces_embedded']} embedded"
        + (f", {damaged} damaged entr(ies) recomputed" if damaged else "")
    )


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
    if result.get("second_pass_detections"):
        print(
            f"  {len(result['second_pass_detections'])} face(s) found only by the detector's "
            "second pass (listed in the JSON)"
        )
    print_store_use(result["embedding_store"])
    if "roc_auc" not in m:
        print(m.get("note", "no metrics"))
        return
    cv = m["cv_accuracy"]
    cv_text = "n/a" if cv["mean"] is None else f"{cv['mean']:.4f} ± {cv['std']:.4f}"
    print(f"ROC AUC {m['roc_auc']:.4f}   EER {m['eer']:.4f} (threshold {m['eer_threshold']:.4f})")
    print(
        f"best accuracy {m['best_accuracy']:.4f} at threshold {m['best_threshold']:.4f}; "
        f"{_fold_kind(cv)} accuracy {cv_text}"
    )
    tars = ", ".join(
        f"FAR {far}: {'n/a (too few impostors)' if v is None else f'{v:.4f}'}"
        for far, v in m["tar_at_far"].items()
    )
    print(f"TAR at {tars}")


def _fold_kind(cv: dict) -> str:
    if cv.get("folds") == "protocol":
        return f"protocol-fold ({len(cv.get('fold_names', []))} folds)"
    return "10-fold (random, seeded)"


def print_models(listing: dict) -> None:
    print("Models:")
    for model in listing["models"]:
        if "error" in model:
            print(f"  {model['id']:<15} UNAVAILABLE: {model['error']}")
            continue
        print(f"  {model['id']:<15} {model['label']}")
        if "weights_file" in model:
            print(
                f"  {'':<15} weights {model['weights_file']} "
                f"sha256 {model['weights_sha256'][:16]}…; license {model.get('license')}"
            )
        card = model.get("card")
        if card:
            print(f"  {'':<15} source: {card['source']}; licence {card['licence']}")
            print(f"  {'':<15} decomposition: {card['decomposition']}")
            for set_name, figures in card.get("accuracy", {}).items():
                print(f"  {'':<15} {set_name}: {figures}")
    print("Detectors:")
    for det in listing["detectors"]:
        state = det.get("error") or det.get("weights_sha256", "")[:16]
        print(f"  {det['id']:<15} {state}")
