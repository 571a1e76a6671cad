"""Logs streamed to the bundle: bounded by lines and bytes, redacted while they stream.

tailLines and limitBytes ask the server for the bound, and the same bound is enforced here too
(servers may overshoot, "slightly more or slightly less" says the API), cutting at a line
boundary and closing the connection. Lines are counted as the server sent them, bytes as
written.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from warroom.actions.evidence.bundle import Bundle, FileWriter
from warroom.actions.evidence.limits import EvidenceLimits
from warroom.actions.redact import Redactor

CHUNK = 64 * 1024
MAX_LINE = 1024 * 1024  # a "line" this long without a newline is written in pieces


class LogSink:
    """Whole lines in, redacted bytes out to disk, until a cap is hit."""

    def __init__(self, w: FileWriter, red: Redactor, max_lines: int, max_bytes: int) -> None:
        self.w, self.red = w, red
        self.max_lines, self.max_bytes = max_lines, max_bytes
        self.lines_in = 0  # lines as the server sent them (the line cap counts these)
        self.bytes_in = 0  # bytes as the server sent them, before redaction
        self.lines = 0  # lines written
        self.truncated: str | None = None

    def emit(self, block: bytes) -> bool:
        """Write a block of whole lines (the last may lack its newline at EOF); True = stop."""
        self.bytes_in += len(block)
        room = self.max_lines - self.lines_in
        if room <= 0:
            self.truncated = "lines"
            return True
        n = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        stop = False
        if n > room:
            cut = -1
            for _ in range(room):
                cut = block.index(b"\n", cut + 1)
            block, n, stop, self.truncated = block[: cut + 1], room, True, "lines"
        room_b = self.max_bytes - self.w.size
        if len(block) > room_b + CHUNK:  # don't redact what cannot fit anyway
            block = block[: block.rfind(b"\n", 0, room_b + CHUNK) + 1]
            n, stop, self.truncated = block.count(b"\n"), True, "bytes"
        cp = self.red.checkpoint()
        text, _ = self.red.redact(block.decode("utf-8", "surrogateescape"))
        out = text.encode("utf-8", "surrogateescape")
        if len(out) > room_b:  # redo line by line, so counts cover only what is written
            self.red.rollback(cp)
            out, n = self._fit(block, room_b)
            stop, self.truncated = True, "bytes"
        self.lines_in += n
        self.lines += out.count(b"\n") + (0 if not out or out.endswith(b"\n") else 1)
        self.w.write(out)
        return stop

    def _fit(self, block: bytes, room: int) -> tuple[bytes, int]:
        """Whole redacted lines of `block` that fit in `room` bytes, and how many lines."""
        parts, used, n = [], 0, 0
        text = block.decode("utf-8", "surrogateescape")
        for line in re.findall(r"[^\n]*\n|[^\n]+$", text):
            cp = self.red.checkpoint()
            out = self.red.redact(line)[0].encode("utf-8", "surrogateescape")
            if used + len(out) > room:
                self.red.rollback(cp)
                break
            parts.append(out)
            used += len(out)
            n += 1
        return b"".join(parts), n


async def stream_log(
    b: Bundle, rel: str, resp: Any, limits: EvidenceLimits
) -> tuple[LogSink, Exception | None]:
    """Stream a log response to `rel`. An error mid-stream keeps what arrived and is returned."""
    red = b.redactor()
    w = FileWriter(b.folder / rel)
    sink = LogSink(w, red, limits.max_log_lines, limits.max_log_bytes)
    pending = b""
    error: Exception | None = None
    try:
        async for chunk in resp.content.iter_chunked(CHUNK):
            # A read from a full buffer does not suspend: yield, or a fast stream would hold
            # the loop (and the console's input) until the cap.
            await asyncio.sleep(0)
            buf = pending + chunk if pending else chunk
            cut = buf.rfind(b"\n")
            if cut < 0 and len(buf) < MAX_LINE:
                pending = buf
                continue
            block, pending = (buf, b"") if cut < 0 else (buf[: cut + 1], buf[cut + 1 :])
            if sink.emit(block):
                pending = b""
                break
        if pending:
            sink.emit(pending)
    except Exception as e:
        error = e
        if sink.truncated is None:
            sink.truncated = "error"
    finally:
        w.close()
        resp.close()  # at a cap this drops the connection: the rest is never read
    return sink, error
