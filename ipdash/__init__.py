"""ipdash: IP administrative-protection performance indicators — the command line (a face).

Floors, lowest first (``tests/test_layers.py`` enforces the direction):
``foundation`` (settings, catalogue, calendar, text, caches) → ``etl`` / ``store`` /
``indicators`` (the domain) → ``application`` (service, assessment, tracker, display rules) →
faces: ``dashboard`` and this package (the ``ipdash`` command). Faces never import each other.
"""

__version__ = "0.1.0"
