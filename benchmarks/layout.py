"""Layout check: import circles, module sizes, long functions and top-level modules.

Reads the source with :mod:`ast` (nothing is imported), so imports inside functions count like
the others. A circle is a strongly connected component of two or more modules in the graph of
imports between the project's modules; a package's ``__init__`` is a node of its own, reached only
when a name is imported from the package itself. Exits 1 when a limit is passed, so CI runs it.

    python -m benchmarks.layout            # the repository's matching/ and service/
    python -m benchmarks.layout --json     # the same figures as one JSON document
    python -m benchmarks.layout --root /some/checkout
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

PACKAGES = ("matching", "service")
MAX_MODULE_LINES = 400
MAX_TOP_LEVEL_MODULES = 8  # matching/*.py, __init__ included
LONG_FUNCTION_LINES = 60
EXCLUDED_PARTS = ("migrations",)


def module_files(root: Path) -> dict[str, Path]:
    """Map dotted module names to files, for every ``.py`` under the project's packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_modules(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """Project modules imported anywhere in ``path`` (top level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in modules else base)
    return {module for module in found if module in modules and module != name}


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {name: imported_modules(path, name, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of two or more modules (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def long_functions(path: Path, limit: int = LONG_FUNCTION_LINES) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > limit]


def report(root: Path) -> dict:
    """The layout figures of the checkout at ``root``."""
    modules = module_files(root)
    graph = import_graph(modules)
    sizes = {str(path.relative_to(root)): len(path.read_text(encoding="utf-8").splitlines())
             for path in modules.values()
             if not any(part in EXCLUDED_PARTS for part in path.parts)}
    largest = max(sizes, key=sizes.get)
    over = sorted((f, n) for f, n in sizes.items() if n > MAX_MODULE_LINES)
    top_level = sorted(p.name for p in (root / "matching").glob("*.py"))
    functions = sorted(
        (f"{path.relative_to(root)}:{name}", lines)
        for path in modules.values() if not any(part in EXCLUDED_PARTS for part in path.parts)
        for name, lines in long_functions(path))
    found = circles(graph)
    return {
        "import_circles": len(found), "circles": found,
        "largest_module": {"path": largest, "lines": sizes[largest]},
        "modules_over_limit": [{"path": f, "lines": n} for f, n in over],
        "top_level_modules_in_matching": len(top_level), "top_level_modules": top_level,
        "functions_over_60_lines": [{"function": f, "lines": n} for f, n in functions],
        "ok": not found and not over and len(top_level) <= MAX_TOP_LEVEL_MODULES,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = report(args.root)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0 if figures["ok"] else 1
    print(f"import circles: {figures['import_circles']}")
    for circle in figures["circles"]:
        print("  " + " <-> ".join(circle))
    largest = figures["largest_module"]
    print(f"largest module: {largest['path']} ({largest['lines']} lines; limit {MAX_MODULE_LINES})")
    for item in figures["modules_over_limit"]:
        print(f"  over the limit: {item['path']} ({item['lines']} lines)")
    print(f"top-level modules in matching/: {figures['top_level_modules_in_matching']} "
          f"(limit {MAX_TOP_LEVEL_MODULES})")
    print(f"functions over {LONG_FUNCTION_LINES} lines: {len(figures['functions_over_60_lines'])}")
    for item in figures["functions_over_60_lines"]:
        print(f"  {item['function']} ({item['lines']} lines)")
    print("layout: ok" if figures["ok"] else "layout: FAILED")
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
