//! `103 Early Hints` (RFC 8297) for clients that disable push: the paths a
//! handler promises are announced in a 103 response, each as
//! `link: </path>; rel=preload`, while the handler is still making its
//! response. The promises of one burst share one 103 ([`EarlyHints`]): it
//! goes out when the guest next yields (waits in a host call such as a
//! sleep or an outgoing request, or computes past an epoch tick with no
//! promise since the tick before: a tick between two promises of one burst
//! does not split it), or with the response if that comes first; a later burst sends another 103 (RFC
//! 8297 allows several; browsers use the first). The final response
//! carries every `link` header again (as h2o and Apache do).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Context;

use bytes::Bytes;
use h2::server::SendResponse;
use http::{HeaderValue, StatusCode};

/// The `link` header value announcing `path` (a path the host validated:
/// it has no `<`, `>` or control characters), with the `as` a browser needs
/// to act on a preload (one without a valid `as` is ignored): chosen by the
/// path's extension, `fetch` (with `crossorigin`, as `fetch()` requests
/// are) when none fits.
pub fn link(path: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("<{path}>; rel=preload; {}", destination(path))).ok()
}

/// The `as` (and `crossorigin` where the destination needs it) for `path`.
fn destination(path: &str) -> &'static str {
    let file = path.split(['?', '#']).next().unwrap_or_default();
    let file = file.rsplit('/').next().unwrap_or_default();
    let extension = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("css") => "as=style",
        Some("js" | "mjs") => "as=script",
        Some("woff2" | "woff" | "ttf" | "otf") => "as=font; crossorigin",
        Some("png" | "jpg" | "jpeg" | "gif" | "webp" | "avif" | "svg" | "ico") => "as=image",
        _ => "as=fetch; crossorigin",
    }
}

/// Sends a 103 announcing `paths` on `send`. One that cannot be sent is
/// logged; the final response still carries the links ([`add_links`]).
pub fn send_early(send: &mut SendResponse<Bytes>, paths: &[String], tag: &str) {
    let mut early = http::Response::new(());
    *early.status_mut() = StatusCode::EARLY_HINTS;
    for value in paths.iter().filter_map(|p| link(p)) {
        early.headers_mut().append(http::header::LINK, value);
    }
    match send.send_informational(early) {
        Ok(()) => tracing::info!("{tag}: 103 Early Hints sent: {}", paths.join(", ")),
        Err(e) => tracing::info!("{tag}: 103 Early Hints not sent: {e}"),
    }
}

/// Adds a `link` header for each of `paths` to the final response `head`.
pub fn add_links(head: &mut http::Response<()>, paths: &[String]) {
    for value in paths.iter().filter_map(|p| link(p)) {
        head.headers_mut().append(http::header::LINK, value);
    }
}

/// A request's 103 in the making, on a connection whose client has push
/// off: while a burst of promises is pending, the response handle waits
/// here ("parked"), so the request's task can send the 103 when the guest
/// yields, without the guest's store.
pub struct EarlyHints {
    parked: Mutex<Parked>,
    tag: Arc<str>,
}

#[derive(Default)]
struct Parked {
    send: Option<SendResponse<Bytes>>,
    /// Promised paths no 103 has announced yet.
    pending: Vec<String>,
    /// How many of them were pending at the last preemption that held the
    /// 103 back.
    held: usize,
}

impl EarlyHints {
    /// Nothing parked yet; `tag` names the request in the log.
    pub fn new(tag: Arc<str>) -> Arc<EarlyHints> {
        Arc::new(EarlyHints {
            parked: Mutex::new(Parked::default()),
            tag,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Parked> {
        self.parked.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Parks `send` with `path` added to the burst.
    pub fn park(&self, send: SendResponse<Bytes>, path: String) {
        let mut parked = self.lock();
        parked.send = Some(send);
        parked.pending.push(path);
    }

    /// The parked handle, the burst still pending (another promise).
    pub fn take(&self) -> Option<SendResponse<Bytes>> {
        self.lock().send.take()
    }

    /// The parked handle, after the burst's 103 is sent.
    pub fn take_flushed(&self) -> Option<SendResponse<Bytes>> {
        let mut parked = self.lock();
        let Parked { send, pending, held } = &mut *parked;
        if let Some(send) = send.as_mut() {
            flush(send, pending, &self.tag);
            *held = 0;
        }
        parked.send.take()
    }

    /// The guest yielded: sends the burst's 103 (if a handle is parked with
    /// paths pending), unless it was `preempted` with a promise made since
    /// the last preemption, in the middle of a burst that may go on.
    pub fn yielded(&self, preempted: bool) {
        let mut parked = self.lock();
        if preempted && parked.pending.len() > parked.held {
            parked.held = parked.pending.len();
            return;
        }
        let Parked { send, pending, held } = &mut *parked;
        if let Some(send) = send.as_mut() {
            flush(send, pending, &self.tag);
            *held = 0;
        }
    }
}

fn flush(send: &mut SendResponse<Bytes>, pending: &mut Vec<String>, tag: &str) {
    if !pending.is_empty() {
        send_early(send, pending, tag);
        pending.clear();
    }
}

/// Runs a guest's `call`, sending its request's pending 103 whenever the
/// call yields (returns `Pending`): the guest waits in a host call, so its
/// burst of promises is over, or was preempted at an epoch tick (the store
/// sets `preempted`), over unless it promised since the tick before
/// ([`EarlyHints::yielded`]). With no `early` it only forwards.
pub async fn flush_on_yield<F: Future>(call: F, early: Option<Arc<EarlyHints>>, preempted: &AtomicBool) -> F::Output {
    let mut call = std::pin::pin!(call);
    std::future::poll_fn(|cx: &mut Context<'_>| {
        let polled = call.as_mut().poll(cx);
        if polled.is_pending()
            && let Some(early) = &early
        {
            early.yielded(preempted.swap(false, Ordering::Relaxed));
        }
        polled
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_names_the_path_as_a_preload_with_its_destination() {
        assert_eq!(link("/a.css?v=1").unwrap(), "</a.css?v=1>; rel=preload; as=style");
        assert_eq!(link("/app.MJS").unwrap(), "</app.MJS>; rel=preload; as=script");
        assert_eq!(
            link("/f/x.woff2").unwrap(),
            "</f/x.woff2>; rel=preload; as=font; crossorigin"
        );
        assert_eq!(link("/i.png#top").unwrap(), "</i.png#top>; rel=preload; as=image");
        assert_eq!(
            link("/resource1").unwrap(),
            "</resource1>; rel=preload; as=fetch; crossorigin"
        );
        assert_eq!(
            link("/v1.2/data").unwrap(),
            "</v1.2/data>; rel=preload; as=fetch; crossorigin"
        );
    }
}
