"""Post-hoc explainers with measured faithfulness (see docs/explainers.md and registry.py)."""
