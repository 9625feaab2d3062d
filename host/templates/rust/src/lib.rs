//! {{name}}: a push-host handler. It promises the page's stylesheet, sends
//! the page, then pushes the stylesheet, so the client has it before it
//! asks for it.

use push_guest::{Caller, Handler, PushPromise, Request, Response};

struct Service;

impl Handler for Service {
    fn handle(request: Request, caller: &Caller) {
        if request.path_only() == "/style.css" {
            // A client that did not take the push asks for it.
            caller.respond(stylesheet()).ok();
            return;
        }
        // Promise first: the client learns of the stylesheet before the page.
        let style = caller.promise(PushPromise::get("/style.css"));
        if let Err(err) = &style {
            eprintln!("no push of /style.css: {err}");
        }
        let page = Response::text("<!doctype html><link rel=stylesheet href=/style.css><h1>Hello from {{name}}</h1>\n")
            .with_content_type("text/html");
        if let Err(err) = caller.respond(page) {
            eprintln!("the page was not sent: {err}");
        }
        if let Ok(style) = style {
            if let Err(err) = caller.push(style, stylesheet()) {
                eprintln!("the stylesheet was not pushed: {err}");
            }
        }
    }
}

fn stylesheet() -> Response {
    Response::text("h1 { color: rebeccapurple }\n").with_content_type("text/css")
}

push_guest::export!(Service);
