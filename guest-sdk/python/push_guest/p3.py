"""push_guest.p3: push from a `wasi:http/service@0.3.0` handler in Python
(componentize-py), through `push:handler/push@0.2.0` (`wit/0.2.0`).

The errors are `push_guest`'s classes (0.2.0 has every case but
`already-responded`; its `closed` says "the main body has ended, or the
stream or connection is closed", as the Rust SDK's `p3::Error`). The
`Response` builders return a standard 0.3 `response` whose body a task
writes once the host reads it.

    from push_guest import PushError
    from push_guest.p3 import Pusher, Response

    class Handler(exports.Handler):
        async def handle(self, request):
            try:
                css = Pusher.for_request(request).promise("/style.css")
                css.push(Response.text("h1 { color: teal; }", content_type="text/css"))
            except PushError as e:
                print(f"no push: {e}", file=sys.stderr)
            return Response.text("<h1>hi</h1>", content_type="text/html")

Build with `componentize-py -d wit/0.2.0 -w push:handler/service@0.2.0
componentize -p APP_DIR -p guest-sdk/python app -o app.wasm`.
"""

from typing import Any

import componentize_py_async_support
import wit_world
from componentize_py_types import Ok
from wit_world.imports import push as _push
from wit_world.imports.wasi_http_types import Fields, Request
from wit_world.imports.wasi_http_types import Response as _HttpResponse

from . import (
    Body,
    Closed,
    Headers,
    Invalid,
    LimitExceeded,
    PushDisabled,
    PushError,
    Refused,
    _wit_call,
    header_fields,
    json_bytes,
    to_bytes,
)

__all__ = [
    "Closed",
    "Invalid",
    "LimitExceeded",
    "Promised",
    "PushDisabled",
    "PushError",
    "Pusher",
    "Refused",
    "Response",
]

#: What 0.2.0's `closed` means (the Rust SDK's `p3::Error::Closed`).
CLOSED = "the main body has ended, or the stream or connection is closed"


class Promised:
    """A promised stream; `push` answers it. Dropped unanswered, the host
    resets it with CANCEL."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Any):
        self._raw = raw

    @property
    def path(self) -> str:
        return self._raw.path()

    def is_refused(self) -> bool:
        """Whether the client has already reset this stream; never blocks."""
        return self._raw.is_refused()

    def push(self, response: Any) -> None:
        """Answers the promise with a 0.3 `response` (e.g. from
        `Response.json`); its body streams after the main response's head.
        Consumes the promise whatever the outcome."""
        raw, self._raw = self._raw, None
        _wit_call(_push.Promised.push, raw, response, closed=CLOSED)

    def __repr__(self) -> str:
        return f"Promised({self.path!r})" if self._raw is not None else "Promised(<pushed>)"


class Pusher:
    """The push side of one request."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Any):
        self._raw = raw

    @classmethod
    def for_request(cls, request: Request) -> "Pusher":
        """The pusher of `request` (the one `handle` was given; take it
        before the body is consumed). Raises a `PushError`."""
        return cls(_wit_call(_push.Pusher.for_request, request, closed=CLOSED))

    def promise(self, path: str, method: str = "GET", headers: Headers = None) -> Promised:
        """Sends a PUSH_PROMISE for `method path`; raises a `PushError`."""
        raw = _wit_call(self._raw.promise, method, path, header_fields(headers), closed=CLOSED)
        return Promised(raw)


async def _write_body(tx: Any, body: bytes) -> None:
    with tx:
        await tx.write_all(body)


class Response:
    """Builders of a standard 0.3 `response` with a buffered body, which
    declares its length (so its last DATA frame ends the stream)."""

    @staticmethod
    def new(status: int = 200, headers: Headers = None, body: Body = b"") -> Any:
        data = to_bytes(body)
        fields = header_fields(headers)
        fields.append(("content-length", str(len(data)).encode()))
        tx, rx = wit_world.byte_stream()
        componentize_py_async_support.spawn(_write_body(tx, data))
        # No trailers: the future's writer, dropped, sends its default `ok(none)`.
        trailers = wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future(
            lambda: Ok(None)
        )[1]
        response = _HttpResponse.new(Fields.from_list(fields), rx, trailers)[0]
        if status != 200:
            response.set_status_code(status)
        return response

    @staticmethod
    def json(value: Any, status: int = 200, headers: Headers = None) -> Any:
        """`value` as compact JSON, `content-type: application/json`."""
        return Response.new(status, [("content-type", b"application/json"), *header_fields(headers)], json_bytes(value))

    @staticmethod
    def text(
        text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8", headers: Headers = None
    ) -> Any:
        """A UTF-8 text body."""
        return Response.new(status, [("content-type", content_type), *header_fields(headers)], text)

    @staticmethod
    def bytes(
        body: Body, status: int = 200, content_type: str = "application/octet-stream", headers: Headers = None
    ) -> Any:
        """A binary body."""
        return Response.new(status, [("content-type", content_type), *header_fields(headers)], body)

