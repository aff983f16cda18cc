"""User-visible text of the indicators layer."""

MESSAGES: dict[str, str] = {}
