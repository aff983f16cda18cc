"""One module per command group; each exposes ``register(subparsers)``.

A command's handler takes the parsed ``argparse.Namespace`` and returns the exit code:
0 success, 1 the job ran and found a problem (a rejected file), 2 bad usage.
"""

# Order is the order of ``ipdash --help``.
COMMAND_MODULES = [
    "ipdash.commands.db",
    "ipdash.commands.indicators",
    "ipdash.commands.etl",
    "ipdash.commands.sample",
    "ipdash.commands.serve",
    "ipdash.commands.reports",
    "ipdash.commands.users",
    "ipdash.commands.backup",
    "ipdash.commands.briefing",
    "ipdash.commands.tasks",
]
