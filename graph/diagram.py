"""The class diagram of the ontology: DOT source built from graph.ontology, drawn as SVG by Graphviz's `dot` program.

The ontology's classes are filled boxes with their labels, linking to `./#{anchor}` (their place on the ontology's
page, from the page itself or from `/def/diagram.svg`); reused classes of other vocabularies are dashed grey boxes with
their CURIE. A hollow arrow is rdfs:subClassOf; a labelled arrow is an object property from its domain to its range,
stated or inherited from a super-property (a property without both is left out). `python -m graph.diagram
docs/ontology` writes docs/ontology.dot and docs/ontology.svg; `make diagram` runs it.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

from graph.namespaces import Namespaces
from graph.ontology import Entry, Ontology, Property, Ref, describe

HEADER = """digraph ecrn {
  graph [rankdir=LR, nodesep=0.25, ranksep=0.6, fontname="Helvetica,Arial,sans-serif", fontsize=12,
         tooltip="Classes of the ECRN ontology"];
  node [shape=box, style="rounded,filled", fillcolor="#dce8f5", color="#0a4f8a", fontcolor="#1b1b1b",
        fontname="Helvetica,Arial,sans-serif", fontsize=11, margin="0.12,0.04", height=0.3];
  edge [color="#4a4a4a", fontcolor="#0a4f8a", fontname="Helvetica,Arial,sans-serif", fontsize=9, arrowsize=0.7];"""
REUSED = 'style="dashed,filled", fillcolor="#f3f3f3", color="#767676", fontcolor="#4a4a4a"'

log = logging.getLogger(__name__)


def dot_source(ontology: Ontology) -> str:
    """The diagram as DOT, in a stable order (the committed docs/ontology.dot is compared with it)."""
    lines = [HEADER]
    lines += [_node(entry, f'URL="./#{entry.ref.anchor}"') for entry in ontology.classes]
    lines += [_node(entry, f'URL="{entry.ref.iri}", {REUSED}') for entry in ontology.reused]
    for entry in (*ontology.classes, *ontology.reused):
        lines += [f"  {_quote(entry.ref.name)} -> {_quote(parent.name)} [arrowhead=empty];"
                  for parent in entry.parents]
    for prop, domain, range_ in _relations(ontology):
        lines.append(f"  {_quote(domain.name)} -> {_quote(range_.name)} [label={_quote(prop.label)}, "
                     f'URL="./#{prop.ref.anchor}", tooltip={_quote(prop.ref.name)}];')
    return "\n".join([*lines, "}", ""])


def _node(entry: Entry, attributes: str) -> str:
    tooltip = f"{entry.ref.name}: {entry.definition}" if entry.definition else entry.ref.name
    return f"  {_quote(entry.ref.name)} [label={_quote(entry.label)}, tooltip={_quote(tooltip)}, {attributes}];"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _relations(ontology: Ontology) -> list[tuple[Property, Ref, Ref]]:
    """(object property, domain, range) for each domain and range it has or inherits."""
    by_iri = {prop.ref.iri: prop for prop in ontology.properties}

    def inherited(prop: Property, side: str) -> tuple[Ref, ...]:
        stated: tuple[Ref, ...] = getattr(prop, side)
        parents = (by_iri[p.iri] for p in prop.parents if p.iri in by_iri)
        return stated or next((found for parent in parents if (found := inherited(parent, side))), ())

    return [(prop, domain, range_) for prop in ontology.properties if prop.kind == "object"
            for domain in inherited(prop, "domains") for range_ in inherited(prop, "ranges")]


def render_svg(dot: str) -> bytes | None:
    """The SVG that Graphviz draws of DOT source, or None when its `dot` program is not installed or fails."""
    program = shutil.which("dot")
    if program is None:
        return None
    try:
        return subprocess.run([program, "-Tsvg"], input=dot.encode(), capture_output=True, check=True,
                              timeout=120).stdout
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        log.error("Graphviz could not draw the diagram: %s", error)
        return None


def main(argv: list[str]) -> int:
    """Write `{stem}.dot` and `{stem}.svg` (default stem: docs/ontology) for the default base."""
    stem = Path(argv[0] if argv else "docs/ontology")
    dot = dot_source(describe(Namespaces()))
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".dot").write_text(dot, encoding="utf-8")
    svg = render_svg(dot)
    if svg is None:
        print(f"wrote {stem}.dot only: Graphviz's dot program is not installed", file=sys.stderr)
        return 1
    stem.with_suffix(".svg").write_bytes(svg)
    print(f"wrote {stem}.dot and {stem}.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
