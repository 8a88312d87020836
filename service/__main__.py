"""The `ecrn-kg` command: serve, load, validate, query, export, stats, get, backup, restore, harvest."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from graph import (
    EmbeddedStore,
    GraphError,
    Namespaces,
    ValidationError,
    backups,
    load_files,
    ordering,
    validate_files,
)
from graph import harvest as harvesting
from graph.load import default_files, prepare
from service import allocator
from service.backend import Backend, remote_store
from service.settings import Settings

cli = typer.Typer(name="ecrn-kg", no_args_is_help=True, add_completion=False,
                  help="Linked-data knowledge graph of the European Chemical Regions Network.")

StoreOption = Annotated[Path | None, typer.Option("--store", help="On-disk store directory (default: in memory).")]


class QueryFormat(StrEnum):
    json = "json"
    csv = "csv"
    tsv = "tsv"
    xml = "xml"
    turtle = "turtle"
    ntriples = "ntriples"
    jsonld = "jsonld"


class ExportFormat(StrEnum):
    nquads = "nquads"
    trig = "trig"
    turtle = "turtle"


def _settings(store: Path | None) -> Settings:
    return Settings(store_path=store) if store else Settings()


def _progress(source: str, triples: int) -> None:
    typer.echo(f"parsed {source}: {triples} triples", err=True)


def _sent(sent: int, total: int) -> None:
    typer.echo(f"sent {sent} of {total} quads to the remote store", err=True)


def _target(settings: Settings) -> Backend:
    """The configured remote store (reporting the batches it is sent), else the embedded store."""
    remote = remote_store(settings)
    if remote is None:
        return EmbeddedStore(settings.store_path)
    remote.progress = _sent
    return remote


def _open(store: Path | None) -> Backend:
    """The configured store with the ChemClust graph in it (loaded first if it holds none)."""
    settings = _settings(store)
    target = _target(settings)
    prepare(target, settings.base_iri, _progress)
    return target


@cli.command()
def serve(host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
          port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
          store: StoreOption = None,
          data: Annotated[list[Path] | None, typer.Option(help="More RDF files to load at start (repeatable).")] = None,
          validate: Annotated[bool, typer.Option(help="Check --data files against the shapes.")] = True,
          workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes; more than one serve a remote "
                                               "store, or a read-only one in memory (each loads its own).")] = 1,
          ) -> None:
    """Serve the graph over HTTP (SPARQL endpoint, graph store, named queries, descriptions)."""
    import uvicorn

    from service.app import create_app
    from service.telemetry import log_config

    settings = _settings(store)
    try:
        allocator.preload(settings.allocator, settings.huge_pages)
    except allocator.AllocatorError as problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from None
    if data:
        settings = settings.model_copy(update={"data_files": data, "validate_data_files": validate})
    options: dict[str, Any] = {"host": host or settings.host, "port": port or settings.port, "access_log": False,
                               "root_path": settings.root_path, "log_config": log_config(settings.log_format)}
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    if not settings.remote_query_url and (settings.store_path or settings.write_token):
        typer.echo("error: several workers need a remote store (ECRN_REMOTE_QUERY_URL), or an in-memory store "
                   "without writes: an on-disk store opens in one process only, and a write would reach one "
                   "worker's copy", err=True)
        raise typer.Exit(2)
    with tempfile.TemporaryDirectory(prefix="ecrn-kg-shared-") as shared:
        data_files = settings.data_files
        if settings.remote_query_url and not settings.shared_path:  # the workers share a release log and a mark
            settings = settings.model_copy(update={"shared_path": Path(shared)})
            os.environ["ECRN_SHARED_PATH"] = shared
        remote = remote_store(settings)
        if remote is not None:  # load once, here: workers loading into one store at once would race
            prepare(remote, settings.base_iri, _progress, settings.data_files, settings.validate_data_files)
            data_files = []
        os.environ.update({"ECRN_DATA_FILES": json.dumps([str(p) for p in data_files]),
                           "ECRN_VALIDATE_DATA_FILES": str(settings.validate_data_files).lower()})
        uvicorn.run("service.app:create_app", factory=True, workers=workers, **options)


@cli.command()
def load(files: Annotated[list[Path] | None, typer.Argument(help="RDF files (default: ontology and data).")] = None,
         store: StoreOption = None,
         validate: Annotated[bool, typer.Option(help="Check the shapes (skip only for trusted bulk data).")] = True,
         ) -> None:
    """Parse, validate and load files (replacing their graphs); nothing changes if any file is bad."""
    settings = _settings(store)
    target = _target(settings)
    started = time.perf_counter()
    summary = load_files(target, files or default_files(), settings.base_iri, _progress, validate)
    for problem in summary.report.warnings:
        typer.echo(str(problem), err=True)
    typer.echo(f"loaded {len(summary.triples_per_file)} files, {sum(summary.triples_per_file.values())} triples, "
               f"{summary.entailed} entailed, {len(summary.report.warnings)} warnings "
               f"in {time.perf_counter() - started:.2f} s")


@cli.command()
def validate(files: Annotated[list[Path] | None, typer.Argument(help="RDF files (default: the data).")] = None,
             warnings: Annotated[bool, typer.Option(help="Also print warnings.")] = False) -> None:
    """Check files against the SHACL shapes and checks; exit 1 on any violation."""
    report = validate_files(files or default_files(), _settings(None).base_iri)
    for problem in report.problems:
        if warnings or problem in report.violations:
            typer.echo(str(problem))
    typer.echo(f"{len(report.violations)} violations, {len(report.warnings)} warnings")
    if not report.conforms:
        raise typer.Exit(1)


@cli.command()
def query(sparql: Annotated[str, typer.Argument(help="A SPARQL query, or the path of a .rq file.")],
          format: Annotated[QueryFormat | None, typer.Option("--format", "-f", help="Output format.")] = None,
          store: StoreOption = None) -> None:
    """Run a SPARQL query and print the result (SELECT/ASK: JSON; CONSTRUCT/DESCRIBE: Turtle by default)."""
    text = Path(sparql).read_text(encoding="utf-8") if sparql.endswith(".rq") else sparql
    opened = _open(store)
    result = opened.query(ordering.total_order(text) if opened.sort_classes else text,
                          prefixes=Namespaces(_settings(store).base_iri).prefixes())
    fmt = format.value if format else ("turtle" if result.kind == "graph" else "json")
    graph_format = fmt in ("turtle", "ntriples", "jsonld")
    if graph_format != (result.kind == "graph"):
        typer.echo(f"format {fmt} does not fit a {result.kind} result", err=True)
        raise typer.Exit(2)
    sys.stdout.buffer.write(result.serialize(fmt))


@cli.command()
def export(format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.nquads,
           output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: stdout).")] = None,
           store: StoreOption = None) -> None:
    """Write the whole graph (N-Quads, TriG, or Turtle of the union graph)."""
    data = _open(store).dump(format.value)
    if output:
        output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


@cli.command()
def stats(store: StoreOption = None) -> None:
    """Print triples per named graph and instances per class."""
    numbers = _open(store).stats()
    typer.echo("triples per graph:")
    for graph, count in sorted(numbers.triples_per_graph.items()):
        typer.echo(f"  {count:8d}  {graph}")
    typer.echo(f"  {numbers.triples:8d}  total")
    typer.echo("instances per class:")
    for cls, count in sorted(numbers.instances_per_class.items(), key=lambda kv: (-kv[1], kv[0])):
        typer.echo(f"  {count:8d}  {cls}")


@cli.command()
def get(path: Annotated[str, typer.Argument(help="A path such as /health or '/sparql?query=…'.")],
        accept: Annotated[str | None, typer.Option(help="Accept header to send.")] = None,
        store: StoreOption = None) -> None:
    """Run one HTTP GET in-process and print the status and the body."""
    from fastapi.testclient import TestClient

    from service.app import create_app

    with TestClient(create_app(_settings(store))) as client:
        response = client.get(path, headers={"accept": accept} if accept else {})
    typer.echo(f"{response.status_code} {response.headers.get('content-type', '')}", err=True)
    sys.stdout.buffer.write(response.content)
    if response.status_code >= 400:
        raise typer.Exit(1)


@cli.command()
def backup(target: Annotated[Path, typer.Argument(help="A new directory for the backup.")],
           store: Annotated[Path, typer.Option("--store", help="The on-disk store (it may be serving).")]) -> None:
    """Copy an on-disk store, and its release log, to a new directory, while it serves."""
    started = time.perf_counter()
    quads = backups.backup(store, target)
    typer.echo(f"backed up {quads} quads to {target} in {time.perf_counter() - started:.2f} s", err=True)


@cli.command()
def restore(source: Annotated[Path, typer.Argument(help="A backup made by `ecrn-kg backup`.")],
            store: Annotated[Path, typer.Option("--store", help="Where the store goes (no service may use it).")],
            replace: Annotated[bool, typer.Option(help="Replace an existing store there.")] = False) -> None:
    """Put a backup in place of an on-disk store that no service has open."""
    quads = backups.restore(source, store, replace)
    typer.echo(f"restored {quads} quads to {store}", err=True)


@cli.command()
def harvest(store: Annotated[Path | None, typer.Option("--store", help="The on-disk store (the graph is loaded into "
                                                       "an empty one first); none: the configured store.")] = None,
            recipes: Annotated[list[str] | None, typer.Argument(help="Recipes to run: nuts, wikidata, eurio "
                                                                "(default: all).")] = None,
            endpoint: Annotated[str | None, typer.Option(help="Ask this SPARQL endpoint instead of each recipe's "
                                                         "own.")] = None,
            cache: Annotated[Path | None, typer.Option(help="Directory of the last live harvests (default: "
                                                       "STORE.harvest beside the store, else var/harvest).")] = None,
            timeout: Annotated[float, typer.Option(help="Seconds to wait for an endpoint.")] = 60.0) -> None:
    """Pull reference data from remote SPARQL endpoints into one named graph per recipe, with provenance.

    nuts: labels and hierarchy of our NUTS IRIs (EU Publications Office).
    wikidata: owl:sameAs links of those IRIs to Wikidata items, by NUTS code (P605).
    eurio: CORDIS project records with the titles of our projects.

    Each recipe replaces its graph {base}graph/harvest/RECIPE and caches the answer.
    When an endpoint cannot be reached or fails, its cached harvest is loaded instead, with a warning: exit status 0.
    When an endpoint refuses the query, or fails with no cached harvest, nothing changes: exit status 1.
    """
    started = time.perf_counter()
    chosen = harvesting.choose(recipes)
    target = _open(store)
    try:
        done = harvesting.harvest(target, chosen, Namespaces(_settings(store).base_iri),
                                  cache or (harvesting.cache_for(store) if store else Path("var/harvest")), endpoint,
                                  timeout)
    finally:
        target.close()
    for each in done:
        if each.problem:
            typer.echo(f"warning: {each.recipe.name}: {each.problem}; loaded the harvest of {each.fetched} from "
                       f"{each.endpoint} out of the cache ({each.triples} triples)", err=True)
        else:
            typer.echo(f"harvested {each.recipe.name} from {each.endpoint}: {each.triples} triples", err=True)
    cached = sum(1 for each in done if each.problem)
    typer.echo(f"harvested {len(done)} recipes, {sum(each.triples for each in done)} triples "
               f"({len(done) - cached} live, {cached} from the cache) in {time.perf_counter() - started:.2f} s")


def main() -> None:
    """Entry point: graph errors become a message and exit status 1."""
    try:
        cli()
    except ValidationError as error:
        typer.echo(f"error: the data breaks the shapes:\n{error}", err=True)
        sys.exit(1)
    except GraphError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
