"""Load asset files into a store: parse, validate, entail, then swap in atomically."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from graph import assets
from graph.entailment import entail_all
from graph.errors import ValidationError
from graph.namespaces import DEFAULT_BASE, Namespaces
from graph.store import EmbeddedStore, Store
from graph.validate import Report, check

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]



@dataclass
class LoadSummary:
    """What a load did: triples per file, entailed triples, warnings and the time it took."""

    triples_per_file: dict[str, int] = field(default_factory=dict)
    entailed: int = 0
    report: Report = field(default_factory=Report)
    seconds: float = 0.0


def default_files() -> list[Path]:
    return assets.ontology_files() + assets.shape_files() + assets.data_files()


def stage(paths: list[Path], base: str = DEFAULT_BASE,
          progress: Progress | None = None) -> tuple[EmbeddedStore, dict[str, str], dict[str, int]]:
    """Parse files into a fresh in-memory store, one named graph per file."""
    ns, staging = Namespaces(base), EmbeddedStore()
    sources: dict[str, str] = {}
    counts: dict[str, int] = {}
    for path in paths:
        source = assets.relative(path)
        graph = ns.graph_for(source)
        counts[source] = staging.parse_into(path, graph, source, base)
        sources[graph] = source
        if progress:
            progress(source, counts[source])
    return staging, sources, counts


def validate_files(paths: list[Path], base: str = DEFAULT_BASE) -> Report:
    """Validate files together with the ontology and vocabularies, storing nothing."""
    staging, sources, _ = stage(_with_ontology(paths), base)
    return check(staging, sources)


def load_files(store: Store, paths: list[Path], base: str = DEFAULT_BASE,
               progress: Progress | None = None, validate: bool = True) -> LoadSummary:
    """Replace the graphs of `paths` in `store`, or change nothing if any file fails to parse or validate.

    `validate=False` skips the shapes and checks: for large trusted or generated data (benchmarks) only.
    """
    started = time.perf_counter()
    ns = Namespaces(base)
    files = _with_ontology(paths)
    staging, sources, counts = stage(files, base, progress)
    replaced = [*sources, ns.entailment_graph, ns.meta_graph]
    staging.copy_from(store, graphs=replaced)
    report = check(staging, {**_graph_names(staging, ns), **sources}) if validate else Report()
    if not report.conforms:
        raise ValidationError(report.violations)
    entailed = entail_all(staging, ns)
    _record_load(staging, ns, sources)
    store.replace_graphs(staging, replaced)
    store.flush()
    seconds = time.perf_counter() - started
    log.info("loaded %d files (%d triples, %d entailed) in %.2f s", len(files), sum(counts.values()), entailed, seconds)
    return LoadSummary(counts, entailed, report, seconds)


def load_default(store: Store, base: str = DEFAULT_BASE, progress: Progress | None = None) -> LoadSummary:
    return load_files(store, default_files(), base, progress)


def open_store(path: Path | None, base: str = DEFAULT_BASE, progress: Progress | None = None,
               extra: list[Path] | None = None, validate: bool = True) -> EmbeddedStore:
    """Open a store with the ChemClust graph and `extra` files, loaded together into an empty store (`validate`
    False skips the shapes for all of them); an on-disk store that holds a finished load is reused as it is."""
    store = EmbeddedStore(path)
    prepare(store, base, progress, extra, validate)
    return store


def prepare(store: Store, base: str = DEFAULT_BASE, progress: Progress | None = None,
            extra: list[Path] | None = None, validate: bool = True) -> None:
    """Load the ChemClust graph and `extra` files into a store that holds no finished load; into one that does,
    just the `extra` files."""
    if not store.has_graph(Namespaces(base).meta_graph):
        load_files(store, default_files() + (extra or []), base, progress, validate or not extra)
        return
    log.info("reopened the store (%d quads)", len(store))
    if extra:
        load_files(store, extra, base, progress, validate)


def _with_ontology(paths: list[Path]) -> list[Path]:
    ontology = assets.ontology_files()
    resolved = {p.resolve() for p in paths}
    return [p for p in ontology if p.resolve() not in resolved] + paths


def _graph_names(staging: EmbeddedStore, ns: Namespaces) -> dict[str, str]:
    """Names for graphs already in the store, so problems found in them name their file."""
    prefix = ns.base + "graph/"
    rows = staging.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", union=False).rows()
    return {r["g"]: r["g"][len(prefix):] for r in rows if r["g"].startswith(prefix)}


def _record_load(staging: EmbeddedStore, ns: Namespaces, sources: dict[str, str]) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    parts = ", ".join(f"<{g}>" for g in sorted(sources))
    staging.update(
        "PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
        f"INSERT DATA {{ GRAPH <{ns.meta_graph}> {{ <{ns.meta_graph}> dcterms:modified "
        f'"{now}"^^xsd:dateTime ; dcterms:hasPart {parts} . }} }}'
    )
