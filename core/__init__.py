"""Patchwise core: the Qt-free comparison engine (see docs/ARCHITECTURE.md)."""

__version__ = "0.1.0"
