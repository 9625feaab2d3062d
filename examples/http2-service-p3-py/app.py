"""The seed service (Ballerina's `http_2.0_service.bal`) in Python, as a
standard `wasi:http/service@0.3.0` handler that may push
(`push:handler/service@0.2.0`).

For every request the handler takes the request's pusher, promises GET
/resource1, /resource2 and /resource3, pushes each promised resource as
{"push":{"name":"resourceN"}} (push-host sends them after the main
response's head), and returns {"response":{"name":"main resource"}}. A
failure is printed to stderr (the host's log) and a resource whose promise
failed is not pushed. Same behaviour as examples/http2-service-p3 (Rust).

Uses `push_guest.p3` (guest-sdk/python): `Pusher` and `Promised` raise
`push_guest`'s error classes, and `Response.json` builds a 0.3 response
whose `stream<u8>` body a task writes once the host reads it.

Build: examples/http2-service-p3-py/build.sh (componentize-py against
wit/0.2.0).
"""

import sys
from typing import Optional

from push_guest import PushError
from push_guest.p3 import Promised, Pusher, Response
from wit_world import exports
from wit_world.imports.wasi_http_types import Request
from wit_world.imports.wasi_http_types import Response as HttpResponse

RESOURCES = ["resource1", "resource2", "resource3"]


class Handler(exports.Handler):
    async def handle(self, request: Request) -> HttpResponse:
        try:
            pusher: Optional[Pusher] = Pusher.for_request(request)
            pusher_error = None
        except PushError as e:
            pusher, pusher_error = None, e

        # Send a push promise for each resource.
        promises: list[Optional[Promised]] = []
        for i, name in enumerate(RESOURCES, start=1):
            try:
                if pusher is None:
                    raise pusher_error
                promises.append(pusher.promise(f"/{name}"))
            except PushError as e:
                print(f"Error occurred while sending the promise{i}: {e}", file=sys.stderr)
                promises.append(None)

        # Push each promised resource (it follows the main response).
        for i, (name, promised) in enumerate(zip(RESOURCES, promises), start=1):
            if promised is None:
                continue
            try:
                promised.push(Response.json({"push": {"name": name}}))
            except PushError as e:
                print(f"Error occurred while sending the promised response{i}: {e}", file=sys.stderr)

        # Send the requested resource.
        return Response.json({"response": {"name": "main resource"}})
