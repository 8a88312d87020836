"""The application factory: settings and store in, FastAPI app out; the store opens in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from graph import load_named_queries
from graph.pool import CHUNK
from service import openapi, problems
from service.answer_cache import AnswerCache
from service.backend import Backend, open_backend, pool_for
from service.description import StatisticsCache
from service.fairness import Fairness
from service.lane import App, Lane
from service.routes import (
    dataset,
    graph_store,
    health,
    linked_data,
    ontology,
    pages,
    publishing,
    queries,
    resources,
    search,
    sparql,
)
from service.settings import Settings
from service.telemetry import Metrics, RequestLog


def create_app(settings: Settings | None = None, store: Backend | None = None) -> FastAPI:
    """Build the app; without `store`, the lifespan opens (and if need be loads) the configured one."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if store is None:
            app.state.store = await run_in_threadpool(open_backend, settings)
        app.state.pool = pool_for(app.state.store, settings)
        app.state.statistics = StatisticsCache(app.state.pool)
        app.state.answers = AnswerCache(settings.answer_cache_bytes, max_entry_bytes=CHUNK)
        await run_in_threadpool(app.state.pool.start)
        yield
        app.state.pool.close()
        if store is None:
            app.state.store.close()

    app = App(title="ecrn-kg", version="0.1.0", lifespan=lifespan,
              description="Linked-data knowledge graph of the European Chemical Regions Network.")
    app.state.settings = settings
    app.state.store = store
    cors: dict[str, Any] = {"allow_origins": settings.cors_origins, "allow_credentials": False,
                            "allow_methods": ["GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE"],
                            "allow_headers": ["*"], "expose_headers": ["X-Request-ID", "Result-Truncated", "Link",
                                                                       "ETag"]}
    app.add_middleware(CORSMiddleware, **cors)
    app.state.metrics = Metrics(app.state)
    app.state.fairness = Fairness(settings.client_max_queries, settings.client_query_seconds,
                                  settings.client_window_seconds, settings.client_wait_seconds)
    app.add_middleware(RequestLog, metrics=app.state.metrics)  # outermost: it sees and times every answer
    problems.install(app)
    openapi.install(app, settings)
    app.include_router(sparql.router)
    app.include_router(health.router)
    app.include_router(dataset.router)
    app.include_router(graph_store.router)
    app.include_router(queries.router(load_named_queries(), settings))
    app.include_router(search.router)
    app.include_router(ontology.router)
    app.include_router(publishing.router)
    app.include_router(resources.router)  # after the fixed /api paths: its first segment is a variable
    app.include_router(pages.router)
    app.include_router(linked_data.router)  # after /def/ and its files: /def/{path} redirects every other term
    app.lane = Lane(app, sparql.router, "/sparql", ("GET", "POST"), app.state.metrics, cors,
                    settings.max_query_bytes)
    app.mount("/static", StaticFiles(packages=[("service", "static")]), name="static")
    return app

