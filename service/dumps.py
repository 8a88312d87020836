"""The dump files of the whole store: their formats, and a built file with its checksum and cache validators.

N-Quads (gzipped) and JSON-LD keep every named graph; Turtle has no named graphs, so it holds the union graph, each
triple once (as the default graph of /sparql shows it).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from graph.releases import Release


@dataclass(frozen=True)
class DumpFormat:
    """A dump file: its name, the store format (None: the release log's sorted N-Quads) and how it is described."""

    name: str
    fmt: str | None
    media_type: str  # of the file as served
    content_type: str  # of the RDF inside (IANA), which differs when the file is compressed
    file_type: str  # the code in the EU file-type authority table
    file_type_label: str  # its English label there
    title: str
    compressed: bool = False


FORMATS: dict[str, DumpFormat] = {f.name: f for f in (
    DumpFormat("ecrn-kg.nq.gz", None, "application/gzip", "application/n-quads", "RDF_N_QUADS", "RDF N-Quads",
               "N-Quads of every named graph, sorted, gzipped", compressed=True),
    DumpFormat("ecrn-kg.ttl", "turtle", "text/turtle", "text/turtle", "RDF_TURTLE", "RDF Turtle",
               "Turtle of the union of the named graphs"),
    DumpFormat("ecrn-kg.jsonld", "jsonld", "application/ld+json", "application/ld+json", "JSON_LD", "JSON-LD",
               "JSON-LD of every named graph"),
)}


@dataclass(frozen=True)
class DumpFile:
    """A built dump: its bytes, the release they hold, and their SHA-256."""

    format: DumpFormat
    body: bytes
    release: Release
    digest: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", hashlib.sha256(self.body).digest())

    @property
    def sha256(self) -> str:
        return self.digest.hex()

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'  # entity_tag(self.body), without hashing the body again

    @property
    def repr_digest(self) -> str:
        """The Repr-Digest field value (RFC 9530)."""
        return f"sha-256=:{base64.b64encode(self.digest).decode()}:"


def entity_tag(body: bytes) -> str:
    """A strong entity tag: the bytes' own SHA-256, so equal tags always mean equal bytes."""
    return f'"{hashlib.sha256(body).hexdigest()}"'


def sha256sums(files: list[DumpFile]) -> str:
    """The files' checksums in the format `sha256sum --check` reads."""
    return "".join(f"{f.sha256}  {f.format.name}\n" for f in files)
