"""The HTTP/1.1 protocol uvicorn runs for revise: httptools, with a bound on the request head.

uvicorn's pure-Python h11 protocol was about a third of the event loop's time per request on the
deadline-day load of issue #11; httptools (llhttp, C) parses the same requests in a fraction of
that. But uvicorn's httptools protocol has no bound like h11's `h11_max_incomplete_event_size`:
httptools keeps the pieces of a header line until the line ends, so one client sending an endless
header (or thousands of them) could make a worker hold any amount of memory — the guard of
issue #10 that h11 gave. This subclass puts it back:

- every byte that arrives while a request head is awaited or being read counts towards the
  head, so an unfinished head is cut off once more than `max_head_bytes` have come (memory held
  stays under the bound plus one read);
- the head as parsed (target and header lines) is measured exactly as well, so a head that
  arrives in one piece together with its body is judged by its own size, not the body's.

A head over the bound is answered `431 Request Header Fields Too Large` and the connection closed.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Request line and headers larger than this are refused (the bound h11 applied before).
MAX_HEAD_BYTES = 16 * 1024

_ANSWER = "请求头过大。Request headers too large.\n".encode()


class HeadTooLarge(Exception):
    """Raised inside a parser callback: httptools stops and uvicorn answers (see send_400_response)."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = MAX_HEAD_BYTES

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True  # between requests or inside a head: what arrives is head
        self._arrived = 0  # bytes arrived since the current head began to be awaited
        self._parsed = 0  # size of the current head as parsed so far
        self._too_large = False

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._arrived += len(data)
        super().data_received(data)
        if self._reading_head and self._arrived > self.max_head_bytes and not self._too_large:
            self._refuse()

    # Parser callbacks: the head as parsed, measured exactly.
    def on_message_begin(self) -> None:
        self._parsed = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # "name: value\r\n"
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._reading_head, self._arrived, self._parsed = True, 0, 0
        super().on_message_complete()

    def _count(self, size: int) -> None:
        self._parsed += size
        if self._parsed > self.max_head_bytes:
            self._too_large = True
            raise HeadTooLarge()  # httptools turns it into a parser error, uvicorn answers 400: see below

    def send_400_response(self, msg: str) -> None:
        if self._too_large:
            self._refuse()
        else:
            super().send_400_response(msg)

    def _refuse(self) -> None:
        self._too_large = True
        if self.transport.is_closing():
            return
        self.transport.write(b"".join([
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(_ANSWER),
            b"connection: close\r\n\r\n",
            _ANSWER,
        ]))
        self.transport.close()
