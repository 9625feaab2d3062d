//! Runs the built `push-bench` against a tiny in-test h2c server that answers
//! every GET with a body and pushes three small responses.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use tokio::net::TcpListener;
use tokio::process::Command;

const PUSHES: usize = 3;

/// Starts the server on 127.0.0.1:0; returns its address.
///
/// Each connection answers its requests one at a time on its own task, with
/// no await in between: `h2` writes the queues of different streams
/// round-robin, so two parents promising at once could put promised ids on
/// the wire out of order (a connection error for the client). Here, by the
/// time `accept` yields the next request it has flushed the previous one.
async fn start_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(tcp).await else {
                    return;
                };
                while let Some(Ok((request, respond))) = conn.accept().await {
                    answer(&request, respond);
                }
            });
        }
    });
    addr
}

/// Promises `/push{1..3}.json`, answers, then answers the pushes.
fn answer(request: &Request<h2::RecvStream>, mut respond: h2::server::SendResponse<Bytes>) {
    let authority = request.uri().authority().map_or("localhost", |a| a.as_str());
    let mut pushed = Vec::new();
    for i in 1..=PUSHES {
        let promised = Request::get(format!("http://{authority}/push{i}.json"))
            .body(())
            .unwrap();
        match respond.push_request(promised) {
            Ok(p) => pushed.push((i, p)),
            Err(_) => return,
        }
    }
    let Ok(mut body) = respond.send_response(Response::new(()), false) else {
        return;
    };
    let _ = body.send_data(Bytes::from(format!("{{\"index\":\"{}\"}}", request.uri().path())), true);
    for (i, mut p) in pushed {
        let Ok(mut body) = p.send_response(Response::new(()), false) else {
            return;
        };
        let _ = body.send_data(Bytes::from(format!("{{\"push\":{i}}}")), true);
    }
}

/// Runs push-bench with `args` against `addr`; returns (exit code, JSON).
async fn push_bench(addr: std::net::SocketAddr, args: &[&str]) -> (i32, serde_json::Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_push-bench"))
        .args(args)
        .arg(format!("http://{addr}/index.json"))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("push-bench finished within 60 s")
        .expect("push-bench ran");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "stdout is one JSON object ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().expect("exit code"), json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_requests_with_three_pushes() {
    let addr = start_server().await;
    let (code, json) = push_bench(addr, &["-n", "200", "-c", "2", "-m", "4", "--pushes", "3", "--json"]).await;
    assert_eq!(json["requests"], 200, "{json}");
    assert_eq!(json["errors"], 0, "{json}");
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["pushes_per_request"], 3);
    assert_eq!(json["connections"], 2);
    assert_eq!(json["streams_per_connection"], 4);
    assert!(json["requests_per_sec"].as_f64().unwrap() > 0.0, "{json}");
    assert!(json["pushes_per_sec"].as_f64().unwrap() > 0.0, "{json}");
    assert!(json["server_cpu_us_per_request"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extra_push_is_an_error() {
    let addr = start_server().await;
    let (code, json) = push_bench(addr, &["-n", "200", "-c", "2", "-m", "4", "--pushes", "2", "--json"]).await;
    assert_eq!(code, 1, "{json}");
    assert!(json["errors"].as_u64().unwrap() > 0, "{json}");
    assert!(json["errors_by_kind"]["extra_push"].as_u64().unwrap() > 0, "{json}");
    assert_eq!(json["errors_by_kind"]["connection"], 0, "{json}");
    assert_eq!(json["requests"], 0, "{json}");
}
