//! `/echo`: responds `200` with the request body as
//! `application/octet-stream` and `x-body-len: <len>`.

use push_guest::{Caller, Request, Response};

pub fn run(request: Request, caller: &Caller) {
    let body = request.into_body();
    let len = body.len().to_string();
    crate::support::respond(caller, Response::bytes(body).with_header("x-body-len", len));
}
