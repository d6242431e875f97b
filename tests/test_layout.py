"""The package's layering: an import graph without cycles, and a core that never reaches up.

The core (``course.layers``, ``course.checks``, ``course.models``) is what
students import; it must never import the command line, the instructor tools
(``course.classroom``), the training recipes or the demo. The graph is read
from the source with ``ast`` (every import, at module level or inside a
function), so an import hidden in a function counts too.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import course

PACKAGE_DIR = Path(course.__file__).resolve().parent
CORE = ("course.layers", "course.checks", "course.models")
UPPER = ("course.cli", "course.classroom", "course.recipes", "course.demo", "course.__main__")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The course modules that module ``name`` imports (``from course import layers`` included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            # The longest known module the target names: a submodule, else its package.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {name: _imports(name, path, known) for name, path in modules.items()}
    # ``from course.layers import affine_forward`` also names the package course.layers;
    # a package importing its own submodules is how re-exports work, not a cycle.
    for name, targets in graph.items():
        targets.discard(name.rpartition(".")[0] if "." in name else "")
        if name != "course":
            targets.discard("course")
    return graph


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_graph_sees_the_package():
    graph = _graph()
    assert {"course.layers.fc", "course.checks.core", "course.solver", "course.cli"} <= set(graph)
    assert "course.layers" in graph["course.checks.fc"]  # `from course import layers`


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph.get(name, ())):
            if state.get(target) == "open":
                cycle = path[path.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_the_core_never_imports_the_cli_the_classroom_the_recipes_or_the_demo():
    graph = _graph()
    reached = {}
    for name in graph:
        if _within(name, CORE):
            # Everything the core module reaches, directly or not.
            seen, todo = set(), [name]
            while todo:
                for target in graph.get(todo.pop(), ()):
                    if target not in seen:
                        seen.add(target)
                        todo.append(target)
            upper = sorted(t for t in seen if _within(t, UPPER))
            if upper:
                reached[name] = upper
    assert reached == {}


def test_importing_the_core_has_no_side_effects_on_the_process():
    # A fresh interpreter, with the allocator's one function replaced by a spy: what does
    # importing what students import load, and does it tune malloc?
    code = (
        "import json, sys\n"
        "import course.allocator\n"
        "calls = []\n"
        "course.allocator.keep_freed_memory = lambda *args, **kwargs: calls.append(args)\n"
        "import course, course.layers, course.checks, course.models, course.solver\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'calls': len(calls)}))\n"
    )
    found = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )
    assert not [m for m in found["modules"] if _within(m, UPPER)]
    assert found["calls"] == 0  # malloc is tuned by the fast layers' first use, not an import
    assert "IPython" not in found["modules"]  # no notebook hook is installed by an import
