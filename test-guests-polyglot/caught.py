"""A test guest for push_guest (guest-sdk/python): provokes every caller
error a request can meet and logs which class caught it, for
tests/polyglot.rs (`the_helpers_raise_each_error_as_its_class`; the host
runs with `--max-pushes 2`). caught.js is the same in JavaScript.

`?push=off` (the client has push off): promise -> PushDisabled. Otherwise:
promise POST -> Invalid, /one twice -> Refused (the push diary), a third
push -> LimitExceeded, respond twice -> AlreadyResponded, promise after
respond -> Closed; then /one and /two are pushed.
"""

import sys

from push_guest import (
    AlreadyResponded,
    Caller,
    Closed,
    Invalid,
    LimitExceeded,
    PushDisabled,
    PushError,
    Refused,
    Request,
    Response,
    export,
)


def expect(step, cls, call):
    """Runs `call`, which should raise `cls`; logs how it went."""
    try:
        call()
    except cls as e:
        base = "a PushError" if isinstance(e, PushError) and isinstance(e, Exception) else "not a PushError"
        print(f"caught {step}: {cls.__name__} ({e.kind}, {base}): {e}", file=sys.stderr)
    except PushError as e:
        print(f"wrong class {step}: {type(e).__name__}: {e}", file=sys.stderr)
    else:
        print(f"no error {step}", file=sys.stderr)


def handle(request: Request, caller: Caller) -> None:
    if request.query_param("push") == "off":
        expect("promise", PushDisabled, lambda: caller.promise("/one"))
        caller.respond(Response.text("push off\n"))
        return
    expect("promise POST", Invalid, lambda: caller.promise("/one", method="POST"))
    one = caller.promise("/one")
    expect("promise /one again", Refused, lambda: caller.promise("/one"))
    two = caller.promise("/two")
    expect("third promise", LimitExceeded, lambda: caller.promise("/three"))
    caller.respond(Response.text("caught\n").with_header("x-guest", b"python"))
    expect("respond again", AlreadyResponded, lambda: caller.respond(Response.text("again\n")))
    expect("promise after respond", Closed, lambda: caller.promise("/four"))
    caller.push(one, Response.text("one\n"))
    caller.push(two, Response.bytes(b"two\n"))


Handler = export(handle)
