"""The layers hold: every import in the project, also those inside functions, goes downwards, never round in a
cycle, never to another module's private name. Layers, outermost first (docs/architecture.md):
dunning.cli -> deployments, flows -> tasks -> dunning.desk -> dunning.messaging -> dunning.casework ->
dunning.storage -> dunning.bank -> dunning.documents -> dunning.domain -> dunning.law."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("dunning", "flows", "tasks", "deployments", "benchmarks")
PREFECT_ALLOWED = ("flows", "tasks", "deployments", "benchmarks", "dunning.cli")

# What each part may import from the project (besides itself): each layer the ones below it.
_BELOW_TASKS = (
    "dunning.desk", "dunning.messaging", "dunning.casework", "dunning.storage", "dunning.bank", "dunning.documents",
    "dunning.domain", "dunning.law",
)
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "dunning.law": (),
    "dunning.domain": _BELOW_TASKS[7:],
    "dunning.documents": _BELOW_TASKS[6:],
    "dunning.bank": _BELOW_TASKS[5:],
    "dunning.storage": _BELOW_TASKS[4:],
    "dunning.casework": _BELOW_TASKS[3:],
    "dunning.messaging": _BELOW_TASKS[2:],
    "dunning.desk": _BELOW_TASKS[1:],
    "tasks": _BELOW_TASKS,
    "flows": ("tasks", *_BELOW_TASKS),
    "deployments": ("flows", "tasks", "dunning.storage", "dunning.domain"),
    "dunning.cli": ("deployments", "flows", "tasks", "dunning"),
    "benchmarks": ("deployments", "flows", "tasks", "dunning"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for root in ROOTS:
        for path in (REPO / root).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None, line) for every import statement, at any depth."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, str | None, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found += [(base, a.name, node.lineno) for a in node.names]
    return found


def _project_target(module: str, imported: str | None) -> str | None:
    """The project module an import depends on: `from a.b import c` is a.b.c when that is a module."""
    if imported and f"{module}.{imported}" in MODULES:
        return f"{module}.{imported}"
    return module if module in MODULES else None


def _part(module: str) -> str:
    for part in sorted(MAY_IMPORT, key=len, reverse=True):
        if module == part or module.startswith(part + "."):
            return part
    return module.split(".")[0]


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        edges = graph.setdefault(name, set())
        for module, imported, _ in _imports(name, path):
            target = _project_target(module, imported)
            if target and target != name:
                edges.add(target)
    return graph


def test_no_module_imports_prefect_flows_or_tasks_outside_the_prefect_layers():
    wrong = []
    for name, path in MODULES.items():
        if _part(name).startswith(PREFECT_ALLOWED):
            continue
        for module, _, line in _imports(name, path):
            if module.split(".")[0] in ("prefect", "flows", "tasks", "deployments"):
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_every_import_goes_down_the_layers():
    wrong = []
    for name, path in MODULES.items():
        part = _part(name)
        allowed = (part, *MAY_IMPORT.get(part, ()))
        for module, imported, line in _imports(name, path):
            target = _project_target(module, imported)
            if target and not any(target == a or target.startswith(a + ".") for a in allowed):
                if target == "dunning":
                    continue  # the package's docstring, nothing else
                wrong.append(f"{path.relative_to(REPO)}:{line} ({part}) imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles_also_through_imports_inside_functions():
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_name_is_imported_from_another_module():
    wrong = []
    for name, path in MODULES.items():
        for module, imported, line in _imports(name, path):
            if imported and imported.startswith("_") and not imported.startswith("__") and module != name:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {module}.{imported}")
    assert not wrong, "\n".join(wrong)
