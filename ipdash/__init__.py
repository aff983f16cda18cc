"""ipdash: IP administrative-protection performance indicators.

Layers (data flows one way): ``etl`` reads and validates Excel files, ``store`` keeps
submissions, revisions and values, ``indicators`` computes on DataFrames, ``dashboard``
shows. This package holds what all of them share: settings, the catalogue registry,
user-visible text and the command line.
"""

__version__ = "0.1.0"
