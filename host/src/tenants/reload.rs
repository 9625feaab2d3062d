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
use crate::ops::metrics::Metrics;

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
    let watched = Arc::new(std::sync::Mutex::new(files_of(&path, first)));
    let mut changes = Changes::watch(watched.clone())?;
    tokio::spawn(async move {
        while changes.next().await {
            if let Some(config) = reload(&hosting, &path).await {
                *watched.lock().unwrap() = files_of(&path, &config);
            }
        }
    });
    Ok(())
}

/// SIGHUP, and changes to a set of files (the set may change between two
/// reloads), each burst of them reported once.
pub(crate) struct Changes {
    rx: mpsc::UnboundedReceiver<()>,
    watcher: notify::RecommendedWatcher,
    files: Arc<std::sync::Mutex<HashSet<PathBuf>>>,
    /// The directories watched so far.
    dirs: HashSet<PathBuf>,
}

impl Changes {
    /// Starts watching SIGHUP and `files` (absolute paths).
    pub(crate) fn watch(files: Arc<std::sync::Mutex<HashSet<PathBuf>>>) -> Result<Changes, ReloadError> {
        let (tx, rx) = mpsc::unbounded_channel::<()>();
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let from_signal = tx.clone();
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading");
                let _ = from_signal.send(());
            }
        });
        let filter = files.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if event.kind.is_access() {
                return;
            }
            let files = filter.lock().unwrap();
            if event.paths.iter().any(|p| files.contains(p)) {
                let _ = tx.send(());
            }
        })?;
        Ok(Changes {
            rx,
            watcher,
            files,
            dirs: HashSet::new(),
        })
    }

    /// Waits for the next burst of changes (or SIGHUP); `false` if none
    /// can come any more.
    pub(crate) async fn next(&mut self) -> bool {
        // Watch the directories (editors, `mv` and linkers replace files).
        let files: Vec<PathBuf> = self.files.lock().unwrap().iter().cloned().collect();
        for file in files {
            if let Some(dir) = file.parent()
                && self.dirs.insert(dir.to_path_buf())
                && let Err(e) = self.watcher.watch(dir, RecursiveMode::NonRecursive)
            {
                tracing::warn!("reload: cannot watch {}: {e}", dir.display());
            }
        }
        if self.rx.recv().await.is_none() {
            return false;
        }
        tokio::time::sleep(SETTLE).await;
        while self.rx.try_recv().is_ok() {}
        true
    }
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
    let mut files: HashSet<PathBuf> = config.tenants.iter().map(|t| absolute(&t.module)).collect();
    files.insert(absolute(path));
    files
}

/// `p` as an absolute path (as file events name files).
pub(crate) fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Counts a reload in the metrics (`result`: `installed` or `failed`).
pub(crate) fn count(metrics: &Metrics, result: &str) {
    metrics
        .reloads
        .get_or_create(&vec![("result".to_string(), result.to_string())])
        .inc();
}
