"""The import rules: layers point down, nothing loops, the CLI and the bench sit on top.

Every module of ``ganterp.live`` and ``ganterp.models`` (the folders ``live/``
and ``models/``) is parsed with :mod:`ast` (nothing is imported), and each of
its imports of the project's own modules is checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The folders of the import package ``ganterp``.
PACKAGES = ("live", "models", "configs")

#: Names the folders would have without the package: importing them is a mistake.
BARE = frozenset(PACKAGES)

#: Layers of ``live``, lowest first: a module may import its own layer and those below.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core", ("ganterp.live.core",)),
    ("settings", ("ganterp.live.settings",)),
    ("audio", ("ganterp.live.audio",)),
    ("analysis", ("ganterp.live.analysis",)),
    ("trajectory", ("ganterp.live.trajectory",)),
    ("control", ("ganterp.live.control",)),
    ("display", ("ganterp.live.display",)),
    ("video", ("ganterp.live.video",)),
    ("offline", ("ganterp.live.offline",)),
    ("show", ("ganterp.live.show",)),
    ("bench", ("ganterp.live.bench",)),
    ("cli", ("ganterp.live.cli", "ganterp.live.__main__")),
)

#: Function-level imports of the project's own modules that are allowed, with why.
LAZY_ALLOWED: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    """``live/audio/ring.py`` → ``ganterp.live.audio.ring``; an ``__init__`` is its package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["ganterp", *parts])


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")[: -node.level]
    return ".".join([*base, node.module] if node.module else base)


def project_imports(path: Path) -> list[tuple[str, int, bool]]:
    """The project modules a file imports: ``(name, line, at module level)``."""
    module = module_name(path)
    tree = ast.parse(path.read_text(), filename=str(path))
    top_level = {id(node) for node in tree.body}
    # Imports under a module-level ``if TYPE_CHECKING:`` or ``try:`` are module level too.
    for node in tree.body:
        if isinstance(node, (ast.If, ast.Try)):
            top_level.update(id(n) for n in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [_resolve(module, node)]
        else:
            continue
        for name in names:
            if name.split(".")[0] in BARE | {"ganterp"}:
                found.append((name, node.lineno, id(node) in top_level))
    return found


def all_modules() -> dict[str, Path]:
    """Every module of the project's packages."""
    return {
        module_name(p): p
        for package in PACKAGES
        for p in sorted((ROOT / package).rglob("*.py"))
        if "__pycache__" not in p.parts
    }


MODULES = all_modules()


def _owner(name: str, modules: dict[str, Path]) -> str:
    """The module an import names (``from ganterp.live.audio import ring`` → ``…audio.ring``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def layer_of(module: str) -> int | None:
    """Index of the module's layer in :data:`LAYERS` (None for ``models`` and ``configs``)."""
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def graph() -> dict[str, set[str]]:
    """Module → the project modules it imports at module level."""
    edges: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        edges[module] = {_owner(name, MODULES) for name, _, top in project_imports(path) if top} - {
            module,
            "",
        }
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str]:
    """One import loop, as the modules along it, or an empty list."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (loop := visit(nxt)):
                return loop
        path.pop()
        state[node] = 2
        return []

    for node in sorted(edges):
        if node not in state and (loop := visit(node)):
            return loop
    return []


def test_every_live_module_has_a_layer() -> None:
    loose = [m for m in MODULES if m.startswith("ganterp.live.") and layer_of(m) is None]
    assert not loose, f"modules outside every layer: {loose}"


def test_the_project_is_imported_by_its_installed_name() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for folder in (*PACKAGES, "tests", "tools")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name, line, _ in project_imports(path)
        if name.split(".")[0] in BARE
    ]
    assert not bare, "use ganterp.…:\n" + "\n".join(bare)


def test_no_import_loops() -> None:
    assert find_cycle(graph()) == []


def test_the_loop_finder_finds_a_loop() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_lower_layers_never_import_higher_ones() -> None:
    wrong = []
    for module, imported in graph().items():
        mine = layer_of(module)
        for other in imported:
            theirs = layer_of(other)
            if mine is not None and theirs is not None and theirs > mine:
                wrong.append(f"{module} ({LAYERS[mine][0]}) imports {other} ({LAYERS[theirs][0]})")
    assert not wrong, "\n".join(wrong)


def test_models_and_core_stand_alone() -> None:
    wrong = []
    for module, imported in graph().items():
        for other in imported:
            if module.startswith("ganterp.models") and not other.startswith("ganterp.models"):
                wrong.append(f"{module} imports {other}")
            if module.startswith("ganterp.live.core") and not other.startswith("ganterp.live.core"):
                wrong.append(f"{module} imports {other}")
    assert not wrong, "\n".join(wrong)


def test_only_the_entry_point_imports_the_cli_and_only_the_cli_the_bench() -> None:
    wrong = []
    for module, path in MODULES.items():
        for name, line, _ in project_imports(path):
            other = _owner(name, MODULES)
            if other.startswith("ganterp.live.cli") and not module.startswith(
                ("ganterp.live.cli", "ganterp.live.__main__")
            ):
                wrong.append(f"{path.name}:{line} imports {other}")
            if other.startswith("ganterp.live.bench") and not module.startswith(
                ("ganterp.live.bench", "ganterp.live.cli")
            ):
                wrong.append(f"{path.name}:{line} imports {other}")
    assert not wrong, "\n".join(wrong)


def test_the_bench_command_is_on_top_of_the_bench_and_its_measures_at_the_bottom() -> None:
    wrong = []
    for module, path in MODULES.items():
        for name, line, _ in project_imports(path):
            other = _owner(name, MODULES)
            if other == "ganterp.live.bench.command" and not module.startswith("ganterp.live.cli"):
                wrong.append(f"{path.name}:{line} imports {other}")
            if module == "ganterp.live.bench.measure" and other.startswith("ganterp.live.bench"):
                wrong.append(f"{path.name}:{line} imports {other}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_function_level_imports_of_the_project(module: str) -> None:
    lazy = [
        f"line {line}: {name}"
        for name, line, top in project_imports(MODULES[module])
        if not top and (module, _owner(name, MODULES)) not in LAZY_ALLOWED
    ]
    assert not lazy, f"{module} imports inside functions: {lazy}"
