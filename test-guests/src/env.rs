//! `/env`: reports what the guest can see of its environment, one line each:
//! `vars=<count>`, `args=<count>`, `read_dir=<ok|err KIND: ...>` for `/`,
//! `tcp=<...>` for a connection to the request's own authority (the host's
//! listening address, known to accept connections), `udp=<...>` for binding a
//! UDP socket on `127.0.0.1:0`, `dns=<...>` for resolving `localhost`.
//! A last line `env=NAME=VALUE,...` lists the variables (sorted).
//! `KIND` is the `std::io::ErrorKind`, e.g. `PermissionDenied` (a denied
//! lookup reads `Uncategorized: ... Non-recoverable error`: wasmtime answers
//! it with PERMANENT_RESOLVER_FAILURE).

use std::net::{TcpStream, ToSocketAddrs, UdpSocket};

use push_guest::{Caller, Request, Response};

pub fn run(request: Request, caller: &Caller) {
    let vars = std::env::vars_os().count();
    let args = std::env::args_os().count();
    let read_dir = describe(std::fs::read_dir("/"));
    let tcp = match request.authority().parse::<std::net::SocketAddr>() {
        Ok(addr) => describe(TcpStream::connect(addr)),
        Err(_) => format!("no address in the authority {:?}", request.authority()),
    };
    let udp = describe(UdpSocket::bind("127.0.0.1:0"));
    let dns = describe(("localhost", 80).to_socket_addrs());
    let mut env: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
    env.sort();
    let env = env.join(",");
    let body = format!("vars={vars}\nargs={args}\nread_dir={read_dir}\ntcp={tcp}\nudp={udp}\ndns={dns}\nenv={env}\n");
    crate::support::respond(caller, Response::text(body));
}

fn describe<T>(result: std::io::Result<T>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(err) => format!("err {:?}: {err}", err.kind()),
    }
}
