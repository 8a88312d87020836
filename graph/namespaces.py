"""IRIs of the graph: one configurable base, and the vocabularies it reuses."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BASE = "https://w3id.org/ecrn/"

STANDARD_PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "schema": "http://schema.org/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "sh": "http://www.w3.org/ns/shacl#",
}


@dataclass(frozen=True)
class Namespaces:
    """The IRIs that depend on the configured base."""

    base: str = DEFAULT_BASE

    def __post_init__(self) -> None:
        if not self.base.endswith("/"):
            raise ValueError(f"base IRI must end with '/': {self.base!r}")

    @property
    def ontology(self) -> str:
        return self.base + "def/"

    @property
    def meta_graph(self) -> str:
        return self.base + "graph/meta"

    @property
    def entailment_graph(self) -> str:
        return self.base + "graph/entailments"

    def graph_for(self, relative_path: str) -> str:
        """The named graph of an asset file, e.g. data/regions.ttl -> {base}graph/data/regions."""
        stem = relative_path.rsplit(".", 1)[0]
        return f"{self.base}graph/{stem}"

    def rebase(self, text: str) -> str:
        """Our own asset text (queries) written against the default base, moved to this base."""
        return text if self.base == DEFAULT_BASE else text.replace(DEFAULT_BASE, self.base)

    def prefixes(self) -> dict[str, str]:
        return {"ecrn": self.ontology, **STANDARD_PREFIXES}
