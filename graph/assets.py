"""Where the ontology, data and queries live: beside the package in a wheel, at the repo root otherwise."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def root() -> Path:
    bundled = _PACKAGE / "_bundled"
    return bundled if (bundled / "ontology").is_dir() else _PACKAGE.parent


def relative(path: Path) -> str:
    """A file's name relative to the asset root, or its bare name when it lies elsewhere."""
    try:
        return path.resolve().relative_to(root()).as_posix()
    except ValueError:
        return path.name


def ontology_files() -> list[Path]:
    base = root() / "ontology"
    return sorted(base.glob("*.ttl")) + sorted((base / "vocab").glob("*.ttl"))


def shape_files() -> list[Path]:
    return sorted((root() / "ontology" / "shapes").glob("*.shapes.ttl"))


def check_files() -> list[Path]:
    return sorted((root() / "ontology" / "checks").glob("*-violation.rq"))


def data_files() -> list[Path]:
    return sorted(p for p in (root() / "data").iterdir() if p.is_file() and not p.name.startswith("."))


def query_files() -> list[Path]:
    return sorted((root() / "queries").glob("*.rq"))


def example_files(kind: str) -> list[Path]:
    return sorted((root() / "ontology" / "examples" / kind).glob("*.ttl"))
