"""Conditional GET and HEAD (RFC 9110, section 13): whether the client's copy is still the current one."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime


def http_date(moment: datetime) -> str:
    """An IMF-fixdate, as Last-Modified wants it."""
    return format_datetime(moment, usegmt=True)


def not_modified(if_none_match: str | None, if_modified_since: str | None, etag: str, modified: datetime) -> bool:
    """True when a 304 answers the request: If-None-Match names the entity tag (weak comparison), or, only when
    there is no If-None-Match, the representation has not changed since If-Modified-Since."""
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag.removeprefix("W/") in tags
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an invalid date is ignored (RFC 9110, 13.1.3)
    return modified.replace(microsecond=0) <= (since if since.tzinfo else since.replace(tzinfo=UTC))
