"""A Kubernetes list body parsed as it streams in, one item at a time.

`json.loads` of a whole PodList keeps every pod's dict alive until the end: 100,000 pods are
~260 MB of JSON and several times that in dicts, and the collector walks the growing heap again
and again (measured on 5,000 drill pods: 1.12 s for json.loads against 0.11 s decoding item
by item with the same C scanner). Here each item is decoded, converted (to a PodRow) and
dropped: memory stays at one item plus what the conversion keeps.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import queue
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from warroom.sources.kube_api import read_body

T = TypeVar("T")
LIST_CHUNK = 1 << 20  # bytes read at a time from a list body
LIST_QUEUED = 16  # chunks waiting for the parser before the reader waits (memory bound)
MAX_ITEM = 64 * 1024 * 1024  # an item not complete after this much text is not an object
_WS = " \t\n\r"


class ListParseError(ValueError):
    pass


class ListParser(Generic[T]):
    """feed() bytes of a `{"kind":..., "metadata":{...}, "items":[...]}` body as they come;
    items go through `convert` as soon as each is complete; `fields` holds the other top-level
    keys (metadata: the resourceVersion)."""

    def __init__(self, convert: Callable[[dict[str, Any]], T]) -> None:
        self.convert = convert
        self.items: list[T] = []
        self.fields: dict[str, Any] = {}
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._scan = json.JSONDecoder().raw_decode
        self._buf = ""
        self._pos = 0
        self._state = "start"  # start | key | items | done
        self.done = False

    def feed(self, data: bytes, final: bool = False) -> None:
        self._buf = self._buf[self._pos :] + self._utf8.decode(data, final)
        self._pos = 0
        while self._step(final):
            pass
        if final and self._state != "done":
            raise ListParseError("the list body ended early")

    def _skip(self) -> str:
        buf, pos = self._buf, self._pos
        while pos < len(buf) and buf[pos] in _WS:
            pos += 1
        self._pos = pos
        return buf[pos] if pos < len(buf) else ""

    def _value(self, final: bool) -> tuple[bool, Any]:
        """(True, value) decoded at the position, or (False, None) when it is not complete."""
        try:
            value, end = self._scan(self._buf, self._pos)
        except json.JSONDecodeError as e:
            if final or len(self._buf) - self._pos > MAX_ITEM:
                raise ListParseError(f"invalid list body: {e}") from None
            return False, None
        if not final and end == len(self._buf) and isinstance(value, int | float):
            return False, None  # a number at the end of the text may go on in the next chunk
        self._pos = end
        return True, value

    def _step(self, final: bool) -> bool:
        """One token or value; False when more text is needed (or the body is done)."""
        ch = self._skip()
        if not ch:
            return False
        state = self._state
        if state == "start":
            if ch != "{":
                raise ListParseError(f"a list body starts with '{{', not {ch!r}")
            self._pos += 1
            self._state = "key"
            return True
        if state == "done":
            raise ListParseError("text after the end of the list body")
        if ch == ",":
            self._pos += 1
            return True
        if state == "key":
            if ch == "}":
                self._pos += 1
                self._state = "done"
                self.done = True
                return True
            return self._member(final)
        if ch == "]":  # state == "items"
            self._pos += 1
            self._state = "key"
            return True
        ok, item = self._value(final)
        if ok:
            if not isinstance(item, dict):
                raise ListParseError("an item of the list is not an object")
            self.items.append(self.convert(item))
        return ok

    def _member(self, final: bool) -> bool:
        start = self._pos
        ok, key = self._value(final)
        if not ok:
            return False
        if self._skip() != ":":
            if not self._buf[self._pos :] and not final:
                self._pos = start  # the colon is still on its way
                return False
            raise ListParseError(f"expected ':' after {key!r}")
        self._pos += 1
        if key == "items":
            ch = self._skip()
            if not ch and not final:
                self._pos = start
                return False
            if ch == "[":
                self._pos += 1
                self._state = "items"
                return True
            if self._buf.startswith("null", self._pos):
                self._pos += 4
                return True
            raise ListParseError("items is not an array")
        self._skip()
        ok, value = self._value(final)
        if not ok:
            self._pos = start
            return False
        self.fields[str(key)] = value
        return True


def parse_chunks(chunks: queue.SimpleQueue[bytes | None], parser: ListParser[T]) -> ListParser[T]:
    """Feed a parser from a queue until None (run in a thread, beside the reader)."""
    while True:
        data = chunks.get()
        if data is None:
            parser.feed(b"", final=True)
            return parser
        parser.feed(data)


async def stream_list(resp: Any, convert: Callable[[dict[str, Any]], T]) -> tuple[list[T], str]:
    """A list response (aiohttp, from a `*_without_preload_content` call) -> its converted
    items and resourceVersion, parsed while it streams in: the chunks are read here (the
    event loop) and decoded item by item in a thread."""
    if not 200 <= resp.status < 300:
        await read_body(resp)  # raises the server's error as a KubeError
    parser: ListParser[T] = ListParser(convert)
    chunks: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    work = asyncio.ensure_future(asyncio.to_thread(parse_chunks, chunks, parser))
    try:
        async for data in resp.content.iter_chunked(LIST_CHUNK):
            if work.done():
                break  # the parser failed: its error is raised below
            chunks.put(data)
            while chunks.qsize() > LIST_QUEUED and not work.done():
                await asyncio.sleep(0.005)
    finally:
        chunks.put(None)
        resp.release()
    await work
    meta = parser.fields.get("metadata")
    rv = str(meta.get("resourceVersion") or "") if isinstance(meta, dict) else ""
    return parser.items, rv
