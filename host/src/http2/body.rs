//! Sending response bodies on an h2 stream, honouring flow control, off the
//! guest's task so a guest never waits for a slow client.

use std::future::poll_fn;

use bytes::Bytes;
use h2::SendStream;
use tokio::sync::watch;

/// Largest chunk asked of the flow-control window at once.
const CHUNK: usize = 64 << 10;

/// Bodies up to this size are handed to `h2` at once, on the handler's own
/// task: `h2` keeps them until the flow-control window lets them out, so no
/// task has to wait for capacity. Larger bodies are sent by
/// [`spawn_send`], chunk by chunk as the client grants window.
pub const INLINE_MAX: usize = 16 << 10;

/// Hands a small `body` (at most [`INLINE_MAX`] bytes) to `h2` and ends the
/// stream; `h2` sends it as the window allows.
pub fn send_inline(stream: &mut SendStream<Bytes>, body: Bytes) -> Result<(), h2::Error> {
    debug_assert!(body.len() <= INLINE_MAX);
    stream.send_data(body, true)
}

/// Sends `body` on `stream` and ends the stream, waiting for window capacity
/// as the client grants it. Fails if the client resets the stream or the
/// connection goes away.
pub async fn send_all(stream: &mut SendStream<Bytes>, mut body: Bytes) -> Result<(), h2::Error> {
    while !body.is_empty() {
        stream.reserve_capacity(body.len().min(CHUNK));
        let granted = match poll_fn(|cx| stream.poll_capacity(cx)).await {
            Some(granted) => granted?,
            None => return Err(h2::Error::from(h2::Reason::CANCEL)),
        };
        if granted == 0 {
            continue;
        }
        let chunk = body.split_to(granted.min(body.len()));
        stream.send_data(chunk, body.is_empty())?;
    }
    Ok(())
}

/// Spawns a task that waits for `after` (if any) to report `true` or close,
/// sends `body`, and then runs `done` with the outcome.
///
/// Pushed responses wait for their main response this way: a promised stream
/// depends on its parent (RFC 9113 §5.3.5 defaults), and a client that reads
/// the main body before the pushed ones must not stall on a connection window
/// the pushes filled.
pub fn spawn_send(
    mut stream: SendStream<Bytes>,
    body: Bytes,
    after: Option<watch::Receiver<bool>>,
    done: impl FnOnce(Result<(), h2::Error>) + Send + 'static,
) {
    tokio::spawn(async move {
        if let Some(mut after) = after {
            let _ = after.wait_for(|ready| *ready).await;
        }
        let result = send_all(&mut stream, body).await;
        done(result);
    });
}
