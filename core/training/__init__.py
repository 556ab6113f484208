"""Training and label-free distillation of RRFNet and xCos (docs/training.md)."""
