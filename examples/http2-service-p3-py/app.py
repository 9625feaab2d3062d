"""The seed service (Ballerina's `http_2.0_service.bal`) in Python, as a
standard `wasi:http/service@0.3.0` handler that may push
(`push:handler/service@0.2.0`).

For every request the handler takes the request's pusher, promises GET
/resource1, /resource2 and /resource3, pushes each promised resource as
{"push":{"name":"resourceN"}} (push-host sends them after the main
response's head), and returns {"response":{"name":"main resource"}}. A
failure is printed to stderr (the host's log) and a resource whose promise
failed is not pushed. Same behaviour as examples/http2-service-p3 (Rust).

Bodies are `stream<u8>` in 0.3: each response gets a byte stream whose
writer a spawned task fills after the response has been handed over.

Build: examples/http2-service-p3-py/build.sh (componentize-py against
wit/0.2.0).
"""

import json
import sys
from typing import Optional

import componentize_py_async_support
import wit_world
from componentize_py_async_support.streams import ByteStreamWriter
from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports.push import (
    Error,
    Error_Closed,
    Error_Invalid,
    Error_LimitExceeded,
    Error_PushDisabled,
    Error_Refused,
    Promised,
    Pusher,
)
from wit_world.imports.wasi_http_types import Fields, Request, Response

RESOURCES = ["resource1", "resource2", "resource3"]


def describe(error: Error) -> str:
    """The WIT error as the Rust SDK (`push_guest::p3::Error`) prints it."""
    match error:
        case Error_PushDisabled():
            return "push-disabled: the client disabled server push"
        case Error_Refused():
            return "refused: the client reset or refused the promised stream"
        case Error_Invalid(why):
            return f"invalid: {why}"
        case Error_Closed():
            return "closed: the main body has ended, or the stream or connection is closed"
        case Error_LimitExceeded(why):
            return f"limit-exceeded: {why}"
    return repr(error)


async def write_body(tx: ByteStreamWriter, body: bytes) -> None:
    with tx:
        await tx.write_all(body)


def json_response(value) -> Response:
    """A `200` JSON response; its body is written once the host reads it.
    It declares its length, so its last DATA frame ends the stream, as the
    0.1 seed's does."""
    body = json.dumps(value, separators=(",", ":")).encode()
    tx, rx = wit_world.byte_stream()
    componentize_py_async_support.spawn(write_body(tx, body))
    # No trailers: the future's writer, dropped, sends its default `ok(none)`.
    trailers = wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future(
        lambda: Ok(None)
    )[1]
    headers = Fields.from_list(
        [("content-type", b"application/json"), ("content-length", str(len(body)).encode())]
    )
    return Response.new(headers, rx, trailers)[0]


class Handler(exports.Handler):
    async def handle(self, request: Request) -> Response:
        try:
            pusher: Optional[Pusher] = Pusher.for_request(request)
            pusher_error = None
        except Err as e:
            pusher, pusher_error = None, e.value

        # Send a push promise for each resource.
        promises: list[Optional[Promised]] = []
        for i, name in enumerate(RESOURCES, start=1):
            try:
                if pusher is None:
                    raise Err(pusher_error)
                promises.append(pusher.promise("GET", f"/{name}", []))
            except Err as e:
                print(f"Error occurred while sending the promise{i}: {describe(e.value)}", file=sys.stderr)
                promises.append(None)

        # Push each promised resource (it follows the main response).
        for i, (name, promised) in enumerate(zip(RESOURCES, promises), start=1):
            if promised is None:
                continue
            try:
                Promised.push(promised, json_response({"push": {"name": name}}))
            except Err as e:
                print(f"Error occurred while sending the promised response{i}: {describe(e.value)}", file=sys.stderr)

        # Send the requested resource.
        return json_response({"response": {"name": "main resource"}})
