"""The PySide6 workbench (thin views over core). Not built yet: see the GUI issue."""
