"""The store the service runs on: the embedded store, or a remote triplestore when ECRN_REMOTE_QUERY_URL is set."""

from __future__ import annotations

from graph import EmbeddedStore, QueryPool, open_store
from graph.load import prepare
from graph.remote import DIALECTS, Endpoints, RemoteStore
from graph.remote_pool import RemotePool
from service.settings import Settings

Backend = EmbeddedStore | RemoteStore
Pool = QueryPool | RemotePool


def remote_store(settings: Settings) -> RemoteStore | None:
    """The configured remote store, or None for the embedded one."""
    if not settings.remote_query_url:
        return None
    password = settings.remote_password.get_secret_value() if settings.remote_password else None
    endpoints = Endpoints(settings.remote_query_url, settings.remote_update_url, settings.remote_user, password)
    return RemoteStore(endpoints, settings.query_timeout, settings.union_default_graph,
                       settings.shared_path / "written" if settings.shared_path else None,
                       DIALECTS[settings.remote_dialect])


def open_backend(settings: Settings) -> Backend:
    """Open the configured store, loading the ChemClust graph (and the data files) into it if it holds no load."""
    remote = remote_store(settings)
    if remote is None:
        return open_store(settings.store_path, settings.base_iri, None, settings.data_files,
                          settings.validate_data_files)
    prepare(remote, settings.base_iri, None, settings.data_files, settings.validate_data_files)
    return remote


def pool_for(store: Backend, settings: Settings) -> Pool:
    if isinstance(store, RemoteStore):
        return RemotePool(store, settings.query_workers + settings.query_workers_extra)
    return QueryPool(store, settings.query_workers, settings.query_workers_extra)
