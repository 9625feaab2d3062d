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

#[cfg(test)]
mod tests {
    use push_guest::testing::{self, Client};
    use push_guest::{Error, Request};

    #[test]
    fn promises_responds_then_pushes_the_stylesheet() {
        let out = testing::run::<super::Service>(Request::new("GET", "/"), &Client::new());
        assert_eq!(out.promised(), ["/style.css"]);
        assert!(out.response.as_ref().unwrap().body().starts_with(b"<!doctype html>"));
        assert_eq!(out.pushes.len(), 1);
        assert!(out.errors().is_empty());
    }

    #[test]
    fn without_push_the_page_is_still_sent() {
        let out = testing::run::<super::Service>(Request::new("GET", "/"), &Client::new().push(false));
        assert_eq!(out.errors(), [("promise /style.css".to_string(), Error::PushDisabled)]);
        assert!(out.response.is_some() && out.pushes.is_empty());
    }
}
