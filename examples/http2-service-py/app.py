"""The seed service (Ballerina's `http_2.0_service.bal`) in Python.

For every request the handler promises GET /resource1, /resource2 and
/resource3, sends the main response {"response":{"name":"main resource"}},
then pushes each promised resource as {"push":{"name":"resourceN"}}. A
failure is printed to stderr (the host's log) and a resource whose promise
failed is not pushed.

Uses `push_guest` (guest-sdk/python), which wraps the bindings
componentize-py generates from wit/: its errors print as the Rust SDK's.

Build: examples/http2-service-py/build.sh (componentize-py against wit/).
"""

import sys

from push_guest import Caller, PushError, Request, Response, export

RESOURCES = ["resource1", "resource2", "resource3"]


def handle(request: Request, caller: Caller) -> None:
    # Send a push promise for each resource.
    promises = []
    for i, name in enumerate(RESOURCES, start=1):
        try:
            promises.append(caller.promise(f"/{name}"))
        except PushError as e:
            print(f"Error occurred while sending the promise{i}: {e}", file=sys.stderr)
            promises.append(None)

    # Send the requested resource.
    try:
        caller.respond(Response.json({"response": {"name": "main resource"}}))
    except PushError as e:
        print(f"Error occurred while sending the response: {e}", file=sys.stderr)

    # Push each promised resource.
    for i, (name, promised) in enumerate(zip(RESOURCES, promises), start=1):
        if promised is None:
            continue
        try:
            caller.push(promised, Response.json({"push": {"name": name}}))
        except PushError as e:
            print(f"Error occurred while sending the promised response{i}: {e}", file=sys.stderr)


Handler = export(handle)
