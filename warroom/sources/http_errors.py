"""One line for a failed HTTP call, the reason first: the pane has room for "Connection
refused", not for the URL in front of it."""

from __future__ import annotations

import os
import re

_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def reason_of(text: str) -> str | None:
    """'Connection refused' out of '... [Errno 111] Connection refused ...'."""
    m = _ERRNO.search(text)
    return m.group(1).strip() if m else None


def _os_reason(e: BaseException) -> str | None:
    """The operating system's word for it, found down the exception chain (anyio wraps a
    refused connection in "All connection attempts failed")."""
    seen = 0
    x: BaseException | None = e
    while x is not None and seen < 10:
        if isinstance(x, OSError) and x.errno is not None:
            return os.strerror(x.errno)  # asyncio's own words name the address, not the reason
        x = x.__cause__ or x.__context__
        seen += 1
    return None


def transport_error(e: BaseException, url: str, timeout: float) -> str:
    """httpx's transport errors as a responder reads them: what went wrong, then where."""
    import httpx

    if isinstance(e, httpx.TimeoutException):
        return f"timed out after {timeout:g}s ({url})"
    text = str(e)
    reason = _os_reason(e) or reason_of(text)
    if reason is None:
        reason = f"{type(e).__name__}: {text}" if text else type(e).__name__
    return f"{reason} ({url})"[:500]
