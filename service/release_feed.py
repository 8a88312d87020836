"""The list of releases as JSON for scripts that follow the changes, with a JSON-LD context that reads it as the
DCAT 3 versions of the dataset (the same statements as in /catalog).

The counts and the checksum are for scripts: the context maps them to null, their RDF form is the version notes.
"""

from __future__ import annotations

from typing import Any

from graph.releases import Release
from service.catalogue import Links, dataset_iri

CONTEXT: dict[str, Any] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "adms": "http://www.w3.org/ns/adms#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "releases": {"@id": "dcat:hasVersion", "@container": "@set"},
    "current": {"@id": "dcat:hasCurrentVersion", "@type": "@id"},
    "version": "dcat:version",
    "issued": {"@id": "dcterms:issued", "@type": "xsd:dateTime"},
    "previous": {"@id": "dcat:previousVersion", "@type": "@id"},
    "changes": {"@id": "foaf:page", "@type": "@id"},
    "notes": {"@id": "adms:versionNotes", "@language": "en"},
    "checksum": None,
    "added": None,
    "removed": None,
    "quads": None,
}


def document(links: Links, base_iri: str, releases: list[Release]) -> dict[str, Any]:
    """The dataset with its releases, newest first."""
    entries = [_entry(links, release, previous) for previous, release in zip([None, *releases], releases,
                                                                              strict=False)]
    return {"@context": CONTEXT, "@id": str(dataset_iri(base_iri)),
            "current": str(links.release(releases[-1].version)), "releases": entries[::-1]}


def _entry(links: Links, release: Release, previous: Release | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "@id": str(links.release(release.version)), "@type": "dcat:Dataset", "version": str(release.version),
        "issued": release.timestamp, "changes": str(links.changes(release.version)),
        "checksum": release.checksum, "added": release.added, "removed": release.removed, "quads": release.quads,
        "notes": release.notes}
    if previous is not None:
        entry["previous"] = str(links.release(previous.version))
    return entry
