"""The named sheets the project writes beside its period sheets — one list for writer and reader.

The assessment workbook (``application/assessment.py``) names its sheets from here, and the file
readers (``etl/readers.py``) skip exactly these when an export is loaded back, without a warning
for an "unknown" sheet. A new named sheet is added here, not discovered by scanning messages.
"""

from __future__ import annotations

from foundation.i18n import t

# What each sheet is → the message key of its (translated) name.
ASSESSMENT_SHEETS: dict[str, str] = {
    "composite": "export.sheet.composite",
    "scorecard": "export.sheet.scorecard",
    "detail": "export.sheet.detail",
    "raw": "export.sheet.raw",
    "notes": "export.sheet.notes",
    "revisions": "export.sheet.revisions",
    "tasks": "export.sheet.tasks",
}


def assessment_sheet(kind: str) -> str:
    """The title of one of the assessment workbook's named sheets (``kind`` as in ASSESSMENT_SHEETS)."""
    return t(ASSESSMENT_SHEETS[kind])


def assessment_sheet_names() -> set[str]:
    return {t(key) for key in ASSESSMENT_SHEETS.values()}
