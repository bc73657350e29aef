"""The layers point one way: no import cycle joins modules of bot/, voice/, actions/,
community/, nlu_components/ or nlu_eval/ (imports inside functions and under ``TYPE_CHECKING``
count); running code never imports ``tools`` or ``tests`` nor reads files under ``tests/``;
exactly one module talks HTTP to Rasa; community/ (the domain and the store) imports nothing
of Rasa, the web or the channels.

The import graph is read from the source with :mod:`ast`, so nothing is imported to check it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "voice", "actions", "community", "nlu_components", "nlu_eval")
FORBIDDEN = ("tools", "tests")

# No exceptions: bot.telegram.app <-> bot.telegram.pushes and bot.console.retrain -> tools were
# the last ones (issue 14). Do not add new ones.
ALLOWED_CYCLES: set[frozenset[str]] = set()
ALLOWED_FORBIDDEN: set[tuple[str, str]] = set()
# The one module that talks HTTP to Rasa (its REST channel and HTTP API).
RASA_DOOR = "bot.resident.rasa"
RASA_PATHS = ("/webhooks/rest/webhook", "/model/parse", "/conversations/", "/tracker")
HTTP_CLIENTS = ("aiohttp", "urllib.request", "http.client", "requests", "httpx")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if ".venv" not in path.parts:
                modules[module_name(path)] = path
    return modules


def imported_names(path: Path, name: str) -> set[str]:
    """Every module name ``path`` imports, anywhere in the file; ``from a import b`` gives
    ``a.b`` as well as ``a`` (``b`` may be a module)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                parent = ".".join(base + ([node.module] if node.module else []))
            else:
                parent = node.module or ""
            found.add(parent)
            found.update(f"{parent}.{alias.name}" for alias in node.names)
    return found


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(edges between project modules, names each module imports)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    imports: dict[str, set[str]] = {}
    for name, path in modules.items():
        imports[name] = imported_names(path, name)
        graph[name] = {target for target in imports[name] if target in modules and target != name}
    return graph, imports


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
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
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_the_graph_is_read_from_every_package():
    graph, _ = import_graph()
    for package in PACKAGES:
        assert any(name.split(".")[0] == package for name in graph), package
    assert "community.store" in graph["community.migrations.env"]
    # imports inside functions count
    assert "community.store" in graph["voice.cli"]


def test_cycles_are_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [{"a", "b", "c"}]


def test_no_import_cycles():
    graph, _ = import_graph()
    unexpected = [sorted(c) for c in cycles(graph) if frozenset(c) not in ALLOWED_CYCLES]
    assert unexpected == [], f"import cycles: {unexpected}"


def test_running_code_never_imports_tools_or_tests():
    _, imports = import_graph()
    offending = sorted(
        (module, target.split(".")[0])
        for module, names in imports.items()
        for target in names
        if target.split(".")[0] in FORBIDDEN
    )
    unexpected = sorted(set(offending) - ALLOWED_FORBIDDEN)
    assert unexpected == [], f"modules importing tools/ or tests/: {unexpected}"



def string_constants(path: Path) -> list[str]:
    """The string literals of a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ] + [
        "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
    ]


def test_exactly_one_module_talks_http_to_rasa():
    """A module with an HTTP client that names an endpoint of Rasa's REST channel or HTTP API."""
    _, imports = import_graph()
    talking = sorted(
        name for name, path in project_modules().items()
        if any(client in imports[name] for client in HTTP_CLIENTS)
        and any(p in text for text in string_constants(path) for p in RASA_PATHS)
    )
    assert talking == [RASA_DOOR]


def test_running_code_reads_no_file_under_tests():
    readers = sorted(
        name for name, path in project_modules().items()
        if any("tests/" in text or text == "tests" for text in string_constants(path))
    )
    assert readers == []


def test_the_domain_imports_no_rasa_web_or_channel():
    _, imports = import_graph()
    outward = ("rasa", "rasa_sdk", "aiohttp", "sanic", "telegram", "bot", "voice", "actions")
    offending = sorted(
        (module, target) for module, names in imports.items() if module.startswith("community")
        for target in names if target.split(".")[0] in outward
    )
    assert offending == []


def test_the_nlu_components_and_actions_import_no_channel():
    """Rasa loads nlu_components/ into its own process and the action server runs actions/: neither
    may pull in a channel (the web chat, Telegram, the phone, the kiosk) or each other."""
    _, imports = import_graph()
    outward = {
        "nlu_components": ("bot", "voice", "actions", "nlu_eval"),
        "actions": ("bot", "voice", "nlu_components", "nlu_eval"),
        "nlu_eval": ("bot", "voice", "actions"),
    }
    offending = sorted(
        (module, target) for module, names in imports.items()
        for target in names if target.split(".")[0] in outward.get(module.split(".")[0], ())
    )
    assert offending == []
