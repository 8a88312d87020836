"""The ontology, its vocabularies, shapes and checks, and the examples that pin their meaning."""

from functools import cache
from pathlib import Path

import pytest

from graph import assets, validate_files
from graph.load import stage

VALID = assets.example_files("valid")
INVALID = assets.example_files("invalid")


def test_every_asset_glob_finds_files() -> None:
    for found in (assets.ontology_files(), assets.shape_files(), assets.check_files(), VALID, INVALID):
        assert found


def test_ontology_vocabularies_and_shapes_parse() -> None:
    _, _, counts = stage(assets.ontology_files() + assets.shape_files())
    assert all(counts.values()), counts


def test_the_ontology_alone_conforms_to_shapes_and_checks() -> None:
    report = validate_files([])
    assert report.conforms, report.violations


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example_conforms(path: Path) -> None:
    report = validate_files([path])
    assert report.conforms, report.violations


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_example_is_refused_naming_its_file(path: Path) -> None:
    report = validate_files([path])
    assert not report.conforms
    assert any(assets.relative(path) in p.files for p in report.violations), report.violations


@cache
def invalid_messages() -> tuple[str, ...]:
    return tuple(p.message for path in INVALID for p in validate_files([path]).violations)


@pytest.mark.parametrize("check", assets.check_files(), ids=lambda p: p.stem)
def test_every_check_is_triggered_by_an_invalid_example(check: Path) -> None:
    messages = invalid_messages()
    assert any(m.startswith(check.stem + ":") for m in messages), f"no invalid example exercises {check.name}"
