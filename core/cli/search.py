"""`search Q --gallery DIR|STORE --top N`: rank a reference collection against one face (1:N).

An investigative lead, not an evaluation: the output says so, and a report on a
candidate (`report Q K --search SEARCH.json`) discloses the search (docs/scale.md).
"""

from __future__ import annotations

import sys

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


def run(args) -> int:
    from tqdm import tqdm

    from core.atomic_write import write_bytes_atomically, write_json_atomically
    from core.gallery_members import search_gallery
    from core.models.registry import DEFAULT_MODEL

    if args.top < 1:
        raise UsageError("--top must be at least 1")
    engine = engine_from_args(args)
    model_id = args.model or DEFAULT_MODEL
    model = engine.model(model_id)
    with (
        batch_context(args, model_id) as (store, run_chunks),
        tqdm(desc="embedding gallery", unit="photo", file=sys.stderr) as bar,
    ):

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = search_gallery(
            engine, model, args.image_q, args.gallery, args.top, args.face, store, run_chunks,
            progress, args.runtime,
        )  # fmt: skip
    index, size = result["index"], result["gallery"]["size"]
    print(
        f"Patchwise search — model {model_id}; gallery {size} faces "
        f"(SHA-256 {result['gallery']['sha256'][:16]}…), {index['kind']}"
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
