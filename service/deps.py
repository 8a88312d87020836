"""What routes take from the app: the store and the settings."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from graph import EmbeddedStore, QueryPool
from service.settings import Settings


def get_store(request: Request) -> EmbeddedStore:
    return cast(EmbeddedStore, request.app.state.store)


def get_pool(request: Request) -> QueryPool:
    return cast(QueryPool, request.app.state.pool)


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


StoreDep = Annotated[EmbeddedStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PoolDep = Annotated[QueryPool, Depends(get_pool)]
