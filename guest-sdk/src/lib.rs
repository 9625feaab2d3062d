extern crate self as push_guest;

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
    pub mod bindings {
        wit_bindgen::generate!({
            path: "../wit",
            world: "service",
            pub_export_macro: true,
            export_macro_name: "__push_guest_export_service",
            default_bindings_module: "::push_guest::__private::bindings",
            runtime_path: "::push_guest::__private::wit_bindgen",
            debug: true,
        });
    }
}
