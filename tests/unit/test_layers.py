"""Layers point one way: the domain (recon_pipeline) never imports Dagster, nor the Dagster side.

The orchestration (orchestration/, assets/, sensors/) imports the domain and wires it into
Dagster; if a domain module imported Dagster or the wiring, the domain could no longer be
used or tested without it, and the import graph would go both ways again (issue #9).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "recon_pipeline"
DAGSTER = ("dagster", "dagster_dbt", "dagster_postgres", "dagster_webserver")
WIRING = ("orchestration", "assets", "sensors")
PENDING_MOVES: set[str] = set()   # modules allowed to break the rule for a while (none today)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports (at the top, inside functions, under TYPE_CHECKING alike)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _offending(top_levels: tuple[str, ...], exempt: set[str] = frozenset()) -> list[str]:
    offences = []
    for path in sorted(DOMAIN.rglob("*.py")):
        module = _module_name(path)
        if module in exempt:
            continue
        for line, imported in _imports(path):
            if imported.split(".")[0] in top_levels:
                offences.append(f"{module} (line {line}) imports {imported}")
    return offences


def test_the_domain_has_no_dagster_import():
    offences = _offending(DAGSTER)
    assert not offences, "the domain must not import Dagster; move this to orchestration/:\n" + "\n".join(offences)


def test_the_domain_does_not_import_the_dagster_wiring():
    offences = _offending(WIRING, exempt=PENDING_MOVES)
    assert not offences, "recon_pipeline must not import orchestration/, assets/ or sensors/:\n" + "\n".join(offences)


def test_the_walk_sees_every_domain_module():
    # A walk that found nothing would pass vacuously.
    modules = {_module_name(p) for p in DOMAIN.rglob("*.py")}
    assert {"recon_pipeline.settings", "recon_pipeline.pipeline", "recon_pipeline.dbt_setup"} <= modules
