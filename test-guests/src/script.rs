//! `/script`: runs the calls its JSON body lists, in order, and prints each
//! one's answer to stderr as `script: CALL: ok` or `script: CALL: ERROR`
//! (CALL as `push_guest::testing::Call::describe` says it). The same code
//! runs natively under `push_guest::testing`, so the test below feeds both
//! the same cases and compares the answers: the host and the simulation
//! apply the same rules.
//!
//! Steps: `{"promise": PATH, "method"?: M, "headers"?: [[N, V]]}`,
//! `{"respond": STATUS, "headers"?: .., "body"?: TEXT}`,
//! `{"push": STEP, "status"?: S, "headers"?: ..}` (the promise made at step
//! STEP), `{"await_refused": STEP}` (waits until the client has reset that
//! promise).

use std::collections::HashMap;

use push_guest::{Caller, Promised, PushPromise, Request, Response};
use serde_json::Value;

fn headers(step: &Value) -> Vec<(String, String)> {
    step["headers"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|h| {
                    (
                        h[0].as_str().unwrap_or("").to_string(),
                        h[1].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn say(call: String, result: Result<(), push_guest::Error>) {
    match result {
        Ok(()) => eprintln!("script: {call}: ok"),
        Err(e) => eprintln!("script: {call}: {e}"),
    }
}

pub fn run(request: Request, caller: &Caller) {
    let steps: Vec<Value> = serde_json::from_slice(request.body()).unwrap_or_default();
    let mut promised: HashMap<usize, Promised> = HashMap::new();
    for (i, step) in steps.iter().enumerate() {
        if let Some(path) = step["promise"].as_str() {
            let mut p = PushPromise::new(step["method"].as_str().unwrap_or("GET"), path);
            for (name, value) in headers(step) {
                p = p.with_header(name, value);
            }
            let result = caller.promise(p);
            say(
                format!("promise {path}"),
                result.as_ref().map(|_| ()).map_err(Clone::clone),
            );
            if let Ok(p) = result {
                promised.insert(i, p);
            }
        } else if let Some(status) = step["respond"].as_u64() {
            let mut r = Response::new(status as u16).with_body(step["body"].as_str().unwrap_or("").as_bytes().to_vec());
            for (name, value) in headers(step) {
                r = r.with_header(name, value);
            }
            say(format!("respond {status}"), caller.respond(r));
        } else if let Some(of) = step["push"].as_u64() {
            let Some(p) = promised.remove(&(of as usize)) else {
                eprintln!("script: push of step {of}: no promise");
                continue;
            };
            let status = step["status"].as_u64().unwrap_or(200) as u16;
            let mut r = Response::new(status).with_body(b"pushed".to_vec());
            for (name, value) in headers(step) {
                r = r.with_header(name, value);
            }
            let path = p.path();
            say(format!("push {path} {status}"), caller.push(p, r));
        } else if let Some(of) = step["await_refused"].as_u64()
            && let Some(p) = promised.get(&(of as usize))
        {
            while !p.is_refused() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }
}

/// The same cases through push-host (`push-host call` on the built
/// component: the host's rules, a real h2 client) and natively through
/// `push_guest::testing`: the answers must be the same, call for call.
/// Needs `target/debug/push-host` and the built guest (scripts/test.sh
/// builds both first). Broken on purpose (the simulation's promise limit
/// off by one, or `respond` twice allowed by the host): the case names the
/// first call whose answers differ.
#[cfg(test)]
mod tests {
    use push_guest::testing::{self, Client};
    use serde_json::json;

    fn target_dir() -> std::path::PathBuf {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(Into::into)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
    }

    /// The answers push-host gave, as the guest printed them.
    fn through_the_host(steps: &serde_json::Value, args: &[&str]) -> Vec<String> {
        let host = target_dir().join("debug/push-host");
        let guest = target_dir().join("wasm32-wasip2/release/test_guests.wasm");
        assert!(
            host.exists() && guest.exists(),
            "build push-host and the guests first (scripts/test.sh)"
        );
        let out = std::process::Command::new(host)
            .args([
                "call",
                "--module",
                guest.to_str().unwrap(),
                "-X",
                "POST",
                "-d",
                &steps.to_string(),
            ])
            .args(args)
            .arg("/script")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter_map(|l| l.split_once(" stderr: ").map(|(_, said)| said.to_string()))
            .filter(|l| l.starts_with("script: "))
            .collect()
    }

    /// The answers the simulation gave.
    fn natively(steps: &serde_json::Value, client: &Client) -> Vec<String> {
        let request = push_guest::Request::new("POST", "/script").with_body(steps.to_string());
        let outcome = testing::run::<crate::TestGuests>(request, client);
        outcome
            .calls
            .iter()
            .map(|(call, result)| match result {
                Ok(()) => format!("script: {}: ok", call.describe()),
                Err(e) => format!("script: {}: {e}", call.describe()),
            })
            .collect()
    }

    #[test]
    fn the_host_and_push_guest_testing_answer_every_call_alike() {
        let bad_headers = [
            json!([["x-ok", " padded"]]),
            json!([["connection", "close"]]),
            json!([["te", "gzip"]]),
            json!([["content-length", "0"]]),
            json!([[":path", "/"]]),
            json!([["bad name", "x"]]),
            json!([["x-ok", "a\nb"]]),
        ];
        let mut cases: Vec<(&str, serde_json::Value, Vec<&str>, Client)> = vec![
            (
                "promise, respond, push",
                json!([{"promise": "/a"}, {"promise": "/b", "method": "HEAD"}, {"respond": 200, "body": "main"}, {"push": 0}, {"push": 1}]),
                vec![],
                Client::new(),
            ),
            (
                "a push before the response",
                json!([{"promise": "/a"}, {"push": 0}, {"respond": 200}]),
                vec![],
                Client::new(),
            ),
            (
                "invalid promises",
                json!([{"promise": "/x", "method": "POST"}, {"promise": "x"}, {"promise": "/x#frag"}, {"promise": "/x y"}, {"promise": "/ok"}, {"respond": 200}]),
                vec![],
                Client::new(),
            ),
            (
                "the order of calls",
                json!([{"respond": 200}, {"respond": 200}, {"promise": "/late"}]),
                vec![],
                Client::new(),
            ),
            (
                "invalid responses, then a valid one",
                json!([{"respond": 99}, {"respond": 600}, {"respond": 200, "headers": [["content-length", "9"]], "body": "x"}, {"respond": 200, "headers": [["content-length", "+1"]], "body": "x"}, {"respond": 204}]),
                vec![],
                Client::new(),
            ),
            (
                "invalid pushes",
                json!([{"promise": "/a"}, {"promise": "/b"}, {"respond": 200}, {"push": 0, "status": 700}, {"push": 1, "headers": [["upgrade", "h2c"]]}]),
                vec![],
                Client::new(),
            ),
            (
                "the per-request promise limit",
                json!([{"promise": "/a"}, {"promise": "/b"}, {"promise": "/c"}, {"respond": 200}]),
                vec!["--max-pushes", "2"],
                Client::new().max_pushes(2),
            ),
            (
                "push off",
                json!([{"promise": "/a"}, {"promise": "/a"}, {"promise": "/x", "method": "POST"}, {"respond": 200}]),
                vec!["--no-push"],
                Client::new().push(false),
            ),
            (
                "push off and the limit (early hints count)",
                json!([{"promise": "/a"}, {"promise": "/b"}, {"promise": "/c"}, {"respond": 200}]),
                vec!["--no-push", "--max-pushes", "2"],
                Client::new().push(false).max_pushes(2),
            ),
            (
                "the push diary",
                json!([{"promise": "/a"}, {"promise": "/a"}, {"promise": "/script"}, {"respond": 200}, {"push": 0}]),
                vec![],
                Client::new(),
            ),
            (
                "a promise the client refuses",
                json!([{"promise": "/a"}, {"promise": "/b"}, {"respond": 200}, {"await_refused": 0}, {"push": 0}, {"push": 1}]),
                vec!["--refuse", "/a"],
                Client::new().refuse("/a"),
            ),
        ];
        for headers in &bad_headers {
            cases.push((
                "a header the rules refuse",
                json!([{"promise": "/a", "headers": headers}, {"respond": 200, "headers": headers}, {"respond": 200}]),
                vec![],
                Client::new(),
            ));
        }
        for (name, steps, args, client) in &cases {
            let host = through_the_host(steps, args);
            let native = natively(steps, client);
            assert!(!host.is_empty(), "{name}: the host's guest printed nothing");
            assert_eq!(host, native, "{name}: {steps}");
        }
    }
}
