//! Links the component with a 64 KiB stack instead of Rust's default 1 MiB:
//! a fresh instance's memory is reset after each request, at a cost in
//! proportion to its size.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size=65536");
    }
}
