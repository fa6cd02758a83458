"""Print the packages of src/hotline, what each imports, and every import cycle between them.

Usage: python tools/arch/layers.py [--edges]

The model registry (db/models.py, for alembic) and the composition roots (app, api, cli,
__main__, openapi_export) are left out: they import everything by design.
"""

from __future__ import annotations

import ast
import collections
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2] / "src" / "hotline"
ROOTS = {"app", "api", "cli", "__main__", "openapi_export", "__init__"}
SKIP = {ROOT / "db" / "models.py"}


def graph() -> dict[str, dict[str, list[str]]]:
    edges: dict[str, dict[str, list[str]]] = collections.defaultdict(dict)
    for path in sorted(ROOT.rglob("*.py")):
        if path in SKIP:
            continue
        rel = path.relative_to(ROOT).with_suffix("")
        pkg = rel.parts[0]
        if pkg in ROOTS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("hotline."):
                    target = name.split(".")[1]
                    if target != pkg and target not in ROOTS:
                        edges[pkg].setdefault(target, []).append(f"{rel}:{node.lineno}")
    return edges


def main() -> int:
    edges = graph()
    for pkg in sorted(edges):
        print(f"{pkg:11} -> {' '.join(sorted(edges[pkg]))}")

    def reaches(a: str, b: str) -> bool:
        seen, stack = set(), [a]
        while stack:
            for nxt in edges.get(stack.pop(), {}):
                if nxt == b:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    cycles = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if reaches(b, a)})
    print(f"{len(cycles)} package pairs on a cycle")
    if not cycles:
        floor: dict[str, int] = {}

        def level(pkg: str) -> int:
            if pkg not in floor:
                floor[pkg] = 1 + max((level(d) for d in edges.get(pkg, {})), default=-1)
            return floor[pkg]

        names = {*edges, *(d for targets in edges.values() for d in targets)}
        floors: dict[int, list[str]] = {}
        for pkg in sorted(names):
            floors.setdefault(level(pkg), []).append(pkg)
        print(f"{len(floors)} floors, bottom first:")
        for n in sorted(floors):
            print(f"  {n:2}  {' '.join(floors[n])}")
    if "--edges" in sys.argv:
        for a, b in cycles:
            print(f"  {a} -> {b}: {', '.join(edges[a].get(b, [])[:4])}")
            print(f"  {b} -> {a}: {', '.join(edges[b].get(a, [])[:4])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
