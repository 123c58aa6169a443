"""The shape every domain app keeps (README, "Layout"), checked on the syntax tree of each app's modules:
the API layer reaches data only through selectors and services, and imports sit at the top of a module
(a function-level import hides a dependency from import-linter and from the reader)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("customers", "events", "credits", "discounts", "billing", "webhooks", "staff")


def _modules(*roots: str) -> list[Path]:
    return sorted(
        path for root in roots for path in (ROOT / root).rglob("*.py") if "migrations" not in path.relative_to(ROOT).parts
    )


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _model_queries(tree: ast.Module) -> list[int]:
    """Lines that use a model manager (`X.objects`), except `X.objects.none()`: the empty queryset a view
    declares so that DRF and the OpenAPI document know its model, which runs no query."""
    managers = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "objects"]
    empty = {
        id(node.func.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "none"
    }
    return sorted(node.lineno for node in managers if id(node) not in empty)


def _local_imports(tree: ast.Module) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [(node.name, n.lineno) for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
    return found


def _in_app_config_ready(tree: ast.Module) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id == "AppConfig" for b in node.bases):
            lines |= {n.lineno for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)}
    return lines


@pytest.mark.parametrize("path", _modules(*(f"{app}/api" for app in APPS)), ids=_name)
def test_the_api_layer_never_queries_a_model(path):
    lines = _model_queries(ast.parse(path.read_text(), filename=str(path)))
    assert lines == [], f"{_name(path)} queries Model.objects at lines {lines}: use a selector or a service"


@pytest.mark.parametrize("path", _modules(*APPS, "config"), ids=_name)
def test_imports_are_at_the_top_of_the_module(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    allowed = _in_app_config_ready(tree)  # where Django wants app-loading imports
    local = [(name, line) for name, line in _local_imports(tree) if line not in allowed]
    assert local == [], f"{_name(path)}: imports inside functions {local}"


def test_the_checks_catch_what_they_look_for():
    """Each check, on a module written to break it."""
    bad_view = ast.parse("class V:\n    queryset = M.objects.none()\n    def get(self):\n        return M.objects.all()\n")
    assert _model_queries(bad_view) == [4]
    bad_import = ast.parse("def f():\n    import os\n    return os\n")
    assert _local_imports(bad_import) == [("f", 2)]
    ready = ast.parse("class C(AppConfig):\n    def ready(self):\n        from . import x\n")
    assert _local_imports(ready) == [("ready", 3)] and _in_app_config_ready(ready) == {3}
