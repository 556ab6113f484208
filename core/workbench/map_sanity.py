"""The randomisation sanity check of the map on show (Adebayo et al.; CorrRISE Sec. 5.2).

The check itself is core/explainers/sanity.py (`explain --sanity`, `report --sanity`):
the model's layers are re-drawn at random from the top down and the map is made again
with the same seed; a map that does not change cannot be explaining the model. Here is
what the workbench needs around it: which toggles it can check, the job's texts and the
rows the result dialog shows. core/workbench/jobs.sanity_job runs it in a worker.
"""

from __future__ import annotations

from core.explainers.sanity import sanity_verdict, verdict_text
from core.workbench.explainer_catalogue import TOGGLES

SANITY_LEVELS = 3  # as `explain --sanity` and `report --sanity`: top group, 1/3, 2/3, all

NOT_A_MAP = "Choose a post-hoc explainer map (X-Maps, CorrRISE, Grad-CAM) first."
NOT_YET = "Wait for the map to finish: the check compares the finished map."
SDD_REASON = (
    "SDD compares against a background gallery embedded with the trained model; a "
    "randomised copy would need the gallery embedded again, so SDD is not checked here."
)


def unavailable_reason(label: str, cached: dict | None) -> str | None:
    """Why the map of toggle `label` (its cached result, or None) cannot be checked now."""
    if label not in TOGGLES:
        return NOT_A_MAP
    if TOGGLES[label][0] == "sdd":
        return SDD_REASON
    if cached is None:
        return NOT_YET
    return None


def level_rows(result: dict) -> list[tuple[str, str, str, str]]:
    """One row per randomisation level: what was re-drawn, rho A, rho B, their mean."""
    return [
        (
            f"top {lv['randomised_layers']} of {lv['of_layers']} layer groups "
            f"(down to {lv['lowest_randomised']})",
            f"{lv['spearman_a']:+.3f}",
            f"{lv['spearman_b']:+.3f}",
            f"{lv['spearman_mean']:+.3f}",
        )
        for lv in result["levels"]
    ]


def verdict_line(result: dict) -> str:
    """The plain-language verdict with its threshold, recomputed from the levels."""
    return verdict_text(sanity_verdict(result["levels"]))


def progress_text(label: str, done: int, total: int) -> str:
    return f"{label}: sanity check — {done} of {total} passes"
