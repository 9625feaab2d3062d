//! Links the component with a 64 KiB stack instead of Rust's default 1 MiB.
//! A fresh instance's memory is reset when its request ends, and since
//! wasmtime 49 that costs in proportion to the memory's size: the 1 MiB
//! stack was most of it (the seed: 99 -> 57 us of CPU per request, see
//! README "Writing fast handlers"). Overflowing the stack traps; it never
//! reaches the handler's data.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size=65536");
    }
}
