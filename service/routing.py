"""Routers whose GET routes answer HEAD as well (RFC 9110 §9.3.2): FastAPI adds no HEAD route of its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


class ReadRouter(APIRouter):
    """An APIRouter that gives each GET route a HEAD twin, kept out of the OpenAPI document (uvicorn sends no body
    for HEAD)."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], *,
                      methods: set[str] | list[str] | None = None, **options: Any) -> None:
        super().add_api_route(path, endpoint, methods=methods, **options)
        if methods is not None and set(methods) == {"GET"}:
            twin = {**options, "include_in_schema": False, "operation_id": None,
                    "name": f"{options.get('name') or endpoint.__name__}-head"}
            super().add_api_route(path, endpoint, methods=["HEAD"], **twin)
