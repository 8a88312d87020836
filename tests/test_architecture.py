"""Import rules: graph knows no HTTP, only graph/store.py knows the engine, routes never import each other."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(package: str) -> list[Path]:
    found = sorted((ROOT / package).rglob("*.py"))
    assert found, f"no modules found in {package}/"
    return found


@pytest.mark.parametrize("path", modules("graph"), ids=lambda p: p.name)
def test_graph_never_imports_http_or_service(path: Path) -> None:
    bad = {m for m in imports(path) if m.split(".")[0] in {"fastapi", "starlette", "service", "uvicorn"}}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", modules("graph") + modules("service"), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_store_adapters_import_the_engine(path: Path) -> None:
    """The embedded store, and the remote one (it reads answers and writes them again with the engine's own
    parsers and serializers)."""
    uses_engine = any(m.split(".")[0] == "pyoxigraph" for m in imports(path))
    assert uses_engine == (path in (ROOT / "graph" / "store.py", ROOT / "graph" / "remote.py"))


@pytest.mark.parametrize("path", modules("service/routes"), ids=lambda p: p.name)
def test_routes_never_import_each_other(path: Path) -> None:
    assert not {m for m in imports(path) if m.startswith("service.routes")}
