//! The `wasi:http/proxy@0.2` world (`incoming-handler`): one call's
//! exchange (`proxy.rs`). Serving it is shared with 0.3 (`../serve.rs`).

pub mod proxy;
