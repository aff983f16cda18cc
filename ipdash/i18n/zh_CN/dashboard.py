"""User-visible text of the dashboard layer."""

MESSAGES: dict[str, str] = {}
