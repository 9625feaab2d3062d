//! `push-host new NAME --lang LANG`: writes a ready project — a handler
//! that promises and pushes one asset, its build script, and a README with
//! the commands to build and serve it — from templates compiled into the
//! binary (`host/templates/`), so it works offline.

use std::path::{Path, PathBuf};

/// A language `new` has a template for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust, `push:handler@0.1.0` with the `push-guest` SDK.
    Rust,
    /// Rust, a `wasi:http@0.3` handler pushing through `push:handler@0.2.0`.
    #[value(name = "rust-0.3")]
    Rust03,
    /// Python (componentize-py) with the `push_guest` helper module.
    Python,
    /// JavaScript (componentize-js) with the `push-guest.js` helper module.
    Javascript,
}

/// One file of a template: its path in the project, its text, and whether
/// it is a script to run.
struct File {
    path: &'static str,
    text: &'static str,
    executable: bool,
}

const fn file(path: &'static str, text: &'static str) -> File {
    File {
        path,
        text,
        executable: false,
    }
}

const fn script(path: &'static str, text: &'static str) -> File {
    File {
        path,
        text,
        executable: true,
    }
}

macro_rules! template {
    ($dir:literal, $file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $dir, "/", $file))
    };
}

macro_rules! shared {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../", $file))
    };
}

const RUST: &[File] = &[
    file("Cargo.toml", template!("rust", "Cargo.toml")),
    file("build.rs", template!("rust", "build.rs")),
    // The toolchain push-guest is built and tested with.
    file("rust-toolchain.toml", shared!("rust-toolchain.toml")),
    file("src/lib.rs", template!("rust", "src/lib.rs")),
    script("build.sh", template!("rust", "build.sh")),
    file("README.md", template!("rust", "README.md")),
    file(".gitignore", "/target\n*.wasm\n"),
];

const RUST_03: &[File] = &[
    file("Cargo.toml", template!("rust-0.3", "Cargo.toml")),
    // The build script and the linker arguments are the Rust template's.
    file("build.rs", template!("rust", "build.rs")),
    // The toolchain push-guest is built and tested with.
    file("rust-toolchain.toml", shared!("rust-toolchain.toml")),
    file("src/lib.rs", template!("rust-0.3", "src/lib.rs")),
    file("tests/call.rs", template!("rust-0.3", "tests/call.rs")),
    script("build.sh", template!("rust", "build.sh")),
    file("README.md", template!("rust-0.3", "README.md")),
    file(".gitignore", "/target\n*.wasm\n"),
];

const PYTHON: &[File] = &[
    file("app.py", template!("python", "app.py")),
    file("test_app.py", template!("python", "test_app.py")),
    script("build.sh", template!("python", "build.sh")),
    file("README.md", template!("python", "README.md")),
    file(
        "push_guest/__init__.py",
        shared!("guest-sdk/python/push_guest/__init__.py"),
    ),
    file("push_guest/p3.py", shared!("guest-sdk/python/push_guest/p3.py")),
    file("wit/push.wit", shared!("wit/push.wit")),
    file(".gitignore", "*.wasm\n__pycache__/\n"),
];

const JAVASCRIPT: &[File] = &[
    file("app.js", template!("javascript", "app.js")),
    file("app.test.mjs", template!("javascript", "app.test.mjs")),
    script("build.sh", template!("javascript", "build.sh")),
    file("README.md", template!("javascript", "README.md")),
    file("push-guest.js", shared!("guest-sdk/js/push-guest.js")),
    file("componentize.mjs", shared!("scripts/tools/componentize.mjs")),
    file("package.json", shared!("scripts/tools/package.json")),
    file("package-lock.json", shared!("scripts/tools/package-lock.json")),
    file("wit/push.wit", shared!("wit/push.wit")),
    file(".gitignore", "*.wasm\nnode_modules/\n"),
];

/// Why a project could not be written.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    /// The name cannot be a package and file name.
    #[error("{0:?} is not a project name: use lowercase letters, digits, '-' and '_', starting with a letter")]
    Name(String),
    /// The directory is there already and not empty.
    #[error("{0} exists and is not empty")]
    Exists(PathBuf),
    /// The Rust SDK was not found.
    #[error("the push-guest SDK is not at {0}: pass --sdk with the path of guest-sdk/ in a push-host checkout")]
    Sdk(PathBuf),
    /// Writing a file failed.
    #[error("cannot write {path}: {error}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
}

/// Where `push-guest` was when this binary was built.
pub fn default_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk")
}

/// Writes project `name` in `lang` into `dir` (created; must be absent or
/// empty). `sdk` is the `push-guest` crate Rust projects depend on. Returns
/// the files written, relative to `dir`.
pub fn create(name: &str, lang: Lang, dir: &Path, sdk: &Path) -> Result<Vec<&'static str>, NewError> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(NewError::Name(name.to_string()));
    }
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(NewError::Exists(dir.to_path_buf()));
    }
    let files = match lang {
        Lang::Rust => RUST,
        Lang::Rust03 => RUST_03,
        Lang::Python => PYTHON,
        Lang::Javascript => JAVASCRIPT,
    };
    let sdk = match lang {
        Lang::Rust | Lang::Rust03 => {
            let sdk = std::fs::canonicalize(sdk).map_err(|_| NewError::Sdk(sdk.to_path_buf()))?;
            if !sdk.join("Cargo.toml").is_file() {
                return Err(NewError::Sdk(sdk));
            }
            sdk.display().to_string()
        }
        Lang::Python | Lang::Javascript => String::new(),
    };
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{sdk}}", &sdk)
    };
    for f in files {
        let path = dir.join(f.path);
        let write = || -> std::io::Result<()> {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, fill(f.text))?;
            if f.executable {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            }
            Ok(())
        };
        write().map_err(|error| NewError::Write {
            path: path.clone(),
            error,
        })?;
    }
    Ok(files.iter().map(|f| f.path).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_placeholders_filled() {
        let dir = std::env::temp_dir().join(format!("push-host-new-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(matches!(
            create("Bad Name", Lang::Rust, &dir, &default_sdk()),
            Err(NewError::Name(_))
        ));
        let written = create("my-app", Lang::Rust, &dir, &default_sdk()).unwrap();
        assert!(written.contains(&"src/lib.rs"));
        let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(cargo.contains("name = \"my-app\"") && !cargo.contains("{{"), "{cargo}");
        let build = std::fs::read_to_string(dir.join("build.sh")).unwrap();
        assert!(
            build.contains("my_app.wasm") && build.contains("my-app.wasm"),
            "{build}"
        );
        assert!(matches!(
            create("my-app", Lang::Rust, &dir, &default_sdk()),
            Err(NewError::Exists(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
