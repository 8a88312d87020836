"""The README is executable: its settings table, its commands and its example queries match the code."""

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.__main__ import cli
from service.settings import Settings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_settings_table_names_every_setting_and_no_other() -> None:
    documented = set(re.findall(r"^\| `ECRN_([A-Z_]+)` \|", README, flags=re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_command_table_names_every_command_and_no_other() -> None:
    documented = set(re.findall(r"^\| `([a-z]+)` \|", README, flags=re.MULTILINE))
    assert documented == {c.name or c.callback.__name__ for c in cli.registered_commands if c.callback}


def test_readme_gives_the_two_set_up_commands() -> None:
    assert "make serve" in README and "make test" in README
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


EXAMPLES = re.findall(r"'query=(.*?)'", README, flags=re.DOTALL)


def test_readme_has_three_example_queries() -> None:
    assert len(EXAMPLES) == 3


def test_the_first_readme_example_lists_the_ten_partner_regions(client: TestClient) -> None:
    rows = client.post("/sparql", data={"query": EXAMPLES[0]}).json()["results"]["bindings"]
    assert len(rows) == 10 and len({r["region"]["value"] for r in rows}) == 10


@pytest.mark.parametrize("query", EXAMPLES, ids=["partner-regions", "organisations", "describe-practice"])
def test_readme_example_query_answers(client: TestClient, query: str) -> None:
    response = client.post("/sparql", data={"query": query})
    assert response.status_code == 200, response.text
    assert len(response.content) > 200
