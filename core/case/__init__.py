"""Cases: the record of a comparison, its .pwcase file, and re-running it (docs/reports.md)."""

from core.case.case_file import CaseVerification, open_case, save_case
from core.case.case_model import AuditEntry, Case, CaseInput
from core.case.rerun import RerunResult, engine_for_case, rerun_case

__all__ = [
    "AuditEntry",
    "Case",
    "CaseInput",
    "CaseVerification",
    "RerunResult",
    "engine_for_case",
    "open_case",
    "rerun_case",
    "save_case",
]
