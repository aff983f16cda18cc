"""The foundation floor: settings, the catalogue registry, the calendar, user-visible text, caches.

Every other package may import it; it imports nothing of the project (``tests/test_layers.py``).
"""
