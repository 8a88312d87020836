"""The ontology's documentation page and class diagram, generated once per base IRI (they change only with ontology/).

The page is self-contained: styles inline, the diagram inline as SVG, no scripts, and only relative links to this
host (`ecrn.ttl`, `diagram.svg`, `../rdf-graph-store?graph=…` for the shapes), so it works offline and behind a proxy.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from graph.diagram import dot_source, render_svg
from graph.namespaces import Namespaces
from graph.ontology import Ontology, Property, Ref, describe


@cache
def diagram(base: str) -> bytes | None:
    """The class diagram as SVG, or None when Graphviz is not installed."""
    return render_svg(dot_source(describe(Namespaces(base))))


@cache
def page(base: str) -> str:
    """The documentation page of the ontology at this base, with the diagram when Graphviz is installed."""
    ontology = describe(Namespaces(base))
    svg = diagram(base)
    inline = "<svg" + svg.decode("utf-8").partition("<svg")[2] if svg else ""  # without XML prolog and DOCTYPE
    return _environment().get_template("ontology.html").render(ontology=ontology, svg=inline, **_indexes(ontology))


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("service"), autoescape=select_autoescape(), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def _indexes(ontology: Ontology) -> dict[str, Any]:
    """Per class IRI: its subclasses, the properties whose domain or range it is, and the shapes that target it."""
    subclasses: dict[str, list[Ref]] = defaultdict(list)
    for entry in ontology.classes:
        for parent in entry.parents:
            subclasses[parent.iri].append(entry.ref)
    domain_of: dict[str, list[Property]] = defaultdict(list)
    range_of: dict[str, list[Property]] = defaultdict(list)
    for prop in ontology.properties:
        for ref in prop.domains:
            domain_of[ref.iri].append(prop)
        for ref in prop.ranges:
            range_of[ref.iri].append(prop)
    shapes_of: dict[str, list[tuple[Ref, str]]] = defaultdict(list)
    for shape_file in ontology.shapes:
        for shape, target in shape_file.targets:
            shapes_of[target.iri].append((shape, shape_file.name))
    return {"subclasses": subclasses, "domain_of": domain_of, "range_of": range_of, "shapes_of": shapes_of}
