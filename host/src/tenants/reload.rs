//! Hot reload: on SIGHUP, and when the hosting file or a module it names
//! changes on disk (inotify through `notify`), the file is read and checked
//! again and every tenant loaded into the running sandbox; only if all of
//! that succeeds is the new version installed ([`Hosting::install`]). A
//! failure leaves the old version serving, and the log says why.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::Hosting;
use super::config::{self, HostingConfig};

/// How long file events are gathered before one reload (an editor or a
/// `cp` writes a file in several steps).
const SETTLE: Duration = Duration::from_millis(300);

/// Why reloads cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The SIGHUP handler could not be installed.
    #[error("cannot handle SIGHUP: {0}")]
    Signal(#[from] std::io::Error),
    /// The file watcher could not be started.
    #[error("cannot watch the hosting file and modules: {0}")]
    Watch(#[from] notify::Error),
}

/// Reloads `hosting` from `path` on SIGHUP and on changes to it or its
/// modules, until the process ends. `first` is the config it started with.
pub fn spawn(hosting: Arc<Hosting>, path: PathBuf, first: &HostingConfig) -> Result<(), ReloadError> {
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let from_signal = tx.clone();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading");
            let _ = from_signal.send(());
        }
    });
    let watched = Arc::new(std::sync::Mutex::new(files_of(&path, first)));
    let filter = watched.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if event.kind.is_access() {
            return;
        }
        let files = filter.lock().unwrap();
        if event.paths.iter().any(|p| files.contains(p)) {
            let _ = tx.send(());
        }
    })?;
    let mut dirs = HashSet::new();
    tokio::spawn(async move {
        loop {
            // Watch the directories (editors and `mv` replace files).
            for file in watched.lock().unwrap().iter() {
                if let Some(dir) = file.parent()
                    && dirs.insert(dir.to_path_buf())
                    && let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive)
                {
                    tracing::warn!("reload: cannot watch {}: {e}", dir.display());
                }
            }
            if rx.recv().await.is_none() {
                return;
            }
            tokio::time::sleep(SETTLE).await;
            while rx.try_recv().is_ok() {}
            if let Some(config) = reload(&hosting, &path).await {
                *watched.lock().unwrap() = files_of(&path, &config);
            }
        }
    });
    Ok(())
}

/// Reads, checks and installs `path`; the config if it was installed.
async fn reload(hosting: &Hosting, path: &Path) -> Option<HostingConfig> {
    let config = match config::load(path) {
        Ok(config) => config,
        Err(e) => {
            tracing::warn!("reload failed, the previous version keeps serving: {e}");
            hosting.count_reload("failed");
            return None;
        }
    };
    match hosting.install(&config).await {
        Ok(()) => {
            tracing::info!("reloaded {}: tenants {}", path.display(), hosting.names().join(", "));
            hosting.count_reload("installed");
            Some(config)
        }
        Err(e) => {
            tracing::warn!("reload failed, the previous version keeps serving: {e}");
            hosting.count_reload("failed");
            None
        }
    }
}

/// The hosting file and every module it names, as absolute paths.
fn files_of(path: &Path, config: &HostingConfig) -> HashSet<PathBuf> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut files: HashSet<PathBuf> = config.tenants.iter().map(|t| absolute(&t.module)).collect();
    files.insert(absolute(path));
    files
}
