"""push_guest: `push:handler@0.1.0` handlers in Python (componentize-py),
shaped like the Rust SDK (`guest-sdk/src`).

    import sys
    from push_guest import Caller, PushError, Request, Response, export

    def handle(request: Request, caller: Caller) -> None:
        try:
            css = caller.promise("/style.css")
        except PushError as e:            # e.g. PushDisabled; str(e) as the Rust SDK's Display
            print(f"no push: {e}", file=sys.stderr)
            css = None
        caller.respond(Response.text("<link rel=stylesheet href=/style.css>", content_type="text/html"))
        if css is not None:
            caller.push(css, Response.text("h1 { color: teal; }", content_type="text/css"))

    Handler = export(handle)              # componentize-py exports the class named `Handler`

Build with `componentize-py -d wit -w service componentize -p APP_DIR -p
guest-sdk/python app -o app.wasm` (the second `-p` puts this package on the
path). Every `Caller` call raises a `PushError` subclass named after the WIT
`error` case: `PushDisabled`, `Refused`, `Invalid`, `AlreadyResponded`,
`Closed`, `LimitExceeded`; `e.kind` is the case name (`"push-disabled"`),
`str(e)` is `"kind: meaning"` exactly as the Rust SDK's `Error` displays
it, `e.message` the part after `"kind: "`. An exception that escapes
`handle` traps the instance (the client gets 500, the log the traceback).

`push_guest.p3` has the same errors and response builders for
`wasi:http@0.3` handlers that push through `push:handler@0.2.0`.
"""

import json as _json
from typing import Any, Callable, Iterable, Mapping, Optional, Union

try:
    # The bindings componentize-py generates for the world `service` of
    # `push:handler@0.1.0`. Absent from a 0.3 build (`push_guest.p3`), which
    # only shares the errors and helpers below.
    from wit_world import exports as _exports
    from wit_world.imports import caller as _caller
    from wit_world.imports import types as _types
except ImportError:  # pragma: no cover - a world without `push:handler/caller@0.1.0`
    _exports = _caller = _types = None

__all__ = [
    "AlreadyResponded",
    "Caller",
    "Closed",
    "Invalid",
    "LimitExceeded",
    "Promised",
    "PushDisabled",
    "PushError",
    "Refused",
    "Request",
    "Response",
    "export",
]

HeaderValue = Union[str, bytes, bytearray, memoryview]
Headers = Union[Mapping[str, HeaderValue], Iterable["tuple[str, HeaderValue]"], None]
Body = Union[str, bytes, bytearray, memoryview, None]


# ---------------------------------------------------------------- errors


