//! The `wasi:http/service@0.3` world (`handler`, component-model async):
//! one call's exchange (`service.rs`), instances serving several requests
//! at once with `--instance-concurrency` (`shared.rs`), and
//! `push:handler/push@0.2.0`
//! for the guests that import it (`push.rs`; its `bindgen!` in
//! `generated.rs`). Serving it is shared with 0.2
//! (`../serve.rs`).

pub mod generated;
pub mod push;
pub mod service;
pub mod shared;
