"""A real Virtuoso server (`virtuoso-t` of Debian's `virtuoso-opensource`) on free loopback ports."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from graph.remote import VIRTUOSO, RemoteStore
from tests.oxigraph_server import answering, free_port, stop

INI = """[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx

[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
DirsAllowed = ., {dir}
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
CheckpointInterval = 0

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {dir}
ServerThreads = 10
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = 1000000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 0
"""
# ResultSetMaxRows: the default (10,000) cuts answers silently. MaxQueryCostEstimationTime = 0: the estimator refuses
# no query. MaxQueryExecutionTime = 0: past it Virtuoso answers 200 with a partial result ("anytime query").
SYSTEM_GRAPHS = ("http://www.openlinksw.com/schemas/virtrdf#", "http://www.w3.org/ns/ldp#",
                 "http://localuriqaserver/sparql")
PRIVATE = "http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs"
# SPARQL updates for the anonymous user SPARQL; Virtuoso's own graphs made private, which hides them from it (and so
# from every dataset the endpoint answers on): graph-level security, "16.4.3. Graph-Level Security" of its manual
SETUP = "\n".join([
    'grant SPARQL_UPDATE to "SPARQL";',
    f"DB.DBA.RDF_GRAPH_GROUP_CREATE ('{PRIVATE}', 1);",
    *(f"DB.DBA.RDF_GRAPH_GROUP_INS ('{PRIVATE}', '{g}');" for g in SYSTEM_GRAPHS),
    "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7, 0);",  # other graphs: read, write, sponge
    "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 0, 1);",  # private graphs: nothing
]) + "\n"


def executables() -> tuple[str, str]:
    """Virtuoso's server and isql; the test skips without them (`make system` installs them where it can)."""
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if not server or not isql:
        pytest.skip("Virtuoso is not installed (Debian: apt-get install virtuoso-opensource)")
    return server, isql


@contextmanager
def virtuoso_server(directory: Path) -> Iterator[str]:
    """Virtuoso with its database in `directory`, SPARQL updates allowed to the anonymous user SPARQL (loopback
    only) and its own graphs hidden from it; yield its base URL (/sparql under it, for queries and updates)."""
    server, isql = executables()
    directory.mkdir(parents=True, exist_ok=True)
    sql, http = free_port(), free_port()
    config = directory / "virtuoso.ini"
    config.write_text(INI.format(dir=directory, sql=sql, http=http))
    process = subprocess.Popen([server, "+foreground", "+configfile", str(config)], cwd=directory,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{http}"
    log = directory / "virtuoso.log"
    try:
        answering(process, f"{url}/sparql", 120, lambda: log.read_text()[-2000:] if log.exists() else "")
        said = subprocess.run([isql, f"127.0.0.1:{sql}", "dba", "dba"], input=SETUP, text=True, check=True,
                              capture_output=True, timeout=60)
        if "Error" in said.stdout + said.stderr:
            raise RuntimeError(f"virtuoso refused its setup: {said.stdout}{said.stderr}")
        yield url
    finally:
        stop(process)


def on_virtuoso(backend: object) -> bool:
    """Whether a test's store is the Virtuoso server (for what its documented behaviour decides)."""
    return isinstance(backend, RemoteStore) and backend.dialect is VIRTUOSO
