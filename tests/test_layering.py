"""The house rules of DESIGN.md: imports only point down, between and inside the packages; no textual below tui/.

Top-level layers: tui > hybrid > recall > devices. Inside each, the sub-layers of RANKS
(bottom first). An edge is any import: ``import x``, ``from x import y`` (relative ones
resolved), wherever it sits (a function-level import counts), and run-time imports:
``importlib.import_module("x")``, ``__import__("x")``, ``"-m", "x"`` in an argument list
(``python -m``), and, in a file that calls ``import_module``/``__import__`` with a
computed name, every string constant there that names one of our modules (``"x"`` or
``"x:attr"``). The one upward edge allowed is declared by name in ENTRY_POINTS: the CLI
starting the TUI.
"""

from __future__ import annotations

import ast
import pkgutil
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["devices", "recall", "hybrid", "tui"]  # bottom to top
CORE = "*"   # a package's modules not named in its ranks

RANKS: dict[str, list[list[str]]] = {
    # bottom first; a module belongs to the rank of the longest entry naming it or a package above it
    "devices": [["devices", "devices.errors"], [CORE], ["devices.surfaces"]],
    "recall": [["recall", "recall.errors"], [CORE], ["recall.routing"]],
    "hybrid": [["hybrid", "hybrid.errors", "hybrid.tomlfile"], ["hybrid.models"], ["hybrid.files"],
               ["hybrid.live"], ["hybrid.simgear"], ["hybrid.app"], ["hybrid.cli", "hybrid.__main__"]],
    "tui": [["tui", "tui.errors", "tui.numbers"], ["tui.widgets"], ["tui.views"], ["tui.commands"], ["tui.app"]],
}
"""No CORE in hybrid's ranks: a new sub-package of hybrid/ must be placed here (the test says so)."""

ENTRY_POINTS = {("hybrid.cli.demo_cmd", "TUI_ENTRY_POINT"): "tui.app"}
"""(module, constant) -> the upper module it may load at run time. The only upward edges."""


