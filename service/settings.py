"""The one settings object: read from ECRN_* environment variables (or a .env file) at app creation."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph import DEFAULT_BASE


class Settings(BaseSettings):
    """Every setting of ecrn-kg; the README's settings table lists the same names."""

    model_config = SettingsConfigDict(env_prefix="ECRN_", env_file=".env", extra="ignore")

    base_iri: str = Field(DEFAULT_BASE, description="Base of every IRI the graph mints; must end with '/'.")
    store_path: Path | None = Field(None, description="Directory of an on-disk store; empty means in memory.")
    host: str = Field("127.0.0.1", description="Address `ecrn-kg serve` listens on.")
    port: int = Field(8000, description="Port `ecrn-kg serve` listens on.")
    union_default_graph: bool = Field(True, description="Queries see the union of all named graphs as default graph.")
    cors_origins: list[str] = Field(["*"], description="Origins allowed to read by CORS (never with credentials).")
    max_query_bytes: int = Field(100_000, description="Largest query or request body accepted, in bytes.")
