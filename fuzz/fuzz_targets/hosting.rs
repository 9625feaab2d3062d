//! The hosting file (`push_host::tenants::config::parse`, which `load` calls
//! after reading the file) never panics on any text. A file it accepts has
//! at least one tenant, unique tenant names and routes, every tenant routes
//! and an existing module; an error names the file and, if a line, one that
//! is in the text.
//!
//! Input: the file's text (not UTF-8: skipped). It is parsed as
//! `hosting.toml` in a directory of this process's own under the temporary
//! directory, holding an empty `app.wasm` (modules are only checked to exist
//! here), so that files naming `module = "app.wasm"` get past that check.

#![no_main]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use push_host::tenants::config;

fn hosting_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("push-host-fuzz-hosting-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the fuzz directory");
        std::fs::write(dir.join("app.wasm"), b"").expect("write app.wasm");
        dir.join("hosting.toml")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = hosting_path();
    match config::parse(path, text) {
        Ok(hosting) => {
            assert!(!hosting.tenants.is_empty());
            let mut names = HashSet::new();
            let mut routes = Vec::new();
            for tenant in &hosting.tenants {
                assert!(names.insert(&tenant.name), "tenant {:?} twice", tenant.name);
                assert!(!tenant.routes.is_empty() && tenant.module.is_file(), "{tenant:?}");
                for route in &tenant.routes {
                    assert!(!routes.contains(&route), "route {route} twice");
                    routes.push(route);
                }
            }
        }
        Err(e) => {
            assert_eq!(&e.file, path);
            let lines = text.matches('\n').count() + 1;
            assert!(
                e.line.is_none_or(|l| (1..=lines).contains(&l)),
                "line {:?} of {lines}: {e}",
                e.line
            );
        }
    }
});