@dataclass(frozen=True)
class Edge:
    source: str       # importing module
    target: str       # imported module (dotted)
    line: int
    kind: str         # "import" | "run-time"
    name: str = ""    # the module-level constant holding a run-time target, if any

    def __str__(self) -> str:
        via = f" via {self.name}" if self.name else ""
        return f"{self.source}:{self.line} {self.kind} {self.target}{via}"


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _ours(name: str) -> bool:
    return name.split(".")[0] in LAYERS


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _is_import_call(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__")


def edges_of(root: Path, path: Path) -> list[Edge]:
    """Every edge from one source file to a module of the four packages."""
    source = _module_name(root, path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants = _string_constants(tree)
    names_of = {v: k for k, v in constants.items()}
    edges: list[Edge] = []
    computed = False

    def runtime(text: str, line: int, name: str = "") -> None:
        module = text.split(":")[0]
        if module and all(part.isidentifier() for part in module.split(".")) and _ours(module):
            edges.append(Edge(source, module, line, "run-time", name or names_of.get(text, "")))

    def literal(node: ast.AST) -> tuple[str, str] | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value, ""
        if isinstance(node, ast.Name) and node.id in constants:
            return constants[node.id], node.id
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            edges += [Edge(source, a.name, node.lineno, "import") for a in node.names if _ours(a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = source.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if _ours(module):
                for alias in node.names:   # ``from pkg import mod`` imports pkg.mod
                    target = f"{module}.{alias.name}"
                    where = root.joinpath(*target.split("."))
                    if not (where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()):
                        target = module
                    edges.append(Edge(source, target, node.lineno, "import"))
        elif isinstance(node, ast.Call) and _is_import_call(node) and node.args:
            found = literal(node.args[0])
            if found is None:
                computed = True
            else:
                runtime(found[0], node.lineno, found[1])
        elif isinstance(node, (ast.List, ast.Tuple)):
            items = node.elts
            for first, second in zip(items, items[1:], strict=False):
                if isinstance(first, ast.Constant) and first.value == "-m":
                    found = literal(second)
                    if found is not None:
                        runtime(found[0], node.lineno, found[1])
    if computed:   # a computed name: any of our dotted module names written in this file may be it
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ("." in node.value
                                                                                  or ":" in node.value):
                runtime(node.value, node.lineno)
    return edges


def _rank(module: str) -> tuple[int, int | None]:
    """(top-level layer, rank inside it; None when the package has no place for it)."""
    top = module.split(".")[0]
    best, best_len = None, -1
    core = None
    for rank, group in enumerate(RANKS[top]):
        for entry in group:
            if entry == CORE:
                core = rank
            elif entry == top:
                if module == top and best_len < len(entry):
                    best, best_len = rank, len(entry)
            elif (module == entry or module.startswith(entry + ".")) and len(entry) > best_len:
                best, best_len = rank, len(entry)
    return LAYERS.index(top), best if best is not None else core


def layering_violations(root: Path) -> list[str]:
    """Every edge under ``root`` that points up (between or inside the packages), or from/to an unranked module."""
    out = []
    for package in LAYERS:
        if not (root / package).is_dir():
            continue
        for path in sorted((root / package).rglob("*.py")):
            for edge in edges_of(root, path):
                (src_top, src_rank), (dst_top, dst_rank) = _rank(edge.source), _rank(edge.target)
                if src_rank is None or dst_rank is None:
                    unranked = edge.source if src_rank is None else edge.target
                    out.append(f"{edge}: {unranked} has no rank (place it in RANKS, tests/test_layering.py)")
                    continue
                if (dst_top, dst_rank) <= (src_top, src_rank):
                    continue
                if edge.kind == "run-time" and ENTRY_POINTS.get((edge.source, edge.name)) == edge.target:
                    continue
                out.append(f"{edge}: points up")
    return out


def test_imports_point_down_between_and_inside_the_packages():
    assert layering_violations(ROOT) == []


def test_the_tui_entry_point_is_the_declared_one():
    """The CLI reaches the TUI through the constant the rule allows, and it names a real function."""
    from hybrid.cli import demo_cmd

    module, _, function = demo_cmd.TUI_ENTRY_POINT.partition(":")
    assert ENTRY_POINTS[("hybrid.cli.demo_cmd", "TUI_ENTRY_POINT")] == module
    edges = [e for p in (ROOT / "hybrid").rglob("*.py") for e in edges_of(ROOT, p) if e.target.startswith("tui")]
    assert [(e.source, e.name, e.target) for e in edges] == [("hybrid.cli.demo_cmd", "TUI_ENTRY_POINT", "tui.app")]
    code = f"import importlib; print(callable(getattr(importlib.import_module({module!r}), {function!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "True", out.stderr


def _copy(tmp_path: Path, *packages: str) -> Path:
    for package in packages:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _plant(root: Path, relative: str, code: str) -> None:
    path = root / relative
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + code + "\n", encoding="utf-8")


@pytest.mark.parametrize(("relative", "code", "expected"), [
    # a static import from live audio up into the application
    ("hybrid/live/audio/ping.py", "from hybrid.app.session import StudioSession", "hybrid.app.session"),
    # a function-level import from the DSP models up into live audio
    ("hybrid/models/dsp.py", "def _f():\n    from ..live.audio import stream\n    return stream",
     "hybrid.live.audio"),
    # run-time imports: importlib, __import__, python -m
    ("hybrid/app/session.py", "import importlib\n_V = importlib.import_module('tui.views.songs')", "tui.views.songs"),
    ("hybrid/files/loudness/__init__.py", "_C = __import__('hybrid.cli.main')", "hybrid.cli.main"),
    ("hybrid/simgear/__init__.py", "import sys\n_ARGS = [sys.executable, '-m', 'hybrid.app.print_process']",
     "hybrid.app.print_process"),
    # a computed name: the constants in the file count
    ("hybrid/live/verify/__init__.py", "import importlib\nWHERE = 'hybrid.cli.demo_cmd'\n"
     "def _load(name=WHERE):\n    return importlib.import_module(name)", "hybrid.cli.demo_cmd"),
    # inside devices: the core up into surfaces; inside recall: the core up into routing
    ("devices/device.py", "from devices.surfaces import sim", "devices.surfaces"),
    ("recall/store.py", "from recall import routing", "recall.routing"),
])
def test_a_planted_upward_import_fails_the_check(tmp_path, relative, code, expected):
    root = _copy(tmp_path, relative.split("/")[0])
    assert layering_violations(root) == []          # the copy is as clean as the tree
    _plant(root, relative, code)
    found = layering_violations(root)
    source = _module_name(root, root / relative)
    assert found and all(source in line and "points up" in line for line in found), found
    assert any(f" {expected}" in line for line in found), found


def test_an_entry_point_under_another_name_is_refused(tmp_path):
    """The TUI may be started only through the declared constant: another one is an upward edge."""
    root = _copy(tmp_path, "hybrid")
    _plant(root, "hybrid/cli/demo_cmd.py", "OTHER_UI = 'tui.app:run'")
    assert [line for line in layering_violations(root) if "OTHER_UI" in line], layering_violations(root)


def test_a_new_subpackage_of_hybrid_must_be_ranked(tmp_path):
    root = _copy(tmp_path, "hybrid")
    (root / "hybrid" / "extras").mkdir()
    (root / "hybrid" / "extras" / "__init__.py").write_text("from hybrid.errors import HybridError\n")
    assert any("hybrid.extras has no rank" in line for line in layering_violations(root))


def _modules(package: str) -> list[str]:
    pkg_dir = ROOT / package
    names = [package]
    for info in pkgutil.walk_packages([str(pkg_dir)], prefix=f"{package}."):
        if not info.name.endswith(".__main__"):  # running it is not importing it
            names.append(info.name)
    return names


@pytest.mark.parametrize("package", ["devices", "recall", "hybrid"])
def test_no_textual_below_tui(package):
    modules = _modules(package)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print('TEXTUAL' if bad else 'CLEAN')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("CLEAN"), f"{package} imports textual"
