"""The layout check (`python -m benchmarks.layout`) on tiny known trees."""

from __future__ import annotations

from pathlib import Path

from benchmarks import layout


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in layout.PACKAGES:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return root


def test_a_circle_through_an_import_inside_a_function_is_counted(tmp_path):
    root = _tree(tmp_path, {
        "service/cli/__init__.py": "",
        "service/cli/main.py": "from service.cli import admin\n",
        "service/cli/admin.py": "def _cli():\n    from service.cli import main\n    return main\n",
        "matching/a.py": "import matching.b\n",
        "matching/b.py": "x = 1\n",
    })
    figures = layout.report(root)
    assert figures["import_circles"] == 1
    assert figures["circles"] == [["service.cli.admin", "service.cli.main"]]
    assert not figures["ok"]


def test_relative_imports_and_package_inits_resolve_to_modules(tmp_path):
    root = _tree(tmp_path, {
        "matching/search/__init__.py": "from .index import VectorIndex\n",
        "matching/search/index.py": "from ..files import atomic_write\nclass VectorIndex: ...\n",
        "matching/files.py": "def atomic_write(): ...\n",
        "matching/recommend/__init__.py": "",
        "matching/recommend/recommender.py": "from matching.search import index\n",
    })
    graph = layout.import_graph(layout.module_files(root))
    assert graph["matching.search"] == {"matching.search.index"}
    assert graph["matching.search.index"] == {"matching.files"}
    # a submodule imported by name from its package is an edge to the submodule, not the package
    assert graph["matching.recommend.recommender"] == {"matching.search.index"}
    assert layout.report(root)["import_circles"] == 0


def test_sizes_long_functions_and_top_level_modules_are_measured(tmp_path):
    long_body = "".join(f"    x{i} = {i}\n" for i in range(70))
    files = {f"matching/m{i}.py": "" for i in range(8)}
    files["matching/big.py"] = "def long():\n" + long_body + "\n" * 340
    files["service/store/migrations/versions/0001.py"] = "x = 1\n" * 900  # migrations aside
    figures = layout.report(_tree(tmp_path, files))
    assert figures["largest_module"] == {"path": "matching/big.py", "lines": 411}
    assert figures["top_level_modules_in_matching"] == 10  # 8 + big.py + __init__.py
    assert figures["functions_over_60_lines"] == [{"function": "matching/big.py:long", "lines": 71}]
    assert not figures["ok"]
