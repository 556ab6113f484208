"""The PDF report of a case (docs/reports.md): figures as PNG bytes, sections, layout."""
