"""The seed service (Ballerina's `http_2.0_service.bal`) in Python.

For every request the handler promises GET /resource1, /resource2 and
/resource3, sends the main response {"response":{"name":"main resource"}},
then pushes each promised resource as {"push":{"name":"resourceN"}}. A
failure is printed to stderr (the host's log) and a resource whose promise
failed is not pushed.

Build: examples/http2-service-py/build.sh (componentize-py against wit/).
"""

import json
import re
import sys

from wit_world import exports
from wit_world.imports import caller
from wit_world.imports.types import PushPromise, Request, Response
from componentize_py_types import Err

RESOURCES = ["resource1", "resource2", "resource3"]


# What each error case means, as the Rust SDK's `Display` says it.
MEANING = {
    "push-disabled": "the client disabled server push",
    "refused": "the client reset or refused the promised stream",
    "already-responded": "the main response was already sent",
    "closed": "the stream or connection is closed",
}


def describe(error: Err) -> str:
    """The WIT error as the Rust SDK prints it: the case name, then what it means."""
    value = error.value
    case = re.sub(r"(?<!^)(?=[A-Z])", "-", type(value).__name__.removeprefix("Error_")).lower()
    text = getattr(value, "value", None) or MEANING.get(case, "")
    return f"{case}: {text}"


def json_response(value) -> Response:
    body = json.dumps(value, separators=(",", ":")).encode()
    return Response(200, [("content-type", b"application/json")], body)


class Handler(exports.Handler):
    def handle(self, request: Request) -> None:
        # Send a push promise for each resource.
        promises = []
        for i, name in enumerate(RESOURCES, start=1):
            try:
                promises.append(caller.promise(PushPromise("GET", f"/{name}", [])))
            except Err as e:
                print(f"Error occurred while sending the promise{i}: {describe(e)}", file=sys.stderr)
                promises.append(None)

        # Send the requested resource.
        try:
            caller.respond(json_response({"response": {"name": "main resource"}}))
        except Err as e:
            print(f"Error occurred while sending the response: {describe(e)}", file=sys.stderr)

        # Push each promised resource.
        for i, (name, promised) in enumerate(zip(RESOURCES, promises), start=1):
            if promised is None:
                continue
            try:
                caller.push(promised, json_response({"push": {"name": name}}))
            except Err as e:
                print(f"Error occurred while sending the promised response{i}: {describe(e)}", file=sys.stderr)
