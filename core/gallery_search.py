"""1:N gallery search with FAISS: rank a reference collection by cosine to one face.

Embeddings are L2-normalised, so the inner product is the cosine. Up to EXACT_LIMIT
vectors the index is exact (IndexFlatIP: every vector is compared); above it, an
inverted-file index (IndexIVFFlat, sqrt(n) lists, k-means on a seeded sample) that
visits only `nprobe` lists and may miss a true neighbour. FAISS ranks in float32;
each returned candidate's score is then recomputed in float64 from the stored embedding.

The gallery's hash is the SHA-256 of its members' image SHA-256s, sorted, one per line:
it names the collection searched, whatever its folder or file names.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import faiss
import numpy as np

from core.errors import UsageError

EXACT_LIMIT = 1_000_000
QUERY_THREADS = 1  # one query: OpenMP threads cost more than they gain (docs/scale.md)
# An IVF index visits half of its lists. Measured on identity-like synthetic vectors
# (10^6 unit vectors, 256-d, clusters of 10 at cosine ~0.7 to their centre, 1,000
# lists; benchmarks/bench_scale.py builds the same data): 32 lists visited found
# 0.34 of a query's 10 cluster mates at 1.4 ms per query, 128 found 0.63, 256 found
# 0.78 and 512 found 0.93 at 23 ms, against 35 ms for the exact index. A search that
# misses the true mate misleads an examiner more than a slower one, so recall wins.
IVF_PROBED_SHARE = 0.5
TRAIN_SEED = 0
TRAIN_POINTS_PER_LIST = 64  # k-means trains on a seeded sample of 64 points per list
SELECTION_BIAS_NOTE = (
    "A candidate found by a 1:N search was selected because it scored high among "
    "{size} gallery faces: its score is biased upward (selection bias), and a higher "
    "rank or score is an investigative lead, not evidence of identity."
)


def gallery_sha256(image_sha256s) -> str:
    return hashlib.sha256("\n".join(sorted(image_sha256s)).encode()).hexdigest()


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _unit_float32(vectors: np.ndarray, block: int = 65536) -> np.ndarray:
    """Unit rows in float32, normalised block by block (no float64 copy of the gallery)."""
    out = np.empty(vectors.shape, dtype=np.float32)
    for start in range(0, len(vectors), block):
        out[start : start + block] = unit_rows(vectors[start : start + block])
    return out


@dataclass
class GalleryIndex:
    """A FAISS index over the gallery's unit embeddings, with what it can promise."""

    index: faiss.Index
    embeddings: np.ndarray  # n x D as given (not copied), for exact re-scoring
    description: dict

    @classmethod
    def build(cls, embeddings: np.ndarray, exact_limit: int = EXACT_LIMIT) -> GalleryIndex:
        if len(embeddings) == 0:
            raise UsageError("the gallery holds no face")
        vectors = _unit_float32(embeddings)
        count, dim = vectors.shape
        if count <= exact_limit:
            index = faiss.IndexFlatIP(dim)
            description = {"kind": "exact inner product (faiss IndexFlatIP)", "exact": True}
        else:
            lists = max(1, int(math.sqrt(count)))
            index = faiss.IndexIVFFlat(
                faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT
            )
            index.cp.seed = TRAIN_SEED
            index.cp.max_points_per_centroid = TRAIN_POINTS_PER_LIST
            index.train(vectors)
            index.nprobe = max(1, math.ceil(lists * IVF_PROBED_SHARE))
            description = {
                "kind": "inverted file (faiss IndexIVFFlat), approximate",
                "exact": False,
                "lists": lists,
                "probes": index.nprobe,
                "training_seed": TRAIN_SEED,
            }
        index.add(vectors)
        return cls(index, embeddings, {**description, "vectors": count, "dimension": dim})

    def top(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, float64 cosines) of the k best gallery faces, best first."""
        if k < 1:
            raise UsageError("--top must be at least 1")
        q = unit_rows(np.asarray(query)[None, :])
        count = min(k, len(self.embeddings))
        faiss.omp_set_num_threads(QUERY_THREADS)
        _, rows = self.index.search(np.ascontiguousarray(q, dtype=np.float32), count)
        rows = rows[0][rows[0] >= 0]
        scores = unit_rows(self.embeddings[rows]) @ q[0]
        order = np.argsort(-scores, kind="stable")
        return rows[order], scores[order]
