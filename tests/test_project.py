"""The project's own promises: CI runs the README's commands exactly, on a layout that cannot
shadow the installed package, and no module is too large to take over."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n([^\n]+)\n```", text)[:2]


def test_ci_runs_the_readme_commands_verbatim() -> None:
    commands = _readme_commands()
    assert len(commands) == 2, "the README must open with two one-line bash blocks"
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in commands:
        assert command in ci_lines, f".ci/run does not run the README's command: {command}"
    assert "-e" not in commands[0].split() and "-e" not in commands[1].split()


def test_ci_runs_the_configured_linters() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    for line in ("ruff check .", "ruff format --check .", "mypy"):
        assert line in ci.splitlines()


def test_source_tree_does_not_shadow_the_package() -> None:
    # Nothing importable as `planner` or `planner_adapters` sits at the repository root.
    assert not (REPO / "planner").exists()
    assert not (REPO / "planner_adapters").exists()
    assert (REPO / "src" / "planner" / "__init__.py").is_file()


def test_no_module_over_800_lines() -> None:
    big = {
        str(p.relative_to(REPO)): n
        for root in ("src", "adapters")
        for p in (REPO / root).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 800
    }
    assert not big, f"modules over 800 lines: {big}"


def _module_name(path: Path) -> str:
    root = REPO / ("src" if path.is_relative_to(REPO / "src") else "adapters")
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """Module → modules it imports (anywhere in the file, inside functions too)."""
    import ast

    files = [p for root in ("src", "adapters") for p in (REPO / root).rglob("*.py")]
    modules = {_module_name(p): p for p in files}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def test_no_import_cycles() -> None:
    graph = _import_graph()
    # Tarjan's strongly connected components: any component of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"
