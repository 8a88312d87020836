"""The built wheel carries the ontology, data and queries, and finds them when installed."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(ROOT)], check=True, timeout=300)
    (built,) = out.glob("ecrn_kg-*.whl")
    return built


def test_wheel_contains_ontology_data_and_queries(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, pattern in (("ontology", "*.ttl"), ("data", "*.ttl"), ("queries", "*.rq")):
        expected = {f"graph/_bundled/{p.relative_to(ROOT).as_posix()}" for p in (ROOT / folder).rglob(pattern)}
        assert expected and expected <= names, folder
    assert "service/__main__.py" in names and not any(n.startswith("tests/") for n in names)


def test_unpacked_wheel_finds_its_bundled_assets(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    probe = "from graph import assets; print(assets.root()); print(len(assets.data_files()), len(assets.query_files()))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site")}).stdout.split()
    assert out[0] == str(tmp_path / "site" / "graph" / "_bundled")
    assert int(out[1]) == len(list((ROOT / "data").glob("*.ttl"))) and int(out[2]) > 0
