"""{{name}}: a push-host handler in Python.

It promises the page's stylesheet, sends the page, then pushes the
stylesheet, so the client has it before it asks for it. `push_guest` (the
folder beside this file) wraps the bindings componentize-py generates.
"""

import sys

from push_guest import Caller, PushError, Request, Response, export

STYLE = Response.text("h1 { color: rebeccapurple }\n", content_type="text/css")


def handle(request: Request, caller: Caller) -> None:
    if request.path_only == "/style.css":
        # A client that did not take the push asks for it.
        caller.respond(STYLE)
        return
    # Promise first: the client learns of the stylesheet before the page.
    try:
        style = caller.promise("/style.css")
    except PushError as e:
        print(f"no push of /style.css: {e}", file=sys.stderr)
        style = None
    page = "<!doctype html><link rel=stylesheet href=/style.css><h1>Hello from {{name}}</h1>\n"
    caller.respond(Response.text(page, content_type="text/html"))
    if style is not None:
        try:
            caller.push(style, STYLE)
        except PushError as e:
            print(f"the stylesheet was not pushed: {e}", file=sys.stderr)


Handler = export(handle)
