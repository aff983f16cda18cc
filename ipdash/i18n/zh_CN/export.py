"""User-visible text of the export layer."""

MESSAGES: dict[str, str] = {}
