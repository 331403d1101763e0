"""Camera URLs without their secrets: what logs, status messages and screens may show."""

from __future__ import annotations

import os
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from inspection.errors import SourceError


def redact(url: str) -> str:
    """The URL with any password replaced by ``***`` (the user name stays: it helps support)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable url>"
    if parts.password is None and "@" not in parts.netloc:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    netloc = f"{user}:***@{host}" if user else f"***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def credentials(
    url: str, username: str | None, password: str | None, password_env: str | None
) -> tuple[str, str | None, str | None]:
    """(url without user info, user name, password) from the URL and the recipe's fields.

    The recipe's fields win over the URL's; ``password_env`` names an environment variable.
    SourceError when that variable is not set.
    """
    parts = urlsplit(url)
    user = username if username is not None else (unquote(parts.username or "") or None)
    secret = (
        password
        if password is not None
        else (unquote(parts.password) if parts.password is not None else None)
    )
    if password_env:
        if password_env not in os.environ:
            raise SourceError(f"environment variable {password_env} (camera password) is not set")
        secret = os.environ[password_env]
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return bare, user, secret


def with_credentials(url: str, user: str | None, password: str | None) -> str:
    """``url`` with ``user:password@`` put in (for libraries that only take them in the URL)."""
    if not user:
        return url
    parts = urlsplit(url)
    auth = quote(user, safe="")
    if password is not None:
        auth += ":" + quote(password, safe="")
    return urlunsplit(
        (parts.scheme, f"{auth}@{parts.netloc}", parts.path, parts.query, parts.fragment)
    )
