//! The hosting file (`push-host --config hosting.toml`): where to listen,
//! the default limits, and the tenants with their modules, routes, limits
//! and environment. Parsed with serde + toml; every mistake is one
//! [`ConfigError`] naming the file, the key and the line.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::route::Route;
use crate::config::AllowedHost;
use crate::config::{Grants, Limits};

/// A hosting file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// The line (1-based), when the problem has one.
    pub line: Option<usize>,
    /// What is wrong, naming the key.
    pub message: String,
}

/// The file's contents, checked.
#[derive(Debug)]
pub struct HostingConfig {
    /// `listen`, if set.
    pub listen: Option<SocketAddr>,
    /// `tls_cert` and `tls_key`, resolved against the file's directory.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `admin_token_file`, resolved against the file's directory.
    pub admin_token_file: Option<PathBuf>,
    /// The limits with `[defaults]` applied to the built-in ones.
    pub defaults: Limits,
    /// `defaults.shutdown_timeout_s`, if set.
    pub shutdown_timeout: Option<Duration>,
    /// The tenants, in file order.
    pub tenants: Vec<TenantConfig>,
}

/// One `[[tenant]]`.
#[derive(Debug)]
pub struct TenantConfig {
    /// Unique name.
    pub name: String,
    /// The component, resolved against the file's directory.
    pub module: PathBuf,
    /// Where its requests come from.
    pub routes: Vec<Route>,
    /// `[defaults]` with `[tenant.limits]` applied.
    pub limits: Limits,
    /// What its guests may reach: environment variables, outgoing HTTP.
    pub grants: Grants,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<Spanned<String>>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    admin_token_file: Option<PathBuf>,
    #[serde(default)]
    defaults: DefaultsFile,
    #[serde(default)]
    tenant: Vec<TenantFile>,
}

/// `[defaults]`: one key per limit flag. The per-tenant keys are repeated
/// here rather than flattened from [`TenantLimitsFile`]: serde cannot combine
/// `flatten` with `deny_unknown_fields`. (`memory_budget_mb` here is the
/// process's budget; in `[tenant.limits]` it is the tenant's share.)
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DefaultsFile {
    memory_budget_mb: Option<Spanned<u64>>,
    timeout_ms: Option<Spanned<u64>>,
    memory_mb: Option<Spanned<u64>>,
    max_pushes: Option<Spanned<u64>>,
    max_concurrent: Option<Spanned<u64>>,
    queue_timeout_ms: Option<Spanned<u64>>,
    instance_reuse: Option<Spanned<u64>>,
    instance_concurrency: Option<Spanned<u64>>,
    shutdown_timeout_s: Option<Spanned<f64>>,
    max_body_bytes: Option<Spanned<u64>>,
    max_streams: Option<Spanned<u64>>,
    max_connections: Option<Spanned<u64>>,
    handshake_timeout_s: Option<Spanned<f64>>,
    idle_timeout_s: Option<Spanned<f64>>,
    keepalive_s: Option<Spanned<f64>>,
    push_diary: Option<Spanned<u64>>,
    early_hints: Option<bool>,
    link_push: Option<bool>,
    http1: Option<bool>,
}

/// `[tenant.limits]`: the per-request limits a tenant may override.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TenantLimitsFile {
    /// The tenant's share of the process's memory budget.
    memory_budget_mb: Option<Spanned<u64>>,
    timeout_ms: Option<Spanned<u64>>,
    memory_mb: Option<Spanned<u64>>,
    max_pushes: Option<Spanned<u64>>,
    max_concurrent: Option<Spanned<u64>>,
    queue_timeout_ms: Option<Spanned<u64>>,
    /// Requests one instance may serve in turn (1: a fresh one each).
    instance_reuse: Option<Spanned<u64>>,
    /// Requests one `wasi:http@0.3` instance may serve at once.
    instance_concurrency: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantFile {
    name: Spanned<String>,
    module: Spanned<PathBuf>,
    routes: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    limits: TenantLimitsFile,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<Spanned<String>>,
}

/// Reads and checks `path`. Module files must exist; whether they are
/// valid components is checked when they are loaded.
pub fn load(path: &Path) -> Result<HostingConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_owned(),
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text)
}

