"""`search Q --gallery DIR|STORE --top N`: rank a reference collection against one face (1:N).

An investigative lead, not an evaluation: the output says so, and a report on a
candidate (`report Q K --search SEARCH.json`) discloses the search (docs/scale.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.cli.runtime_options import add_runtime_options, engine_from_args
from core.cli.scale_options import add_scale_options, batch_context
from core.errors import UsageError


def register(commands) -> None:
    parser = commands.add_parser("search", help="rank a gallery of faces against one photo (1:N)")
    parser.add_argument("image_q", help="questioned photo")
    parser.add_argument(
        "--gallery",
        required=True,
        metavar="DIR|STORE",
        help="folder of reference photos (largest face of each), or an embedding store folder",
    )
    parser.add_argument("--top", type=int, default=50, help="candidates to list (default 50)")
    parser.add_argument("--face", type=int, default=0, help="face index in Q (0 = largest)")
    parser.add_argument("--model", default=None, help="model id (see `models`)")
    parser.add_argument("--json", metavar="OUT", help="write the candidate list as JSON")
    parser.add_argument("--csv", metavar="OUT", help="write the candidate list as CSV")
    add_runtime_options(parser)
    add_scale_options(parser)


def _gallery_members(args, engine, model, model_id: str) -> tuple[list[dict], object, dict]:
    """(members {name, path, sha256}, embeddings, source record) of the gallery."""
    import numpy as np
    from tqdm import tqdm

    from core.batch_embedding import embed_images
    from core.embedding_store import EmbeddingStore, Producer
    from core.explainers.gallery import gallery_photos

    source = Path(args.gallery)
    if (source / "data.mdb").is_file():
        with EmbeddingStore(source) as store:
            found = store.gallery(Producer.of(engine.detector, model))
        if not found:
            raise UsageError(f"embedding store {source} holds no face for model {model_id}")
        members = [{"name": name, "path": None, "sha256": sha} for sha, name, _ in found]
        record = {"kind": "embedding store", "path": str(source), "skipped": []}
        return members, np.stack([e for _, _, e in found]), record
    photos = gallery_photos(source)
    with (
        batch_context(args, model_id) as (store, run_chunks),
        tqdm(total=len(photos), desc="embedding gallery", unit="photo", file=sys.stderr) as bar,
    ):

        def progress(done: int, total: int) -> None:
            bar.update(done - bar.n)

        embedded = embed_images(
            engine, model, photos, store=store, run_chunks=run_chunks, progress=progress
        )
    found = [p for p in photos if p in embedded.embeddings]
    if not found:
        raise UsageError(f"no face found in any photo of the gallery {source}")
    members = [
        {"name": str(p.relative_to(source)), "path": str(p), "sha256": embedded.sha256[p]}
        for p in found
    ]
    skipped = [
        {"image": str(p), "error": embedded.failed[p]} for p in photos if p in embedded.failed
    ]
    record = {"kind": "photo folder", "path": str(source), "skipped": skipped}
    return members, np.stack([embedded.embeddings[p] for p in found]), record


def run(args) -> int:
    from core.atomic_write import write_bytes_atomically, write_json_atomically
    from core.gallery_search import SELECTION_BIAS_NOTE, GalleryIndex, gallery_sha256
    from core.models.registry import DEFAULT_MODEL

    if args.top < 1:
        raise UsageError("--top must be at least 1")
    engine = engine_from_args(args)
    model_id = args.model or DEFAULT_MODEL
    model = engine.model(model_id)
    if getattr(model, "score_pair", None) is not None:
        raise UsageError(f"model {model_id} scores pairs with its own metric; search needs cosine")
    query = engine.prepare(args.image_q)
    query.face(args.face)
    _, features = engine.side_features([(query, args.face)], model)[0]
    members, embeddings, source = _gallery_members(args, engine, model, model_id)
    index = GalleryIndex.build(embeddings)
    rows, scores = index.top(features.embedding, args.top)
    size = len(members)
    result = {
        "schema": "patchwise.search/1",
        "query": {"image": str(args.image_q), "sha256": query.evidence.sha256, "face": args.face},
        "model": model.describe(),
        "detector": engine.detector.describe(),
        "gallery": {
            **source,
            "size": size,
            "sha256": gallery_sha256(m["sha256"] for m in members),
            "hash_rule": "SHA-256 of the members' image SHA-256s, sorted, one per line",
        },
        "index": index.description,
        "top": args.top,
        "note": SELECTION_BIAS_NOTE.format(size=size),
        "candidates": [
            {"rank": rank, "cosine": float(score), **members[row]}
            for rank, (row, score) in enumerate(zip(rows, scores, strict=True), start=1)
        ],
    }
    print(
        f"Patchwise search — model {model_id}; gallery {size} faces "
        f"(SHA-256 {result['gallery']['sha256'][:16]}…), {index.description['kind']}"
    )
    for c in result["candidates"][:10]:
        print(f"  {c['rank']:3d}  {c['cosine']:+.4f}  {c['name']}")
    print(result["note"])
    if args.json:
        write_json_atomically(args.json, result)
        print(f"JSON written to {args.json}")
    if args.csv:
        write_bytes_atomically(args.csv, _csv(result["candidates"]).encode("utf-8"))
        print(f"CSV written to {args.csv}")
    return 0


def _csv(candidates: list[dict]) -> str:
    import csv
    import io

    text = io.StringIO()
    writer = csv.DictWriter(text, ["rank", "cosine", "name", "path", "sha256"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(candidates)
    return text.getvalue()
