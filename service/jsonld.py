"""JSON-LD: the context published at /context.jsonld (generated from the ontology and shapes) and framing with it."""

from __future__ import annotations

import json
from typing import Any

from pyld import jsonld

from graph.schemas import Vocabulary
from service.problems import BadFrameError


def _no_remote_documents(url: str, options: object = None) -> Any:
    """Framing never fetches anything: a frame that names a remote context is refused."""
    raise jsonld.JsonLdError(f"remote documents are not loaded: {url}", "jsonld.LoadDocumentError",
                             code="loading remote context failed")


def parse_frame(raw: str | None) -> dict[str, Any] | None:
    """A frame given by a client as JSON text; BadFrameError unless it is a JSON object."""
    if raw is None:
        return None
    try:
        frame = json.loads(raw)
    except ValueError as error:
        raise BadFrameError(f"the frame is not JSON: {error}") from None
    if not isinstance(frame, dict):
        raise BadFrameError("the frame must be a JSON object")
    return frame


def frame(nquads: bytes, vocabulary: Vocabulary, frame_document: dict[str, Any]) -> bytes:
    """N-Quads (or N-Triples) framed as JSON-LD; the frame uses the published context unless it brings its own."""
    document = {"@context": vocabulary.context["@context"], **frame_document}
    options = {"documentLoader": _no_remote_documents}
    try:
        expanded = jsonld.from_rdf(nquads.decode(), {"format": "application/n-quads"})
        framed = jsonld.frame(expanded, document, options)
    except jsonld.JsonLdError as error:
        raise BadFrameError(f"the frame cannot be applied: {_cause(error)}") from None
    except (LookupError, TypeError, ValueError) as error:  # pyld fails so on some frames it should accept
        raise BadFrameError(f"the frame cannot be applied ({type(error).__name__} in the JSON-LD processor)") from None
    return json.dumps(framed, ensure_ascii=False, indent=1).encode()


def compact(nquads: bytes, vocabulary: Vocabulary) -> bytes:
    """N-Quads (or N-Triples) as JSON-LD compacted with the published context: every triple, nothing framed away."""
    expanded = jsonld.from_rdf(nquads.decode(), {"format": "application/n-quads"})
    compacted = jsonld.compact(expanded, vocabulary.context, {"documentLoader": _no_remote_documents})
    return json.dumps(compacted, ensure_ascii=False, indent=1).encode()


def _cause(error: BaseException) -> str:
    """The innermost message of a pyld error chain (pyld wraps the cause in its `cause` attribute)."""
    while isinstance(getattr(error, "cause", None), BaseException):
        error = error.cause  # type: ignore[attr-defined]
    return str(error.args[0]) if error.args else type(error).__name__
