//! Server push for standard `wasi:http@0.3` handlers (feature `p3`):
//! `push:handler/push@0.2.0` (`wit/0.2.0/push.wit`) on the `wasip3` crate's
//! types, the ones `spin-sdk` 7 uses. The handler stays a plain
//! `wasi:http/handler` export (written with `spin-sdk`'s `#[http_service]`
//! or `wasip3`'s `export!`), so it runs on any 0.3 host; on push-host it can
//! also push.
//!
//! Take a [`Pusher`] from the request before reading its body, promise
//! paths with it, and answer each [`Promised`] with an `http::Response`
//! whose body (any `http_body::Body`) is streamed as it is produced:
//!
//! ```ignore
//! use push_guest::p3::Pusher;
//! use spin_sdk::http::{IntoResponse, Request};
//!
//! #[spin_sdk::http_service]
//! async fn handle(mut req: Request) -> impl IntoResponse {
//!     if let Ok(css) = Pusher::for_http(&mut req).and_then(|p| p.promise("/style.css")) {
//!         css.push(http::Response::new("body { margin: 0 }".to_string())).ok();
//!     }
//!     "<link rel=stylesheet href=/style.css>page"
//! }
//! ```
//!
//! With the `wasip3` crate's own `export!`, take it with
//! [`Pusher::for_request`] from the `Request` resource instead.
//!
//! Binding: a pusher belongs to the request it was taken from (the host
//! checks that request is one it passed to this handler), so a component
//! that serves several requests at once never pushes for the wrong one.

mod pusher;

pub use pusher::{Error, Promised, Pusher};

mod bindings {
    wasip3::wit_bindgen::generate!({
        path: "../wit/0.2.0",
        inline: "package push:guest; world pushing { import push:handler/push@0.2.0; }",
        world: "push:guest/pushing",
        runtime_path: "wasip3::wit_bindgen::rt",
        generate_all,
        with: {
            "wasi:http/types@0.3.0": wasip3::http::types,
            "wasi:clocks/types@0.3.0": wasip3::clocks::types,
        },
    });
}
