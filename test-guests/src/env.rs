//! `/env`: reports what the guest can see of its environment, one line each:
//! `vars=<count>`, `args=<count>`, `read_dir=<ok|err: ...>` for `/`,
//! `tcp=<ok|err: ...>` for a connection to `127.0.0.1:1`.

use push_guest::{Caller, Request, Response};

pub fn run(_request: Request, caller: &Caller) {
    let vars = std::env::vars_os().count();
    let args = std::env::args_os().count();
    let read_dir = describe(std::fs::read_dir("/"));
    let tcp = describe(std::net::TcpStream::connect("127.0.0.1:1"));
    let body = format!("vars={vars}\nargs={args}\nread_dir={read_dir}\ntcp={tcp}\n");
    crate::support::respond(caller, Response::text(body));
}

fn describe<T>(result: std::io::Result<T>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(err) => format!("err: {err}"),
    }
}