class PushError(Exception):
    """Why the host refused a `Caller` call: one subclass per case of the
    WIT `error` variant. `kind` is the case name, `message` what it means
    (or the host's reason, for `Invalid` and `LimitExceeded`), and
    `str(e)` is `"kind: message"`, as the Rust SDK prints its `Error`."""

    kind = "error"
    #: The message of a case that carries none (the Rust SDK's wording).
    meaning = ""

    def __init__(self, message: Optional[str] = None):
        self.message = self.meaning if message is None else message
        super().__init__(f"{self.kind}: {self.message}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class PushDisabled(PushError):
    """The client disabled server push (SETTINGS_ENABLE_PUSH = 0)."""

    kind = "push-disabled"
    meaning = "the client disabled server push"


class Refused(PushError):
    """The client reset or refused the promised stream (or, from `promise`,
    already has that path on this connection)."""

    kind = "refused"
    meaning = "the client reset or refused the promised stream"


class Invalid(PushError):
    """A malformed status, method, path or header; nothing was sent."""

    kind = "invalid"


class AlreadyResponded(PushError):
    """The main response was already sent."""

    kind = "already-responded"
    meaning = "the main response was already sent"


class Closed(PushError):
    """The stream or connection is closed, or the response has ended."""

    kind = "closed"
    meaning = "the stream or connection is closed"


class LimitExceeded(PushError):
    """A push limit was reached (per request, or the client's
    concurrent-stream limit)."""

    kind = "limit-exceeded"


_CASES = {
    "Error_PushDisabled": PushDisabled,
    "Error_Refused": Refused,
    "Error_Invalid": Invalid,
    "Error_AlreadyResponded": AlreadyResponded,
    "Error_Closed": Closed,
    "Error_LimitExceeded": LimitExceeded,
}


def error_from_wit(value: Any, closed: Optional[str] = None) -> PushError:
    """The `PushError` for a WIT `error` value (`Error_PushDisabled()`,
    `Error_Invalid("...")`, ...), the `.value` of the `componentize_py_types.Err`
    a raw binding raises. `closed` overrides `Closed`'s meaning (0.2.0's
    wording differs)."""
    cls = _CASES.get(type(value).__name__)
    if cls is None:
        return PushError(repr(value))
    message = getattr(value, "value", None)
    if message is None and cls is Closed:
        message = closed
    return cls(message)


def _wit_call(f: Callable, *args: Any, closed: Optional[str] = None) -> Any:
    """`f(*args)`, with a WIT `error` raised as its `PushError`."""
    from componentize_py_types import Err

    try:
        return f(*args)
    except Err as e:
        raise error_from_wit(e.value, closed) from None


# ---------------------------------------------------------------- headers and bodies


def to_bytes(value: Body) -> bytes:
    """A body or header value as bytes: `str` is encoded as UTF-8."""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


def header_fields(headers: Headers) -> "list[tuple[str, bytes]]":
    """Header fields as the WIT wants them: lowercase names, byte values.
    `headers` is a mapping or an iterable of `(name, value)` pairs; a value
    is `str` (UTF-8) or bytes."""
    if headers is None:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [(name.lower(), to_bytes(value)) for name, value in pairs]


def _find(headers: "list[tuple[str, bytes]]", name: str) -> Optional[bytes]:
    name = name.lower()
    return next((value for n, value in headers if n == name), None)


def _as_str(value: Optional[bytes]) -> Optional[str]:
    if value is None:
        return None
    try:
        return value.decode()
    except UnicodeDecodeError:
        return None


def json_bytes(value: Any) -> bytes:
    """`value` as compact JSON, UTF-8 (what `serde_json::to_vec` writes)."""
    return _json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# ---------------------------------------------------------------- request and response


class Request:
    """The request `handle` is called with, fully buffered. Header names are
    lowercase; lookups by name ignore case. `Request(method, path, ...)`
    builds one for unit tests."""

    __slots__ = ("method", "scheme", "authority", "path", "headers", "body")

    def __init__(
        self,
        method: str = "GET",
        path: str = "/",
        *,
        scheme: str = "http",
        authority: str = "",
        headers: Headers = None,
        body: Body = b"",
    ):
        self.method = method
        self.scheme = scheme
        self.authority = authority
        #: Path and query, as received (`:path`), e.g. "/spin-ms?ms=5".
        self.path = path
        #: Every header field in order: (lowercase name, bytes value).
        self.headers = header_fields(headers)
        self.body = to_bytes(body)

    @classmethod
    def from_wit(cls, raw: Any) -> "Request":
        """The view of a raw `wit_world.imports.types.Request`."""
        request = cls(raw.method, raw.path, scheme=raw.scheme, authority=raw.authority)
        request.headers = list(raw.headers)
        request.body = bytes(raw.body)
        return request

    @property
    def path_only(self) -> str:
        """The path without the query string, e.g. "/spin-ms"."""
        return self.path.split("?", 1)[0]

    @property
    def query(self) -> Optional[str]:
        """The query string without the "?", if there is one, e.g. "ms=5"."""
        parts = self.path.split("?", 1)
        return parts[1] if len(parts) == 2 else None

    def query_param(self, name: str) -> Optional[str]:
        """The raw value of the first `name=value` pair of the query (a pair
        without "=" has the value ""); no percent-decoding."""
        query = self.query
        if query is None:
            return None
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            if key == name:
                return value
        return None

    def header(self, name: str) -> Optional[str]:
        """The first value of the header `name` (ignoring case) as text, or
        None if it is absent or not UTF-8 (see `header_bytes`)."""
        return _as_str(_find(self.headers, name))

    def header_bytes(self, name: str) -> Optional[bytes]:
        """The first value of the header `name` (ignoring case), raw."""
        return _find(self.headers, name)

    def text(self) -> str:
        """The body as UTF-8 text (raises UnicodeDecodeError)."""
        return self.body.decode()

    def json(self) -> Any:
        """The body parsed as JSON (raises ValueError)."""
        return _json.loads(self.body)

    def __repr__(self) -> str:
        return f"Request({self.method!r}, {self.path!r})"


class Response:
    """A response: status, header fields and a buffered body. Sent with
    `caller.respond` or `caller.push`. Names are lowercased, `str` values
    and bodies encoded as UTF-8; the host validates the rest (`Invalid`)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int = 200, headers: Headers = None, body: Body = b""):
        self.status = status
        #: Every header field in order: (lowercase name, bytes value).
        self.headers = header_fields(headers)
        self.body = to_bytes(body)

    @classmethod
    def json(cls, value: Any, status: int = 200) -> "Response":
        """`value` as compact JSON, with `content-type: application/json`."""
        return cls(status, [("content-type", b"application/json")], json_bytes(value))

    @classmethod
    def text(
        cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8"
    ) -> "Response":
        """A UTF-8 text body, `content-type: text/plain; charset=utf-8` by default."""
        return cls(status, [("content-type", content_type)], text)

    @classmethod
    def bytes(
        cls, body: Body, status: int = 200, content_type: str = "application/octet-stream"
    ) -> "Response":
        """A binary body, `content-type: application/octet-stream` by default."""
        return cls(status, [("content-type", content_type)], body)

    def with_header(self, name: str, value: HeaderValue) -> "Response":
        """Appends a header field (earlier ones of that name are kept);
        returns this response, so calls chain."""
        self.headers.append((name.lower(), to_bytes(value)))
        return self

    def with_content_type(self, content_type: HeaderValue) -> "Response":
        """Sets `content-type`, replacing any earlier one; returns this response."""
        self.headers = [(n, v) for n, v in self.headers if n != "content-type"]
        return self.with_header("content-type", content_type)

    def with_status(self, status: int) -> "Response":
        """Replaces the status; returns this response."""
        self.status = status
        return self

    def header(self, name: str) -> Optional[str]:
        """The first value of the header `name` (ignoring case) as text."""
        return _as_str(_find(self.headers, name))

    def to_wit(self) -> Any:
        """The raw `wit_world.imports.types.Response`."""
        return _types.Response(self.status, list(self.headers), self.body)

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.headers!r}, {len(self.body)} bytes)"


# ---------------------------------------------------------------- caller


class Promised:
    """A promised stream, answered by `caller.push`. Dropped unanswered, the
    host resets it with CANCEL."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Any):
        self._raw = raw

    @property
    def path(self) -> str:
        """The promised path."""
        return self._raw.path()

    def is_refused(self) -> bool:
        """Whether the client has already reset this stream (`push` would
        raise `Refused`); never blocks."""
        return self._raw.is_refused()

    def __repr__(self) -> str:
        return f"Promised({self.path!r})"


class Caller:
    """The handler's side of one request: promises, the main response and
    the pushed responses. Each call raises a `PushError` subclass."""

    __slots__ = ()

    def promise(self, path: str, method: str = "GET", headers: Headers = None) -> Promised:
        """Sends a PUSH_PROMISE for `method path` (a `GET` or `HEAD` on the
        request's origin)."""
        raw = _types.PushPromise(method, path, header_fields(headers))
        return Promised(_wit_call(_caller.promise, raw))

    def respond(self, response: Response) -> None:
        """Sends the main response."""
        _wit_call(_caller.respond, response.to_wit())

    def push(self, promised: Promised, response: Response) -> None:
        """Answers `promised` with `response`; consumes the promise whatever
        the outcome (on an error its stream is reset with CANCEL)."""
        _wit_call(_caller.push, promised._raw, response.to_wit())


def export(handle: Callable[[Request, Caller], None]) -> type:
    """The class componentize-py exports for `handle(request, caller)`;
    bind it to the name `Handler` in the app module:

        Handler = export(handle)
    """
    bases = (_exports.Handler,) if _exports is not None else ()

    def handle_raw(self: Any, request: Any) -> None:
        handle(Request.from_wit(request), Caller())

    namespace = {
        "handle": handle_raw,
        "__doc__": handle.__doc__,
        "__module__": getattr(handle, "__module__", __name__),
        "__qualname__": "Handler",
    }
    return type("Handler", bases, namespace)
