//! The byte tap below `h2` (`push_host::http2::sniff::FrameTap`), checked as
//! `host/src/http2/sniff/proptests.rs` checks it, on any bytes and any split
//! into reads: the tap never panics, consumes every byte it is given, and
//! reports exactly what the reference parser below reports, whether the bytes
//! come in one read, in the reads the input marks, one byte at a time, or with
//! every RST_STREAM held back once (as `Tapped` does) and then let go.
//!
//! Input: a control byte (bit 0: 0 for the client-to-server tap, which skips
//! the 24-byte preface, 1 for server-to-client; the other bits: the read size,
//! 1 to 64, of the holding pass), a count byte (up to 16 cuts), the cuts (each
//! a big-endian `u16`, modulo the length), then the connection's bytes.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use push_host::http2::sniff::{
    DATA, END_STREAM, FrameTap, HEADERS, PUSH_PROMISE, RST_STREAM, SETTINGS, SETTINGS_ENABLE_PUSH, Seen,
};

/// Private in `sniff.rs`: the preface's length, two flags, a SETTINGS entry's length.
const PREFACE_LEN: usize = 24;
const PADDED: u8 = 0x8;
const ACK: u8 = 0x1;
const SETTING_LEN: usize = 6;

/// A report: kind, stream, word.
type Report = (u8, u32, u32);

fn new_tap(client: bool) -> FrameTap {
    if client {
        FrameTap::client_to_server()
    } else {
        FrameTap::server_to_client()
    }
}

/// Feeds `bytes` in the reads that `cuts` (sorted) mark.
fn feed_split(client: bool, bytes: &[u8], cuts: &[usize]) -> Vec<Report> {
    let mut tap = new_tap(client);
    let mut seen = Vec::new();
    let mut start = 0;
    for end in cuts.iter().copied().chain([bytes.len()]) {
        let end = end.clamp(start, bytes.len());
        let chunk = &bytes[start..end];
        let n = tap.feed(chunk, &mut |s: Seen| {
            seen.push((s.kind, s.stream, s.word));
            true
        });
        assert_eq!(n, chunk.len(), "every byte is consumed");
        start = end;
    }
    seen
}

/// Reads of `chunk` bytes, holding each RST_STREAM the first time it
/// completes at a read's offset: every byte gets through, every frame is
/// reported once.
fn feed_holding_resets(client: bool, bytes: &[u8], chunk: usize) -> Vec<Report> {
    let mut tap = new_tap(client);
    let (mut seen, mut held) = (Vec::new(), HashSet::new());
    let (mut at, mut rounds) = (0, 0);
    while at < bytes.len() {
        rounds += 1;
        assert!(rounds <= 2 * bytes.len() + 2, "no progress at byte {at}");
        let end = (at + chunk).min(bytes.len());
        let n = tap.feed(&bytes[at..end], &mut |s: Seen| {
            if s.kind == RST_STREAM && held.insert((at, s.stream, s.word)) {
                return false;
            }
            seen.push((s.kind, s.stream, s.word));
            true
        });
        at += n;
    }
    seen
}

/// The reference (the proptests'): frame by frame over the whole buffer
/// after `skip` bytes, reporting what the tap promises to report.
fn reference(bytes: &[u8], skip: usize) -> Vec<Report> {
    let mut seen = Vec::new();
    let mut at = skip.min(bytes.len());
    while bytes.len() - at >= 9 {
        let h = &bytes[at..at + 9];
        let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
        let (kind, flags) = (h[3], h[4]);
        let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
        let body = &bytes[at + 9..bytes.len().min(at + 9 + len)];
        if kind == HEADERS || (kind == DATA && flags & END_STREAM != 0) {
            seen.push((kind, stream, u32::from(flags)));
        }
        let word = |from: usize| {
            body.get(from..from + 4)
                .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
        };
        match kind {
            RST_STREAM if len >= 4 => seen.extend(word(0).map(|w| (kind, stream, w))),
            PUSH_PROMISE => {
                let pad = usize::from(flags & PADDED != 0);
                if len >= 4 + pad {
                    seen.extend(word(pad).map(|w| (kind, stream, w & 0x7fff_ffff)));
                }
            }
            SETTINGS if flags & ACK == 0 => {
                for e in body.chunks_exact(SETTING_LEN) {
                    if u16::from_be_bytes([e[0], e[1]]) == SETTINGS_ENABLE_PUSH {
                        seen.push((SETTINGS, 0, u32::from_be_bytes([e[2], e[3], e[4], e[5]])));
                    }
                }
            }
            _ => {}
        }
        at += 9 + len;
        if at > bytes.len() {
            break;
        }
    }
    seen
}

fuzz_target!(|data: &[u8]| {
    let [control, count, rest @ ..] = data else {
        return;
    };
    let client = control & 1 == 0;
    let count = usize::from(count % 17).min(rest.len() / 2);
    let (cuts, bytes) = rest.split_at(2 * count);
    let mut cuts: Vec<usize> = cuts
        .chunks_exact(2)
        .map(|c| usize::from(u16::from_be_bytes([c[0], c[1]])) % (bytes.len() + 1))
        .collect();
    cuts.sort_unstable();
    cuts.dedup();

    let whole = feed_split(client, bytes, &[]);
    assert_eq!(
        whole,
        reference(bytes, if client { PREFACE_LEN } else { 0 }),
        "one read"
    );
    assert_eq!(feed_split(client, bytes, &cuts), whole, "reads cut at {cuts:?}");
    let every: Vec<usize> = (1..bytes.len()).collect();
    assert_eq!(feed_split(client, bytes, &every), whole, "one byte at a time");
    let chunk = 1 + usize::from(control >> 1) % 64;
    assert_eq!(
        feed_holding_resets(client, bytes, chunk),
        whole,
        "resets held, reads of {chunk}"
    );
});
