"""Strength of evidence: C-Score, score-to-LR calibration, verbal scale, validation.

Qt-free. The public API for the GUI and reports is core/strength_of_evidence/evidence_section.py
(see docs/evidence.md).
"""
