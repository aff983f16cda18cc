"""The floors of the house, enforced: every import of every module (top-level and inside functions)
points down or sideways as the table below allows, and no two files import each other in a circle.

    foundation                      settings, catalogue, calendar, text, caches — imports nothing of ours
    indicators, store               the domain: pure computation; tables and queries
    etl                             files in, records out; etl.load hands them to store
    application, sample_data        the service (the one door to store for faces), assessment,
                                    tracker, display rules; the sample generator
    dashboard, ipdash               the faces: use the floors below, never each other, and never the
                                    database directly (store.*, etl.load)

A failure names the file and line of each offending import. ``test_the_rules_catch_*`` feed the
checker the imports that once ran the wrong way, so the rules cannot silently go slack.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("foundation", "indicators", "store", "etl", "application", "sample_data", "dashboard", "ipdash")

# What each package may import besides itself.
ALLOWED: dict[str, set[str]] = {
    "foundation": set(),
    "indicators": {"foundation"},
    "store": {"foundation"},
    "etl": {"foundation", "store"},
    "application": {"foundation", "indicators", "store", "etl"},
    "sample_data": {"foundation", "store", "etl"},
    "dashboard": {"foundation", "indicators", "etl", "application"},
    "ipdash": {"foundation", "indicators", "etl", "application", "sample_data"},
}
# Modules that open the database: faces reach them only through the application.
DATABASE_MODULES = ("store", "etl.load")
FACES = ("dashboard", "ipdash")
# Documents built from the service's figures never query the store themselves.
DOCUMENTS = ("application.assessment", "application.briefing", "application.explain")
# The one place one face starts another: ``ipdash serve`` / ``ipdash demo`` run the web server. They
# import its entry module and nothing else of the dashboard.
ENTRY_POINTS = {("ipdash.commands.serve", "dashboard.server"), ("ipdash.commands.sample", "dashboard.server")}
# Settings are read from the environment at the edges only and passed down from there.
SETTINGS_READERS = ("ipdash", "dashboard.app", "dashboard.server", "dashboard.data", "foundation.settings")


@dataclass(frozen=True)
class Import:
    importer: str  # module name, e.g. dashboard.pages.status
    target: str  # the project module imported, e.g. ipdash.commands.reports
    file: str
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts and "versions" in path.parts:
                continue  # Alembic revision scripts are data for the store, run by Alembic
            found[module_name(path)] = path
    return found


def imports_of(name: str, source: str, file: str, modules: set[str]) -> list[Import]:
    """Every project module ``source`` imports (absolute or relative), wherever the statement is."""
    package = name if file.endswith("__init__.py") else name.rpartition(".")[0]
    found: list[Import] = []

    def resolve(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    for node in ast.walk(ast.parse(source, filename=file)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import sub` imports the submodule when there is one
            targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
        for target in targets:
            module = resolve(target)
            if module and module.split(".")[0] in PACKAGES and module != name:
                found.append(Import(name, module, file, node.lineno))
    return found


def all_imports() -> list[Import]:
    modules = project_modules()
    names = set(modules)
    out: list[Import] = []
    for name, path in sorted(modules.items()):
        out += imports_of(name, path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), names)
    return out


def violations(imports: list[Import]) -> list[str]:
    wrong: list[str] = []
    for imp in imports:
        src, dst = imp.importer.split(".")[0], imp.target.split(".")[0]
        where = f"{imp.file}:{imp.line}: {imp.importer} imports {imp.target}"
        if (imp.importer, imp.target) in ENTRY_POINTS:
            continue
        if dst != src and dst not in ALLOWED[src]:
            wrong.append(
                f"{where} — {src} may import only {sorted(ALLOWED[src]) or 'nothing of the project'}"
            )
        elif src in FACES and imp.target.startswith(DATABASE_MODULES):
            wrong.append(f"{where} — a face reaches the database only through application/")
        elif imp.importer.startswith(DOCUMENTS) and dst == "store":
            wrong.append(f"{where} — documents take their figures from application.service")
    return wrong


def cycles(imports: list[Import]) -> list[str]:
    """Strongly connected groups of more than one file (Tarjan), each with the imports that bind it."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.importer, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    out = []
    for group in groups:
        links = [
            f"{i.file}:{i.line}: {i.importer} imports {i.target}"
            for i in imports
            if i.importer in group and i.target in group
        ]
        out.append("import cycle between " + ", ".join(sorted(group)) + ":\n    " + "\n    ".join(links))
    return out


