//! Property tests of [`FrameTap`]: over arbitrary frame sequences, random
//! garbage, and every way of splitting them into reads, the tap never
//! panics, consumes every byte it is given (unless told to hold a reset,
//! and then only until told to go on), and reports exactly what a
//! whole-buffer parse reports, which in turn matches a simple reference
//! parser written independently below.

use proptest::prelude::*;

use super::*;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// One frame: type, flags, stream id (the reserved bit may be set), payload.
fn frame() -> impl Strategy<Value = Vec<u8>> {
    let kind = prop_oneof![
        Just(DATA),
        Just(HEADERS),
        Just(RST_STREAM),
        Just(SETTINGS),
        Just(PUSH_PROMISE),
        Just(0x6u8),
        Just(0x7u8),
        Just(0x8u8),
        any::<u8>(),
    ];
    let settings = prop::collection::vec(
        (prop_oneof![Just(SETTINGS_ENABLE_PUSH), any::<u16>()], any::<u32>()),
        0..4,
    )
    .prop_map(|entries| {
        entries
            .into_iter()
            .flat_map(|(id, v)| id.to_be_bytes().into_iter().chain(v.to_be_bytes()))
            .collect::<Vec<u8>>()
    });
    let payload = prop_oneof![prop::collection::vec(any::<u8>(), 0..24), settings];
    (kind, any::<u8>(), any::<u32>(), payload).prop_map(|(kind, flags, stream, payload)| {
        let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        f.extend([kind, flags]);
        f.extend(stream.to_be_bytes());
        f.extend(payload);
        f
    })
}

/// A client's bytes: the preface, then frames, then maybe trailing garbage.
fn client_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(frame(), 0..12),
        prop::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(frames, garbage)| {
            let mut bytes = PREFACE.to_vec();
            bytes.extend(frames.concat());
            bytes.extend(garbage);
            bytes
        })
}

fn seen_tuple(s: Seen) -> (u8, u32, u32) {
    (s.kind, s.stream, s.word)
}

/// Feeds `bytes` in the chunks that `cuts` (sorted, deduplicated) mark.
fn feed_split(bytes: &[u8], cuts: &[usize]) -> Vec<(u8, u32, u32)> {
    let mut tap = FrameTap::client_to_server();
    let mut seen = Vec::new();
    let mut start = 0;
    for end in cuts.iter().copied().chain([bytes.len()]) {
        let end = end.clamp(start, bytes.len());
        let chunk = &bytes[start..end];
        let n = tap.feed(chunk, &mut |s| {
            seen.push(seen_tuple(s));
            true
        });
        assert_eq!(n, chunk.len(), "every byte is consumed");
        start = end;
    }
    seen
}

/// The reference: frame by frame over the whole buffer, reporting what the
/// tap promises to report, as soon as the bytes it needs are there.
fn reference(bytes: &[u8]) -> Vec<(u8, u32, u32)> {
    let mut seen = Vec::new();
    let mut at = PREFACE.len().min(bytes.len());
    while bytes.len() - at >= 9 {
        let h = &bytes[at..at + 9];
        let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
        let (kind, flags) = (h[3], h[4]);
        let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
        let body = &bytes[at + 9..bytes.len().min(at + 9 + len)];
        if kind == HEADERS || (kind == DATA && flags & END_STREAM != 0) {
            seen.push((kind, stream, u32::from(flags)));
        }
        let word = |from: usize| -> Option<u32> {
            let w = body.get(from..from + 4)?;
            Some(u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
        };
        match kind {
            RST_STREAM if len >= 4 => {
                if let Some(w) = word(0) {
                    seen.push((kind, stream, w));
                }
            }
            PUSH_PROMISE => {
                let pad = usize::from(flags & PADDED != 0);
                if len >= 4 + pad
                    && let Some(w) = word(pad)
                {
                    seen.push((kind, stream, w & 0x7fff_ffff));
                }
            }
            SETTINGS if flags & ACK == 0 => {
                for entry in body.as_chunks::<SETTING_LEN>().0 {
                    if u16::from_be_bytes([entry[0], entry[1]]) == SETTINGS_ENABLE_PUSH {
                        seen.push((
                            SETTINGS,
                            0,
                            u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]),
                        ));
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn split_reads_see_what_one_read_sees(
        bytes in client_bytes(),
        mut cuts in prop::collection::vec(any::<usize>(), 0..16),
    ) {
        let whole = feed_split(&bytes, &[]);
        prop_assert_eq!(&whole, &reference(&bytes));
        for cut in &mut cuts {
            *cut %= bytes.len() + 1;
        }
        cuts.sort_unstable();
        cuts.dedup();
        prop_assert_eq!(feed_split(&bytes, &cuts), whole);
        // One byte at a time, the hardest split.
        let every: Vec<usize> = (1..bytes.len()).collect();
        prop_assert_eq!(feed_split(&bytes, &every), reference(&bytes));
    }

    #[test]
    fn garbage_never_panics_and_is_consumed(
        garbage in prop::collection::vec(any::<u8>(), 0..600),
        chunk in 1usize..64,
    ) {
        let mut bytes = PREFACE.to_vec();
        bytes.extend(garbage);
        let cuts: Vec<usize> = (chunk..bytes.len()).step_by(chunk).collect();
        prop_assert_eq!(feed_split(&bytes, &cuts), reference(&bytes));
    }

    /// A reader that holds every reset once (as `Tapped` does while `h2`
    /// could mishandle it) and then lets it go gets every byte in the end,
    /// and every frame exactly once.
    #[test]
    fn held_resets_are_released_and_reported_once(bytes in client_bytes(), chunk in 1usize..40) {
        let mut tap = FrameTap::client_to_server();
        let mut seen = Vec::new();
        let mut held = std::collections::HashSet::new();
        let mut at = 0;
        let mut rounds = 0;
        while at < bytes.len() {
            rounds += 1;
            prop_assert!(rounds <= 2 * bytes.len() + 2, "no progress at byte {}", at);
            let end = (at + chunk).min(bytes.len());
            let n = tap.feed(&bytes[at..end], &mut |s| {
                // Hold a reset the first time it completes at this offset.
                if s.kind == RST_STREAM && held.insert((at, s.stream, s.word)) {
                    return false;
                }
                seen.push(seen_tuple(s));
                true
            });
            at += n;
        }
        prop_assert_eq!(seen, reference(&bytes));
    }
}
