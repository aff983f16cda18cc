"""The application floor: joins ``store`` and ``indicators`` (the service), the assessment
workbook, the submission tracker and the display rules every face shares.

Faces (``dashboard/``, the ``ipdash`` command line) use this package and never each other;
it uses the foundation and the domain packages (``etl``, ``store``, ``indicators``).
"""