def test_every_import_runs_down_the_floors() -> None:
    imports = all_imports()
    assert len(imports) > 100  # the walk found the project
    assert violations(imports) == []


def test_no_import_cycle_between_files() -> None:
    assert cycles(all_imports()) == []


def settings_reads(name: str, source: str, file: str) -> list[str]:
    """Calls of ``get_settings`` outside the edges (the CLI, the app factory, the WSGI entry)."""
    if name.startswith(SETTINGS_READERS):
        return []
    return [
        f"{file}:{node.lineno}: {name} calls get_settings() — take settings as an argument from the edge"
        for node in ast.walk(ast.parse(source, filename=file))
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) == "get_settings"
    ]


def test_settings_are_read_at_the_edges_only() -> None:
    found = []
    for name, path in sorted(project_modules().items()):
        found += settings_reads(name, path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == []


def test_the_settings_rule_catches_a_read_in_pure_code() -> None:
    source = "from foundation.settings import get_settings\n\ndef f():\n    return get_settings().due_day\n"
    assert settings_reads("etl.checks", source, "etl/checks.py") == [
        "etl/checks.py:4: etl.checks calls get_settings() — take settings as an argument from the edge"
    ]
    assert settings_reads("ipdash.commands.etl", source, "ipdash/commands/etl.py") == []


# --- the rules catch what once ran the wrong way --------------------------------------------------

MODULES = set(project_modules()) | {"dashboard.pages.trends", "ipdash.commands.reports"}


@pytest.mark.parametrize(
    ("module", "file", "source", "expected"),
    [
        (
            "dashboard.pages.status",
            "dashboard/pages/status.py",
            "from ipdash.commands.reports import deadline_text\n",
            "dashboard/pages/status.py:1: dashboard.pages.status imports ipdash.commands.reports",
        ),
        (
            "dashboard.data",
            "dashboard/data.py",
            "def warm_up():\n    from store.models import Revision\n",
            "dashboard/data.py:2: dashboard.data imports store.models — dashboard may import only",
        ),
        (
            "dashboard.data",
            "dashboard/data.py",
            "from etl.load import load_file\n",
            "dashboard/data.py:1: dashboard.data imports etl.load — a face reaches the database",
        ),
        (
            "application.assessment",
            "application/assessment.py",
            "from store import queries\n",
            "application/assessment.py:1: application.assessment imports store.queries — documents take",
        ),
        (
            "etl.readers",
            "etl/readers.py",
            "from application.assessment import SHEETS\n",
            "etl/readers.py:1: etl.readers imports application.assessment — etl may import only",
        ),
        (
            "foundation.i18n",
            "foundation/i18n/__init__.py",
            "from store.db import open_engine\n",
            "foundation/i18n/__init__.py:1: foundation.i18n imports store.db — foundation may import only",
        ),
        (
            "indicators.engine",
            "indicators/engine.py",
            "import application.display\n",
            "indicators/engine.py:1: indicators.engine imports application.display",
        ),
    ],
)
def test_the_rules_catch_wrong_way_imports(module: str, file: str, source: str, expected: str) -> None:
    found = violations(imports_of(module, source, file, MODULES))
    assert len(found) == 1 and found[0].startswith(expected), found


def test_the_rules_catch_a_cycle() -> None:
    """dashboard/data.py once imported pages/trends.py, which imports dashboard/data.py."""
    imports = imports_of(
        "dashboard.data",
        "def warm_up():\n    from dashboard.pages import trends\n",
        "dashboard/data.py",
        MODULES,
    ) + imports_of(
        "dashboard.pages.trends", "from dashboard import data\n", "dashboard/pages/trends.py", MODULES
    )
    (found,) = cycles(imports)
    assert "dashboard.data, dashboard.pages.trends" in found
    assert "dashboard/data.py:2: dashboard.data imports dashboard.pages.trends" in found
    assert "dashboard/pages/trends.py:1: dashboard.pages.trends imports dashboard.data" in found
