"""The one settings object: read from ECRN_* environment variables (or a .env file) at app creation."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph import DEFAULT_BASE
from service.allocator import Allocator


class Settings(BaseSettings):
    """Every setting of ecrn-kg; the README's settings table lists the same names."""

    model_config = SettingsConfigDict(env_prefix="ECRN_", env_file=".env", extra="ignore")

    base_iri: str = Field(DEFAULT_BASE, description="Base of every IRI the graph mints; must end with '/'.")
    store_path: Path | None = Field(None, description="Directory of an on-disk store; empty means in memory.")
    data_files: list[Path] = Field([], description="More RDF files to load at start, beside the ChemClust graph.")
    validate_data_files: bool = Field(True, description="Check those files against the shapes (off: trusted bulk).")
    root_path: str = Field("", description="Path prefix a reverse proxy serves the service under, e.g. '/ecrn'.")
    host: str = Field("127.0.0.1", description="Address `ecrn-kg serve` listens on.")
    port: int = Field(8000, description="Port `ecrn-kg serve` listens on.")
    union_default_graph: bool = Field(True, description="Queries see the union of all named graphs as default graph.")
    cors_origins: list[str] = Field(["*"], description="Origins allowed to read by CORS (never with credentials).")
    max_query_bytes: int = Field(100_000, description="Largest query or request body accepted, in bytes.")
    max_upload_bytes: int = Field(50_000_000, description="Largest RDF upload to the graph store, in bytes.")
    query_timeout: float = Field(30.0, gt=0, description="Time limit of a query in seconds; a client may lower it.")
    query_workers: int = Field(2, ge=1, description="Worker processes that run queries (killed at the time limit).")
    allocator: Allocator = Field("auto", description="The malloc `ecrn-kg serve` runs with: jemalloc (auto: where "
                                 "installed; faster queries) or the C library's (system).")
    huge_pages: bool = Field(True, description="Have jemalloc back its memory with transparent huge pages, where the "
                             "kernel allows them (faster queries on a large graph).")
    query_workers_extra: int = Field(4, ge=0, description="Workers added while long queries hold all the others.")
    row_cap: int = Field(10_000, ge=1, description="Most rows (or triples) a query answer holds; more is truncated.")
    max_nesting: int = Field(100, ge=1, description="Deepest bracket nesting a query or update may have.")
    service_allowlist: list[str] = Field([], description="Endpoints SERVICE and LOAD may reach (default: none).")
    service_timeout: float = Field(10.0, gt=0, description="Time limit of a query that reaches remote endpoints.")
    service_row_cap: int = Field(10_000, ge=1, description="Most rows one SERVICE call may bring back.")
    answer_cache_bytes: int = Field(64 << 20, ge=0, description="Memory for answers to repeated queries (0: none).")
    publisher_name: str = Field("ecrn-kg", description="Who runs the service: the publisher in the DCAT-AP record.")
    contact_url: str | None = Field(None, description="The publisher's contact page in the record (else home).")
    client_max_queries: int = Field(4, ge=0, description="Queries one client may run at once (0: any number).")
    client_wait_seconds: float = Field(10.0, ge=0, description="How long a client's query past those waits for one "
                                       "of them to end (0: refused at once).")
    client_query_seconds: float = Field(30.0, ge=0, description="Worker seconds a client's queries may use per "
                                        "window (0: no budget).")
    client_window_seconds: float = Field(60.0, gt=0, description="The window of that budget, in seconds.")
    shared_path: Path | None = Field(None, description="Directory that replicas of one remote store share: the "
                                     "release log, and a mark of each write (default: none).")
    release_interval: float = Field(60.0, gt=0, description="Seconds between looks for writes to record as a release.")
    log_format: Literal["json", "text"] = Field("json", description="Logs as JSON lines or as plain text.")
    slow_query_seconds: float = Field(1.0, ge=0, description="Queries slower than this are logged and counted.")
    remote_query_url: str | None = Field(None, description="SPARQL query endpoint of a remote store; set: use it "
                                         "instead of the embedded store.")
    remote_update_url: str | None = Field(None, description="SPARQL update endpoint of that store.")
    remote_user: str | None = Field(None, description="User name for that store (HTTP Basic).")
    remote_password: SecretStr | None = Field(None, description="Password for that store.")
    remote_dialect: Literal["sparql", "virtuoso"] = Field("sparql", description="What that store needs beside "
                                                          "SPARQL 1.1: nothing, or Virtuoso's workarounds.")
    write_token: SecretStr | None = Field(None, description="Bearer token for updates and uploads; unset: read-only.")
