//! `/info`: responds `200` with the request as JSON: `method`, `scheme`,
//! `authority`, `path`, `headers` (`[[name, value], ...]`, values as lossy
//! UTF-8) and `body_len`.

use push_guest::{Caller, Request, Response};
use serde_json::json;

pub fn run(request: Request, caller: &Caller) {
    let headers: Vec<(&str, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), String::from_utf8_lossy(value).into_owned()))
        .collect();
    let info = json!({
        "method": request.method(),
        "scheme": request.scheme(),
        "authority": request.authority(),
        "path": request.path(),
        "headers": headers,
        "body_len": request.body().len(),
    });
    crate::support::respond(caller, Response::json(&info));
}
