"""User-visible text of the etl layer."""

MESSAGES: dict[str, str] = {}