/// Checks `text` as the contents of `path`.
pub fn parse(path: &Path, text: &str) -> Result<HostingConfig, ConfigError> {
    let at = |span: Option<Range<usize>>, message: String| ConfigError {
        file: path.to_owned(),
        line: span.map(|s| line_of(text, s.start)),
        message,
    };
    let file: File = toml::from_str(text).map_err(|e| at(e.span(), e.message().trim().to_string()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let listen = match &file.listen {
        Some(l) => Some(l.get_ref().parse().map_err(|e| {
            at(
                Some(l.span()),
                format!("listen: {:?} is not an address: {e}", l.get_ref()),
            )
        })?),
        None => None,
    };
    let tls = match (&file.tls_cert, &file.tls_key) {
        (Some(c), Some(k)) => Some((dir.join(c), dir.join(k))),
        (None, None) => None,
        _ => return Err(at(None, "tls_cert and tls_key must be set together".into())),
    };
    let mut defaults = Limits::default();
    apply_defaults(&mut defaults, &file.defaults).map_err(|(span, m)| at(Some(span), format!("defaults.{m}")))?;
    if file.tenant.is_empty() {
        return Err(at(None, "no [[tenant]]: a hosting file needs at least one".into()));
    }
    let mut names = HashSet::new();
    let mut routes_seen: Vec<(Route, String)> = Vec::new();
    let mut tenants = Vec::new();
    for t in &file.tenant {
        let name = t.name.get_ref().trim().to_string();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(at(
                Some(t.name.span()),
                format!("tenant.name {name:?}: use letters, digits, '-' and '_'"),
            ));
        }
        if !names.insert(name.clone()) {
            return Err(at(Some(t.name.span()), format!("tenant.name {name:?} is used twice")));
        }
        let module = dir.join(t.module.get_ref());
        if !module.is_file() {
            return Err(at(
                Some(t.module.span()),
                format!("tenant {name:?}: module {} does not exist", module.display()),
            ));
        }
        if t.routes.get_ref().is_empty() {
            return Err(at(Some(t.routes.span()), format!("tenant {name:?}: routes is empty")));
        }
        let mut routes = Vec::new();
        for r in t.routes.get_ref() {
            let route = Route::parse(r.get_ref()).map_err(|why| {
                at(
                    Some(r.span()),
                    format!("tenant {name:?}: route {:?}: {why}", r.get_ref()),
                )
            })?;
            if let Some((_, other)) = routes_seen.iter().find(|(seen, _)| *seen == route) {
                return Err(at(
                    Some(r.span()),
                    format!("tenant {name:?}: route {:?} is already tenant {other:?}'s", r.get_ref()),
                ));
            }
            routes_seen.push((route.clone(), name.clone()));
            routes.push(route);
        }
        let mut limits = defaults.clone();
        apply_tenant(&mut limits, &t.limits)
            .map_err(|(span, m)| at(Some(span), format!("tenant {name:?}: limits.{m}")))?;
        let mut allowed_outbound_hosts = Vec::new();
        for entry in &t.allowed_outbound_hosts {
            let host = AllowedHost::parse(entry.get_ref())
                .map_err(|m| at(Some(entry.span()), format!("tenant {name:?}: {m}")))?;
            allowed_outbound_hosts.push(host);
        }
        tenants.push(TenantConfig {
            name,
            module,
            routes,
            limits,
            grants: Grants {
                env: t.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                allowed_outbound_hosts,
            },
        });
    }
    let shutdown_timeout = match &file.defaults.shutdown_timeout_s {
        Some(v) => Some(seconds("shutdown_timeout_s", v).map_err(|(span, m)| at(Some(span), format!("defaults.{m}")))?),
        None => None,
    };
    Ok(HostingConfig {
        listen,
        tls,
        admin_token_file: file.admin_token_file.as_ref().map(|f| dir.join(f)),
        defaults,
        shutdown_timeout,
        tenants,
    })
}

type Bad = (Range<usize>, String);

fn positive(key: &str, v: &Spanned<u64>) -> Result<u64, Bad> {
    match *v.get_ref() {
        0 => Err((v.span(), format!("{key} must be at least 1"))),
        n => Ok(n),
    }
}

fn small(key: &str, v: &Spanned<u64>, max: u64) -> Result<u64, Bad> {
    match *v.get_ref() {
        n if n > max => Err((v.span(), format!("{key} = {n} is more than {max}"))),
        n => Ok(n),
    }
}

fn seconds(key: &str, v: &Spanned<f64>) -> Result<Duration, Bad> {
    let s = *v.get_ref();
    if !s.is_finite() || !(0.0..=1e9).contains(&s) {
        return Err((v.span(), format!("{key} = {s} is not a number of seconds (0 or more)")));
    }
    Ok(Duration::from_secs_f64(s))
}

fn apply_tenant(limits: &mut Limits, f: &TenantLimitsFile) -> Result<(), Bad> {
    if let Some(v) = &f.memory_budget_mb {
        positive("memory_budget_mb", v)?;
        limits.memory_share = Some((small("memory_budget_mb", v, 1 << 24)? as usize) << 20);
    }
    if let Some(v) = &f.timeout_ms {
        limits.timeout = Duration::from_millis(small("timeout_ms", v, 86_400_000)?);
    }
    if let Some(v) = &f.memory_mb {
        positive("memory_mb", v)?;
        limits.memory_bytes = (small("memory_mb", v, 4096)? as usize) << 20;
    }
    if let Some(v) = &f.max_pushes {
        limits.max_pushes = small("max_pushes", v, u64::from(u32::MAX))? as u32;
    }
    if let Some(v) = &f.max_concurrent {
        positive("max_concurrent", v)?;
        limits.max_concurrent = small("max_concurrent", v, 100_000)? as u32;
    }
    if let Some(v) = &f.queue_timeout_ms {
        limits.queue_timeout = Duration::from_millis(small("queue_timeout_ms", v, 86_400_000)?);
    }
    if let Some(v) = &f.instance_reuse {
        positive("instance_reuse", v)?;
        limits.instance_reuse = small("instance_reuse", v, 1_000_000)? as u32;
    }
    if let Some(v) = &f.instance_concurrency {
        positive("instance_concurrency", v)?;
        limits.instance_concurrency = small("instance_concurrency", v, 10_000)? as u32;
    }
    Ok(())
}

fn apply_defaults(limits: &mut Limits, f: &DefaultsFile) -> Result<(), Bad> {
    if let Some(v) = &f.memory_budget_mb {
        positive("memory_budget_mb", v)?;
        limits.memory_budget = Some((small("memory_budget_mb", v, 1 << 24)? as usize) << 20);
    }
    let request = TenantLimitsFile {
        memory_budget_mb: None,
        timeout_ms: f.timeout_ms.clone(),
        memory_mb: f.memory_mb.clone(),
        max_pushes: f.max_pushes.clone(),
        max_concurrent: f.max_concurrent.clone(),
        queue_timeout_ms: f.queue_timeout_ms.clone(),
        instance_reuse: f.instance_reuse.clone(),
        instance_concurrency: f.instance_concurrency.clone(),
    };
    apply_tenant(limits, &request)?;
    if let Some(v) = &f.max_body_bytes {
        limits.max_body_bytes = small("max_body_bytes", v, 1 << 32)? as usize;
    }
    if let Some(v) = &f.max_streams {
        limits.max_streams_per_connection = small("max_streams", v, u64::from(u32::MAX))? as u32;
    }
    if let Some(v) = &f.max_connections {
        limits.max_connections = positive("max_connections", v)? as usize;
    }
    if let Some(v) = &f.handshake_timeout_s {
        limits.handshake_timeout = seconds("handshake_timeout_s", v)?;
    }
    if let Some(v) = &f.idle_timeout_s {
        limits.idle_timeout = seconds("idle_timeout_s", v)?;
    }
    if let Some(v) = &f.keepalive_s {
        limits.keepalive = seconds("keepalive_s", v)?;
    }
    if let Some(v) = &f.push_diary {
        limits.push_diary = small("push_diary", v, 1 << 20)? as usize;
    }
    if let Some(v) = f.early_hints {
        limits.early_hints = v;
    }
    if let Some(v) = f.link_push {
        limits.link_push = v;
    }
    if let Some(v) = f.http1 {
        limits.http1 = v;
    }
    Ok(())
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}
