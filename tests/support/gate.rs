//! A gate a guest waits at: a tiny HTTP/1.1 server on loopback that takes
//! a guest's outgoing `GET` (test-guests' `/gate`, `/page-gated`), says it
//! arrived, and answers only when the test opens the gate. So a test knows
//! a guest is still running, for as long as it needs, with no sleep.
//! Started before the host, whose `--allow-outbound-host` names it.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The gate; dropping it opens it.
pub struct Gate {
    addr: SocketAddr,
    state: Arc<(Mutex<State>, Condvar)>,
}

#[derive(Default)]
struct State {
    /// Guests that have arrived so far.
    arrived: usize,
    open: bool,
}

impl Gate {
    /// A closed gate on `127.0.0.1`, on a port of its own.
    pub fn new() -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the gate");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for socket in listener.incoming() {
                let Ok(socket) = socket else { return };
                let shared = shared.clone();
                std::thread::spawn(move || hold(socket, &shared));
            }
        });
        Gate { addr, state }
    }

    /// The `--allow-outbound-host` value that lets guests reach the gate.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL a guest is told to wait at (`?url=` of the gate routes).
    pub fn url(&self) -> String {
        format!("http://{}/gate", self.addr)
    }

    /// Waits until `n` guests in all have arrived; false after `limit`.
    pub fn wait_arrivals(&self, n: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let (m, c) = &*self.state;
        let mut s = m.lock().unwrap();
        while s.arrived < n {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            s = c.wait_timeout(s, deadline - now).unwrap().0;
        }
        true
    }

    /// Guests that have arrived so far.
    pub fn arrivals(&self) -> usize {
        self.state.0.lock().unwrap().arrived
    }

    /// Opens the gate: every guest waiting, and every later one, goes on.
    pub fn open(&self) {
        let (m, c) = &*self.state;
        m.lock().unwrap().open = true;
        c.notify_all();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.open();
    }
}

/// Reads one request head, counts the arrival, answers once the gate opens.
fn hold(socket: TcpStream, state: &(Mutex<State>, Condvar)) {
    let mut reader = BufReader::new(socket.try_clone().expect("clone the gate socket"));
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let (m, c) = state;
    let mut s = m.lock().unwrap();
    s.arrived += 1;
    c.notify_all();
    while !s.open {
        s = c.wait(s).unwrap();
    }
    drop(s);
    let mut socket = socket;
    let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nopen");
}
