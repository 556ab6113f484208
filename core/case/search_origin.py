"""A comparison that began as a 1:N gallery search: what the case records about it.

Forensic practice requires disclosing that K was picked from a search, because the
pick carries selection bias. From the search's result (`search --json`, schema
patchwise.search/1, or the GUI's search page) the case keeps, in `settings.search`:
the gallery's size and SHA-256, K's rank among the candidates listed, the index
used, and the SHA-256 of the search result (and of the search file, when there is
one). The report prints them on page 1.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.errors import UsageError
from core.file_hash import sha256_bytes

SEARCH_SCHEMA = "patchwise.search/1"  # what `search --json` writes


def search_origin(path: str, query_sha256: str, candidate_sha256: str) -> dict:
    """The search record for Q and K, checked against the search file at `path`."""
    try:
        raw = Path(path).read_bytes()
        search = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read the search file ({exc})") from None
    if not isinstance(search, dict) or search.get("schema") != SEARCH_SCHEMA:
        raise UsageError(f"{path}: not a Patchwise search file ({SEARCH_SCHEMA})")
    origin = origin_from_search(search, query_sha256, candidate_sha256, f"{path}: ")
    return {**origin, "search_file": Path(path).name, "search_file_sha256": sha256_bytes(raw)}


def origin_from_search(
    search: dict, query_sha256: str, candidate_sha256: str, where: str = ""
) -> dict:
    """The search record for Q and K from a `patchwise.search/1` result (file or GUI).
    `search_sha256` is the SHA-256 of the result as canonical JSON (sorted keys)."""
    if search["query"]["sha256"] != query_sha256:
        raise UsageError(f"{where}the search was made for another questioned photo")
    ranks = [c["rank"] for c in search["candidates"] if c["sha256"] == candidate_sha256]
    if not ranks:
        raise UsageError(
            f"{where}the reference photo is not among the {len(search['candidates'])} "
            "candidates of this search"
        )
    canonical = json.dumps(search, sort_keys=True).encode("utf-8")
    return {
        "gallery_size": search["gallery"]["size"],
        "gallery_sha256": search["gallery"]["sha256"],
        "gallery_source": search["gallery"]["path"],
        "candidate_rank": ranks[0],
        "query_sha256": query_sha256,
        "candidate_sha256": candidate_sha256,
        "candidates_listed": len(search["candidates"]),
        "index": search["index"]["kind"],
        "search_model": search["model"]["id"],
        "search_sha256": sha256_bytes(canonical),
    }


def origin_applies(case, origin: dict) -> bool:
    """Whether the case compares the search's Q with the candidate the origin names."""
    return (
        case.input("A").sha256 == origin["query_sha256"]
        and case.input("B").sha256 == origin["candidate_sha256"]
    )


def add_search_origin(case, origin: dict) -> None:
    """Record in `case` that K came from the search `origin` describes (and log it)."""
    if not origin_applies(case, origin):
        raise UsageError("the search record is for another pair of photos")
    case.settings["search"] = origin
    case.log(
        "began as a gallery search",
        f"K is candidate {origin['candidate_rank']} of {origin['candidates_listed']} listed from "
        f"a gallery of {origin['gallery_size']} faces (SHA-256 {origin['gallery_sha256']})",
    )


def search_disclosure(origin: dict) -> str:
    """The sentence the report prints on page 1."""
    return (
        f"GALLERY SEARCH: the reference photo (K) was candidate {origin['candidate_rank']} of "
        f"the {origin['candidates_listed']} listed by a 1:N search of a gallery of "
        f"{origin['gallery_size']} faces (gallery SHA-256 {origin['gallery_sha256']}; "
        f"{origin['index']}; model {origin['search_model']}). K was selected because it "
        "scored high: its score is biased upward (selection bias), and the comparison below "
        "must be read with that in mind."
    )
