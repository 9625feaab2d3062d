//! The listening socket: bound here (`--listen`, with `--reuse-port` shared
//! with another process on the same address), or inherited from systemd
//! socket activation (`LISTEN_FDS`/`LISTEN_PID`: the socket is fd 3). Both
//! let a new version take over a port without refusing a connection: the
//! inherited socket outlives every process that serves it; a reuse-port
//! socket lets the new process listen before the old one stops.

use std::net::SocketAddr;
use std::os::fd::{FromRawFd, RawFd};

use tokio::net::{TcpListener, TcpSocket};

/// Pending connections the kernel queues until they are accepted. std and
/// tokio use 128, which a burst of connections overflows while every worker
/// is busy (seen with 1000 clients connecting at once: about 200 of them
/// were reset); the kernel caps it at `net.core.somaxconn`.
pub const LISTEN_BACKLOG: u32 = 4096;

/// The first file descriptor systemd passes (`SD_LISTEN_FDS_START`).
const FIRST_INHERITED_FD: RawFd = 3;

/// Binds `addr` and listens; with `reuse_port` (SO_REUSEPORT) other
/// processes may listen on the same address at the same time.
pub fn bind(addr: SocketAddr, reuse_port: bool) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    if reuse_port {
        socket.set_reuseport(true)?;
    }
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Why an inherited socket cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum InheritError {
    /// Not exactly one socket passed.
    #[error("LISTEN_FDS={0}: push-host serves one socket; pass exactly one (systemd: one ListenStream=)")]
    Count(String),
    /// Fd 3 is not a TCP socket.
    #[error("the socket passed as fd 3 (LISTEN_FDS) is not a listening TCP socket: {0}")]
    NotTcp(std::io::Error),
}

/// The listening socket systemd passed this process, if any: `LISTEN_PID`
/// is this process and `LISTEN_FDS` is 1 (both are then removed from the
/// environment, as `sd_listen_fds` does, so no child sees them). Call it
/// before starting threads (it changes the environment); make it a tokio
/// listener inside the runtime.
pub fn inherited() -> Result<Option<std::net::TcpListener>, InheritError> {
    let for_us = std::env::var("LISTEN_PID").is_ok_and(|pid| pid.trim() == std::process::id().to_string());
    let Ok(count) = std::env::var("LISTEN_FDS") else {
        return Ok(None);
    };
    if !for_us {
        return Ok(None);
    }
    // SAFETY: the caller has started no other thread yet.
    unsafe {
        std::env::remove_var("LISTEN_PID");
        std::env::remove_var("LISTEN_FDS");
        std::env::remove_var("LISTEN_FDNAMES");
    }
    if count.trim() != "1" {
        return Err(InheritError::Count(count));
    }
    // SAFETY: systemd's protocol hands this process fd 3, open, for it to own.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(FIRST_INHERITED_FD) };
    listener.local_addr().map_err(InheritError::NotTcp)?;
    listener.set_nonblocking(true).map_err(InheritError::NotTcp)?;
    Ok(Some(listener))
}
