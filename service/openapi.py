"""The OpenAPI document: FastAPI's, with the JSON Schemas generated from the shapes as components."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from graph import Namespaces
from graph.schemas import vocabulary
from service.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Make `app.openapi()` return the document with a schema per shape and `Resource`, any of them."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            shapes = vocabulary(Namespaces(settings.base_iri)).schemas
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            clashes = set(shapes) & set(components)
            assert not clashes, f"shape schemas clash with FastAPI's: {clashes}"
            components.update(shapes)
            components["Resource"] = {"description": "A resource as JSON-LD, framed with /context.jsonld",
                                      "anyOf": [{"$ref": f"#/components/schemas/{name}"} for name in shapes]}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
