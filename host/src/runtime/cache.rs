//! The on-disk compile cache (`--cache-dir`): a component compiled once is
//! stored as wasmtime's precompiled form, so a restart (or a reload) serves
//! its first request without compiling again.
//!
//! An entry is keyed by the SHA-256 of the module's bytes and the engine's
//! compatibility hash (wasmtime version and every setting that changes the
//! code). Beside it, a `.sha256` file holds the digest of the entry itself,
//! checked before wasmtime ever sees the bytes: a truncated, corrupt or
//! stale entry is logged, ignored and rebuilt, never loaded unchecked.
//! Entries are written to a temporary file and renamed into place, so
//! processes sharing the directory never see half an entry.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use std::time::Instant;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled components are kept, or nowhere.
#[derive(Clone, Debug)]
pub struct CompileCache {
    dir: Option<PathBuf>,
}

impl CompileCache {
    /// A cache in `dir` (created when first written).
    pub fn at(dir: PathBuf) -> Self {
        CompileCache { dir: Some(dir) }
    }

    /// No cache: every start compiles.
    pub fn off() -> Self {
        CompileCache { dir: None }
    }

    /// The default directory: `push-host` under the user's cache directory
    /// (`$XDG_CACHE_HOME` or `~/.cache` on Linux).
    pub fn default_dir() -> Option<PathBuf> {
        dirs::cache_dir().map(|d| d.join("push-host"))
    }

    /// The component for `bytes`: from the cache if a sound entry is there,
    /// else compiled (and stored). Also says which, for the log.
    pub fn component(&self, engine: &Engine, bytes: &[u8]) -> wasmtime::Result<(Component, String)> {
        let started = Instant::now();
        let Some(dir) = &self.dir else {
            let component = Component::new(engine, bytes)?;
            let how = format!("compiled in {} ms (no compile cache)", started.elapsed().as_millis());
            return Ok((component, how));
        };
        let entry = dir.join(format!("{}.cwasm", key(engine, bytes)));
        let refused = match load(engine, &entry) {
            Ok(Some(component)) => {
                let how = format!(
                    "loaded from the compile cache in {} ms ({})",
                    started.elapsed().as_millis(),
                    entry.display()
                );
                return Ok((component, how));
            }
            Ok(None) => None,
            Err(why) => Some(why),
        };
        let compiled = engine.precompile_component(bytes)?;
        // SAFETY: these bytes were produced just now by this engine.
        let component = unsafe { Component::deserialize(engine, &compiled)? };
        // Said only once the rebuild worked: a component that cannot load at
        // all (e.g. too big for the pool) fails with one message, not two.
        if let Some(why) = refused {
            tracing::warn!("compile cache entry {} ignored: {why}; rebuilding it", entry.display());
        }
        let how = format!("compiled in {} ms", started.elapsed().as_millis());
        if let Err(e) = store(dir, &entry, &compiled) {
            tracing::warn!("compile cache: cannot write {}: {e}", entry.display());
        }
        Ok((component, how))
    }
}

/// `SHA256(module)-ENGINEHASH`.
fn key(engine: &Engine, bytes: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{}-{:016x}", hex(&Sha256::digest(bytes)), hasher.finish())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest_path(entry: &Path) -> PathBuf {
    entry.with_extension("cwasm.sha256")
}

/// `Ok(None)`: no entry. `Err`: an entry that must not be used.
fn load(engine: &Engine, entry: &Path) -> Result<Option<Component>, String> {
    let bytes = match std::fs::read(entry) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read it: {e}")),
    };
    let expected = std::fs::read_to_string(digest_path(entry)).map_err(|e| format!("no digest beside it: {e}"))?;
    if hex(&Sha256::digest(&bytes)) != expected.trim() {
        return Err("its contents do not match their digest (corrupt or truncated)".into());
    }
    // SAFETY: the bytes are exactly what `store` wrote after this engine
    // precompiled them (the digest matches), and wasmtime still checks that
    // they were compiled by a compatible engine.
    unsafe { Component::deserialize(engine, &bytes) }
        .map(Some)
        .map_err(|e| format!("wasmtime refused it: {e}"))
}

fn store(dir: &Path, entry: &Path, compiled: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let unique = format!("{}.{}", std::process::id(), rand_suffix());
    let tmp = entry.with_extension(format!("tmp.{unique}"));
    std::fs::write(&tmp, compiled)?;
    let tmp_digest = entry.with_extension(format!("sha256.tmp.{unique}"));
    std::fs::write(&tmp_digest, hex(&Sha256::digest(compiled)))?;
    // The digest first: an entry is only ever read with its digest present.
    std::fs::rename(&tmp_digest, digest_path(entry))?;
    std::fs::rename(&tmp, entry)
}

fn rand_suffix() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(Instant::now())
}
