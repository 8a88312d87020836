"""Validate a staged graph: the SHACL shapes (pyshacl) and the *-violation.rq checks."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import rdflib
from pyshacl import validate as shacl_validate
from rdflib.namespace import SH

from graph import assets
from graph.store import EmbeddedStore

log = logging.getLogger(__name__)

VIOLATION, WARNING = "Violation", "Warning"


@dataclass(frozen=True)
class Problem:
    """One finding: its severity, the node and path it is about, the message and the files involved."""

    severity: str
    focus: str
    message: str
    path: str | None = None
    files: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f" [{', '.join(self.files)}]" if self.files else ""
        path = f" {self.path}" if self.path else ""
        return f"{self.severity}: {self.focus}{path}: {self.message}{where}"


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)

    @property
    def violations(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == VIOLATION]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def conforms(self) -> bool:
        return not self.violations


def check(staging: EmbeddedStore, sources: dict[str, str]) -> Report:
    """Run shapes and checks over everything in `staging`; `sources` maps named graphs to file names."""
    problems = _shacl(staging) + _checks(staging)
    located = [_locate(p, staging, sources) for p in problems]
    return Report(sorted(located, key=lambda p: (p.severity != VIOLATION, p.files, p.focus)))


def _shacl(staging: EmbeddedStore) -> list[Problem]:
    data = rdflib.Graph()
    data.parse(data=staging.dump("ntriples"), format="nt")
    shapes = rdflib.Graph()
    for path in assets.shape_files():
        shapes.parse(path, format="turtle")
    _, results, _ = shacl_validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert isinstance(results, rdflib.Graph)
    return shacl_problems(results)


def shacl_problems(results: rdflib.Graph) -> list[Problem]:
    """The problems of a pyshacl results graph."""
    return [_problem(results, r) for r in results.subjects(rdflib.RDF.type, SH.ValidationResult)]


def _problem(results: rdflib.Graph, result: rdflib.term.Node) -> Problem:
    def value(prop: rdflib.URIRef) -> str | None:
        found = results.value(result, prop)
        return None if found is None else str(found)

    severity = VIOLATION if results.value(result, SH.resultSeverity) == SH.Violation else WARNING
    message = value(SH.resultMessage) or "breaks " + str(value(SH.sourceShape))
    focus = results.value(result, SH.focusNode)
    focus_name = focus.n3() if isinstance(focus, rdflib.BNode) else str(focus)
    return Problem(severity, focus_name, message, value(SH.resultPath))


def _checks(staging: EmbeddedStore) -> list[Problem]:
    problems = []
    for path in assets.check_files():
        result = staging.query(path.read_text(encoding="utf-8"))
        for row in result.rows():
            first = next(iter(row.values()), "")
            detail = ", ".join(f"{k}={v}" for k, v in row.items())
            problems.append(Problem(VIOLATION, first, f"{path.stem}: {detail}"))
    return problems


def _locate(problem: Problem, staging: EmbeddedStore, sources: dict[str, str]) -> Problem:
    if problem.focus.startswith("_:"):
        return problem
    files = tuple(sources[g] for g in staging.graphs_of(problem.focus) if g in sources)
    return Problem(problem.severity, problem.focus, problem.message, problem.path, files)
