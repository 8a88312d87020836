"""Writes need the configured bearer token; without one configured, the server is read-only."""

from __future__ import annotations

import hmac

from fastapi import Request

from service.problems import ForbiddenError, UnauthorizedError
from service.settings import Settings


def require_writer(request: Request, settings: Settings) -> None:
    """Raise 401 without credentials, 403 with wrong ones or when writes are off."""
    if settings.write_token is None:
        raise ForbiddenError("this server is read-only: no write token is configured")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("writes need an 'Authorization: Bearer <token>' header",
                                headers={"WWW-Authenticate": 'Bearer realm="ecrn-kg"'})
    if not hmac.compare_digest(token.strip().encode(), settings.write_token.get_secret_value().encode()):
        raise ForbiddenError("the bearer token is not valid for writes")
