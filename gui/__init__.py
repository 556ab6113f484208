"""The PySide6 workbench: views, wiring and worker threads over core.workbench.

The application itself (state, session, case lifecycle, jobs) is Qt-free in
core/workbench/; see docs/ARCHITECTURE.md. gui never imports core.cli.
"""
