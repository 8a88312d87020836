"""What routes take from the app: the store and the settings.

Coroutines, so that FastAPI calls them on the event loop rather than sending each to its thread pool.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from service.backend import Backend, Pool
from service.settings import Settings


async def get_store(request: Request) -> Backend:
    return cast(Backend, request.app.state.store)


async def get_pool(request: Request) -> Pool:
    return cast(Pool, request.app.state.pool)


async def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


StoreDep = Annotated[Backend, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PoolDep = Annotated[Pool, Depends(get_pool)]
