"""The DCAT-AP 3 record of the service: a catalogue of one dataset (the ECRN knowledge graph) with a distribution per
dump, a DCAT 3 version per release, and the SPARQL endpoint and REST API as data services.

Terms of the EU authority tables and IANA media types are typed (and labelled) in the record, as the DCAT-AP range
shapes want them. The publisher is whoever runs the service (settings `publisher_name`, `contact_url`); the graph
(data and ontology) is published under CC BY 4.0, the licence the ontology states.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS, VOID, XSD, Namespace

from graph.releases import Release
from service.dumps import FORMATS, DumpFile

DCAT = Namespace("http://www.w3.org/ns/dcat#")  # rdflib's DCAT namespace is closed at DCAT 2
ADMS = Namespace("http://www.w3.org/ns/adms#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
# Concepts of the authority tables the record uses: IRI -> (English label in the table, the class DCAT-AP wants).
CONCEPTS: dict[str, tuple[str, URIRef]] = {
    f"{EU}language/ENG": ("English", DCTERMS.LinguisticSystem),
    f"{EU}frequency/IRREG": ("irregular", DCTERMS.Frequency),
    f"{EU}access-right/PUBLIC": ("public", DCTERMS.RightsStatement),
    f"{EU}licence/CC_BY_4_0": ("Creative Commons Attribution 4.0 International", DCTERMS.LicenseDocument),
    f"{EU}data-theme/ECON": ("Economy and finance", SKOS.Concept),
    f"{EU}data-theme/REGI": ("Regions and cities", SKOS.Concept),
    f"{EU}data-theme/TECH": ("Science and technology", SKOS.Concept),
    **{f"{EU}file-type/{f.file_type}": (f.file_type_label, DCTERMS.MediaTypeOrExtent)
       for f in FORMATS.values()},
}
SCHEMES = {f"{EU}data-theme": "Data theme"}
STANDARDS = {"sparql": URIRef("https://www.w3.org/TR/sparql11-protocol/"),
             "openapi": URIRef("https://spec.openapis.org/oas/v3.1.0")}
LICENCE = URIRef(f"{EU}licence/CC_BY_4_0")
DESCRIPTION = ("Linked data on the European Chemical Regions Network (ECRN) and its INTERREG IVC project ChemClust: "
               "chemical regions and their NUTS codes, the actors, projects, programmes, policy instruments and good "
               "practices, and which practice travelled from which region to which. Every fact cites its source.")
RIGHTS = ("The graph (data and ontology) is published under CC BY 4.0. Each fact cites the public source it was taken "
          "from (dcterms:source); those sources keep their own terms.")


@dataclass(frozen=True)
class Links:
    """Absolute URLs of the service as the client reached it (with the ASGI root_path)."""

    home: str
    catalog: str
    sparql: str
    openapi: str
    releases: str
    dumps: dict[str, str]

    @classmethod
    def of(cls, request: Request) -> Links:
        return cls(str(request.base_url), str(request.url_for("catalog")), str(request.url_for("sparql_get")),
                   str(request.url_for("openapi")), str(request.url_for("list_releases")),
                   {name: str(request.url_for("get_dump", name=name)) for name in FORMATS})

    def release(self, version: int) -> URIRef:
        return URIRef(f"{self.releases}#release-{version}")

    def changes(self, version: int) -> URIRef:
        return URIRef(f"{self.releases}/{version}")


def dataset_iri(base_iri: str) -> URIRef:
    """The dataset: the one the VoID description describes."""
    return URIRef(base_iri + "void")


@dataclass(frozen=True)
class Publisher:
    """Who runs the service: named in the record as publisher and contact point."""

    name: str
    contact_url: str | None  # None: the service's home page


def record(links: Links, base_iri: str, files: list[DumpFile], releases: list[Release],
           who: Publisher) -> Graph:
    """The whole record: catalogue, dataset, distributions, versions, data services and the terms they use."""
    out = Graph(bind_namespaces="core")
    for prefix, namespace in (("dcat", DCAT), ("dcterms", DCTERMS), ("adms", ADMS), ("spdx", SPDX),
                              ("vcard", VCARD), ("foaf", FOAF), ("skos", SKOS)):
        out.bind(prefix, namespace)
    dataset, publisher = dataset_iri(base_iri), URIRef(f"{links.catalog}#publisher")
    _catalogue(out, links, dataset, publisher, releases)
    _dataset(out, links, dataset, publisher, releases)
    for file in files:
        _distribution(out, links, dataset, file)
    for previous, release in zip([None, *releases], releases, strict=False):
        _version(out, links, dataset, release, previous)
    _services(out, links, dataset, publisher)
    _terms(out, links, publisher, who)
    return out


def _catalogue(out: Graph, links: Links, dataset: URIRef, publisher: URIRef, releases: list[Release]) -> None:
    catalog = URIRef(links.catalog)
    out.add((catalog, RDF.type, DCAT.Catalog))
    out.add((catalog, DCTERMS.title, Literal("ECRN knowledge graph catalogue", lang="en")))
    out.add((catalog, DCTERMS.description, Literal("The datasets and data services of this ecrn-kg service.",
                                                   lang="en")))
    out.add((catalog, DCTERMS.publisher, publisher))
    out.add((catalog, DCTERMS.language, URIRef(f"{EU}language/ENG")))
    out.add((catalog, DCTERMS.license, LICENCE))
    out.add((catalog, DCTERMS.issued, _date(releases[0])))
    out.add((catalog, DCTERMS.modified, _date(releases[-1])))
    out.add((catalog, FOAF.homepage, URIRef(links.home)))
    out.add((catalog, DCAT.themeTaxonomy, URIRef(f"{EU}data-theme")))
    out.add((catalog, DCAT.dataset, dataset))
    for service in _service_iris(links):
        out.add((catalog, DCAT.service, service))


def _dataset(out: Graph, links: Links, dataset: URIRef, publisher: URIRef, releases: list[Release]) -> None:
    latest = releases[-1]
    out.add((dataset, RDF.type, DCAT.Dataset))
    out.add((dataset, DCTERMS.title, Literal("ECRN knowledge graph", lang="en")))
    out.add((dataset, DCTERMS.description, Literal(DESCRIPTION, lang="en")))
    out.add((dataset, DCTERMS.publisher, publisher))
    out.add((dataset, DCAT.contactPoint, URIRef(f"{links.catalog}#contact")))
    out.add((dataset, DCTERMS.language, URIRef(f"{EU}language/ENG")))
    out.add((dataset, DCTERMS.accessRights, URIRef(f"{EU}access-right/PUBLIC")))
    out.add((dataset, DCTERMS.accrualPeriodicity, URIRef(f"{EU}frequency/IRREG")))
    for theme in ("ECON", "REGI", "TECH"):
        out.add((dataset, DCAT.theme, URIRef(f"{EU}data-theme/{theme}")))
    for keyword in ("chemical industry", "regional policy", "clusters", "good practices", "INTERREG", "NUTS"):
        out.add((dataset, DCAT.keyword, Literal(keyword, lang="en")))
    out.add((dataset, DCAT.landingPage, URIRef(links.home)))
    out.add((dataset, DCTERMS.issued, _date(releases[0])))
    out.add((dataset, DCTERMS.modified, _date(latest)))
    out.add((dataset, DCAT.version, Literal(str(latest.version))))
    out.add((dataset, ADMS.versionNotes, Literal(latest.notes, lang="en")))
    out.add((dataset, DCAT.hasCurrentVersion, links.release(latest.version)))
    for release in releases:
        out.add((dataset, DCAT.hasVersion, links.release(release.version)))


def _distribution(out: Graph, links: Links, dataset: URIRef, file: DumpFile) -> None:
    spec, url = file.format, URIRef(links.dumps[file.format.name])
    checksum = BNode()
    out.add((dataset, DCAT.distribution, url))
    out.add((url, RDF.type, DCAT.Distribution))
    out.add((url, DCTERMS.title, Literal(spec.title, lang="en")))
    out.add((url, DCTERMS.description, Literal(f"{spec.title}: the whole graph as of release "
                                               f"{file.release.version}.", lang="en")))
    out.add((url, DCAT.accessURL, url))
    out.add((url, DCAT.downloadURL, url))
    out.add((url, DCAT.mediaType, URIRef(IANA + spec.content_type)))
    if spec.compressed:
        out.add((url, DCAT.compressFormat, URIRef(IANA + spec.media_type)))
    out.add((url, DCTERMS.format, URIRef(f"{EU}file-type/{spec.file_type}")))
    out.add((url, DCAT.byteSize, Literal(len(file.body), datatype=XSD.nonNegativeInteger)))
    out.add((url, SPDX.checksum, checksum))
    out.add((checksum, RDF.type, SPDX.Checksum))
    out.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    out.add((checksum, SPDX.checksumValue, Literal(file.sha256, datatype=XSD.hexBinary)))
    out.add((url, DCTERMS.license, LICENCE))
    out.add((url, DCTERMS.rights, URIRef(f"{links.catalog}#rights")))
    out.add((url, DCTERMS.modified, _date(file.release)))
    out.add((URIRef(IANA + spec.content_type), RDF.type, DCTERMS.MediaType))
    out.add((URIRef(IANA + spec.media_type), RDF.type, DCTERMS.MediaType))


def _version(out: Graph, links: Links, dataset: URIRef, release: Release, previous: Release | None) -> None:
    """A release as a DCAT 3 version of the dataset, its changes at foaf:page."""
    version, changes = links.release(release.version), links.changes(release.version)
    out.add((version, RDF.type, DCAT.Dataset))
    out.add((version, DCTERMS.title, Literal(f"ECRN knowledge graph, release {release.version}", lang="en")))
    out.add((version, DCTERMS.description, Literal(release.notes, lang="en")))
    out.add((version, DCAT.version, Literal(str(release.version))))
    out.add((version, DCTERMS.issued, _date(release)))
    out.add((version, ADMS.versionNotes, Literal(release.notes, lang="en")))
    out.add((version, DCAT.isVersionOf, dataset))
    if previous is not None:
        out.add((version, DCAT.previousVersion, links.release(previous.version)))
    out.add((version, FOAF.page, changes))
    out.add((changes, RDF.type, FOAF.Document))
    out.add((changes, DCTERMS.title, Literal(f"Changes of release {release.version} (RDF Patch)", lang="en")))


def _service_iris(links: Links) -> tuple[URIRef, URIRef]:
    """The SPARQL service has the IRI its Service Description gives it."""
    return URIRef(links.sparql + "#service"), URIRef(f"{links.catalog}#rest-api")


def _services(out: Graph, links: Links, dataset: URIRef, publisher: URIRef) -> None:
    sparql, api = _service_iris(links)
    for service, title, endpoint, description, standard in (
            (sparql, "SPARQL endpoint", links.sparql, links.sparql, STANDARDS["sparql"]),
            (api, "REST API", links.home, links.openapi, STANDARDS["openapi"])):
        out.add((service, RDF.type, DCAT.DataService))
        out.add((service, DCTERMS.title, Literal(f"ECRN knowledge graph: {title}", lang="en")))
        out.add((service, DCAT.endpointURL, URIRef(endpoint)))
        out.add((service, DCAT.endpointDescription, URIRef(description)))
        out.add((service, DCTERMS.conformsTo, standard))
        out.add((service, DCAT.servesDataset, dataset))
        out.add((service, DCTERMS.publisher, publisher))
        out.add((service, DCTERMS.accessRights, URIRef(f"{EU}access-right/PUBLIC")))
        out.add((service, DCTERMS.license, LICENCE))
    out.add((sparql, DCTERMS.description, Literal("SPARQL 1.1 queries over the whole graph (GET without a query: "
                                                  "the Service Description).", lang="en")))
    out.add((api, DCTERMS.description, Literal("Resources, named queries and search as JSON; described by the "
                                               "OpenAPI document.", lang="en")))


def _terms(out: Graph, links: Links, publisher: URIRef, who: Publisher) -> None:
    """The publisher, contact, rights statement, and the authority-table terms, typed for the range shapes."""
    contact, rights = URIRef(f"{links.catalog}#contact"), URIRef(f"{links.catalog}#rights")
    out.add((publisher, RDF.type, FOAF.Agent))
    out.add((publisher, FOAF.name, Literal(who.name, lang="en")))
    out.add((contact, RDF.type, VCARD.Kind))
    out.add((contact, RDF.type, VCARD.Organization))
    out.add((contact, VCARD.fn, Literal(who.name)))
    out.add((contact, VCARD.hasURL, URIRef(who.contact_url or links.home)))
    out.add((rights, RDF.type, DCTERMS.RightsStatement))
    out.add((rights, RDFS.label, Literal(RIGHTS, lang="en")))
    for iri, (label, cls) in CONCEPTS.items():
        concept = URIRef(iri)
        out.add((concept, RDF.type, cls))
        out.add((concept, SKOS.prefLabel, Literal(label, lang="en")))
        out.add((concept, SKOS.inScheme, URIRef(iri.rsplit("/", 1)[0])))
    for scheme, title in SCHEMES.items():
        out.add((URIRef(scheme), RDF.type, SKOS.ConceptScheme))
        out.add((URIRef(scheme), DCTERMS.title, Literal(title, lang="en")))
    out.add((URIRef(links.home), RDF.type, FOAF.Document))
    for standard in STANDARDS.values():
        out.add((standard, RDF.type, DCTERMS.Standard))
    out.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))


def link_void(void: Graph, base_iri: str, links: Links) -> None:
    """Point the VoID description at the dumps (void:dataDump) and at this record."""
    dataset = dataset_iri(base_iri)
    for url in links.dumps.values():
        void.add((dataset, VOID.dataDump, URIRef(url)))
    void.add((dataset, RDFS.seeAlso, URIRef(links.catalog)))


def _date(release: Release) -> Literal:
    return Literal(release.timestamp, datatype=XSD.dateTime)
