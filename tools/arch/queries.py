"""List where src/hotline builds or runs queries outside a repository module.

Usage: python tools/arch/queries.py [--endpoints]

A query is a call of SQLAlchemy's select/insert/update/delete/text, or of a session's
execute/scalar/scalars/get/get_one. Repository modules (repository.py), the database plumbing
(db/) and migrations are where queries belong, and the modules named in ``DECLARED`` with the
reason they are made of SQL (listed apart, so they stay a choice); ``--endpoints`` lists only
endpoints.py modules, which must hold none.
"""

from __future__ import annotations

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2] / "src" / "hotline"
BUILDERS = {"select", "insert", "update", "delete", "text", "pg_insert", "sqlite_insert", "upsert"}
RUNNERS = {"execute", "scalar", "scalars", "get", "get_one"}
# Modules that are queries by design, and why (docs/architecture.md).
DECLARED = {
    "metrics/service.py": "the read model: each figure is one aggregate statement",
    "metrics/rolled.py": "the read model: the figures read from the roll-up",
    "metrics/rollup.py": "the read model: the statements that keep the roll-up",
    "metrics/models.py": "the roll-up's tables and their indexes",
    "jobs/runner.py": "the advisory lock one job runs under, on its own connection",
}


def queries(path: pathlib.Path) -> list[int]:
    tree = ast.parse(path.read_text())
    sqlalchemy_names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and "sqlalchemy" in node.module:
            sqlalchemy_names |= {a.asname or a.name for a in node.names}
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in BUILDERS & sqlalchemy_names:
            lines.append(node.lineno)
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in RUNNERS
            and isinstance(func.value, ast.Name)
            and "session" in func.value.id
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


def main() -> int:
    only_endpoints = "--endpoints" in sys.argv
    total = 0
    declared = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if path.name == "repository.py" or rel.parts[0] == "db":
            continue
        if only_endpoints and path.name != "endpoints.py":
            continue
        found = queries(path)
        if found and rel.as_posix() in DECLARED:
            declared.append(f"{len(found):3} {rel}: {DECLARED[rel.as_posix()]}")
        elif found:
            total += len(found)
            print(f"{len(found):3} {rel}: {', '.join(map(str, found[:12]))}")
    print(f"{total} queries outside repositories")
    if declared:
        print("declared query modules:")
        print("\n".join(declared))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
