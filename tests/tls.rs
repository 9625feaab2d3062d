//! TLS (`--tls-cert`/`--tls-key`): the seed over https with `nghttp` and
//! `curl`, against a throwaway CA and certificate made at test time
//! (`rcgen`), and every bad certificate or key stopping start-up with one
//! line naming the file.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rcgen::KeyPair;
use support::gate::Gate;
use support::pki::Pki;
use support::{Host, guest, run_bounded};

fn run(program: &str, args: &[&str]) -> (bool, String) {
    let out = run_bounded(Command::new(program).args(args), Duration::from_secs(30));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_seed_over_tls_with_nghttp_gets_three_pushes() {
    let pki = Pki::new("nghttp");
    let host = pki.start(&guest("http2_service"));
    assert_eq!(host.scheme, "https", "the Serving line says https://");
    let url = format!("{}/http2Service", host.url());
    let (ok, verbose) = run("nghttp", &["-nv", &url]);
    assert!(ok, "{verbose}");
    assert!(verbose.contains("The negotiated protocol: h2"), "{verbose}");
    assert_eq!(verbose.matches("recv PUSH_PROMISE frame").count(), 3, "{verbose}");
    for stream in [2, 4, 6] {
        assert!(
            verbose.contains(&format!("recv DATA frame <length=29, flags=0x01, stream_id={stream}>")),
            "pushed stream {stream}: {verbose}"
        );
    }
    // Without -n nghttp prints every body: the response and the three pushes.
    let (ok, bodies) = run("nghttp", &[&url]);
    assert!(ok, "{bodies}");
    assert!(bodies.contains(r#"{"response":{"name":"main resource"}}"#), "{bodies}");
    for n in 1..=3 {
        assert!(
            bodies.contains(&format!(r#"{{"push":{{"name":"resource{n}"}}}}"#)),
            "{bodies}"
        );
    }
}

/// `curl -sS -v -i PROTOCOL https://localhost:PORT/http2Service`, trusting
/// the test CA (localhost resolved to 127.0.0.1).
fn curl_trusting(pki: &Pki, host: &support::Host, protocol: &str) -> (bool, String) {
    let url = format!("https://localhost:{}/http2Service", host.addr.port());
    let resolve = format!("localhost:{}:127.0.0.1", host.addr.port());
    let ca = pki.ca.to_str().unwrap();
    run(
        "curl",
        &["-sS", "-v", "-i", protocol, "--cacert", ca, "--resolve", &resolve, &url],
    )
}

#[test]
fn curl_over_tls_trusts_the_test_ca_and_speaks_h2() {
    let pki = Pki::new("curl");
    let host = pki.start(&guest("http2_service"));
    let (ok, out) = curl_trusting(&pki, &host, "--http2");
    assert!(ok, "{out}");
    assert!(out.contains("ALPN: server accepted h2"), "{out}");
    assert!(out.contains("< HTTP/2 200"), "{out}");
    assert!(out.contains(r#"{"response":{"name":"main resource"}}"#), "{out}");
    // curl disables push: the promises arrive as early hints.
    assert!(out.contains("< HTTP/2 103"), "{out}");
    // And an h2c client gets nothing from a TLS port.
    let (ok, out) = run(
        "curl",
        &[
            "-sS",
            "--http2-prior-knowledge",
            "--max-time",
            "5",
            &format!("http://{}/", host.addr),
        ],
    );
    assert!(!ok, "{out}");
}

#[test]
fn curl_over_tls_with_http1_gets_link_headers() {
    let pki = Pki::new("curl-h1");
    let host = pki.start(&guest("http2_service"));
    let (ok, out) = curl_trusting(&pki, &host, "--http1.1");
    assert!(ok, "{out}");
    assert!(out.contains("ALPN: server accepted http/1.1"), "{out}");
    assert!(out.contains("HTTP/1.1 200 OK"), "{out}");
    assert!(
        out.contains("link: </resource3>; rel=preload; as=fetch; crossorigin"),
        "{out}"
    );
    assert!(out.contains(r#"{"response":{"name":"main resource"}}"#), "{out}");
    host.expect_log("req=1 HTTP/1.1 GET /http2Service: handled in");
}

#[test]
fn a_client_that_never_starts_tls_is_closed_after_the_handshake_timeout() {
    use std::io::Read;
    let pki = Pki::new("silent");
    let host = support::Host::start(
        &guest("http2_service"),
        &[
            "--tls-cert",
            pki.cert.to_str().unwrap(),
            "--tls-key",
            pki.key.to_str().unwrap(),
            "--handshake-timeout-s",
            "0.4",
        ],
    );
    let mut socket = std::net::TcpStream::connect(host.addr).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let read = socket.read_to_end(&mut buf);
    assert!(read.is_ok(), "closed, not timed out: {read:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(350),
        "{:?}",
        started.elapsed()
    );
    host.expect_log("no TLS handshake within the handshake timeout of 0.4 s; closed");
}

#[test]
fn curl_refuses_the_certificate_without_the_ca() {
    let pki = Pki::new("untrusted");
    let host = pki.start(&guest("http2_service"));
    let (ok, out) = run("curl", &["-sS", "--http2", &format!("{}/", host.url())]);
    assert!(!ok, "curl trusted a certificate no CA vouches for: {out}");
    assert!(out.to_lowercase().contains("certificate"), "{out}");
}

/// Runs push-host with TLS files that must not be accepted; returns its
/// one line of stderr.
fn fails(cert: &Path, key: &Path) -> String {
    let out = run_bounded(
        Command::new(support::push_host_bin())
            .args(["--module", guest("http2_service").to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(cert)
            .arg("--tls-key")
            .arg(key),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "push-host accepted them: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("Serving"), "{stderr}");
    stderr
}

#[test]
fn bad_certificates_and_keys_stop_start_up_naming_the_file() {
    let pki = Pki::new("bad");
    let missing = pki.dir.join("missing.pem");
    let err = fails(&missing, &pki.key);
    assert!(
        err.contains(&format!("cannot read certificate {}", missing.display())),
        "{err}"
    );
    let err = fails(&pki.cert, &missing);
    assert!(
        err.contains(&format!("cannot read private key {}", missing.display())),
        "{err}"
    );

    let text = pki.file("text.pem", "not a certificate\n");
    let err = fails(&text, &pki.key);
    assert!(
        err.contains(&format!("{} is not a PEM certificate", text.display())),
        "{err}"
    );
    let err = fails(&pki.cert, &text);
    assert!(
        err.contains(&format!("{} is not a PEM private key", text.display())),
        "{err}"
    );
    // A certificate where the key should be.
    let err = fails(&pki.cert, &pki.cert);
    assert!(err.contains("is not a PEM private key"), "{err}");

    let broken = pki.file(
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
    );
    let err = fails(&broken, &pki.key);
    assert!(
        err.contains(&format!("{} is not a PEM certificate", broken.display())),
        "{err}"
    );

    let other_key = pki.file("other-key.pem", &KeyPair::generate().unwrap().serialize_pem());
    let err = fails(&pki.cert, &other_key);
    assert!(
        err.contains(&format!(
            "the private key in {} does not match the certificate in {}",
            other_key.display(),
            pki.cert.display()
        )),
        "{err}"
    );
}

/// Headless Chromium's `--dump-dom` of `url` (120 s at most), trusting any
/// certificate, with a profile in `dir`.
fn chromium_dump_dom(dir: &Path, url: &str) -> std::process::Output {
    let profile = dir.join("chromium-profile");
    run_bounded(
        Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--ignore-certificate-errors",
                &format!("--user-data-dir={}", profile.display()),
                "--dump-dom",
            ])
            .arg(url),
        Duration::from_secs(120),
    )
}

/// A real browser: headless Chromium (Debian `chromium`) loads a page over
/// TLS and HTTP/2. Browsers disable push, so the host announces the page's
/// stylesheet and script in a 103 Early Hints; the browser then requests
/// both, and its script runs (the dumped DOM shows what it added).
#[test]
fn headless_chromium_gets_early_hints_and_renders_the_page() {
    let pki = Pki::new("chromium");
    let host = pki.start(&guest("test_guests"));
    let out = chromium_dump_dom(&pki.dir, &format!("{}/page", host.url()));
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "chromium failed: {dom}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dom.contains(r#"<h1 id="title">push-host page</h1>"#), "{dom}");
    assert!(
        dom.contains(r#"<p id="js">script ran</p>"#),
        "the script did not run: {dom}"
    );
    host.expect_log("GET /page: 103 Early Hints sent: /page.css, /page.js");
    let log = host.log();
    let position = |needle: &str| log.find(needle).unwrap_or_else(|| panic!("no {needle:?} in:\n{log}"));
    let hints = position("103 Early Hints sent");
    // The browser spoke HTTP/2 (stream ids, not HTTP/1.1 request numbers).
    assert!(log[..hints].contains("stream=1 GET /page"), "{log}");
    for asset in ["GET /page.css: handled in", "GET /page.js: handled in"] {
        assert!(position(asset) > hints, "{asset} before the hints:\n{log}");
    }
}

/// The 103 is what makes Chromium fetch the assets, while the page is still
/// being made: `/page-gated` promises `/page.css` and `/page.js`, then waits
/// at the test's gate, and its page names neither asset. The browser must
/// request both while the page's handler is still held at the gate; only
/// then does the test open it. Broken (the 103 sent with the response, as
/// before): no asset is requested while the gate is closed, and the wait
/// for their log lines fails.
#[test]
fn chromium_fetches_the_hinted_assets_while_the_page_is_being_made() {
    let pki = Pki::new("chromium-gated");
    let gate = Gate::new();
    let host = pki.start_with(
        &guest("test_guests"),
        // The page waits for the test, not the deadline.
        &["--allow-outbound-host", &gate.origin(), "--timeout-ms", "120000"],
    );
    let url = format!("{}/page-gated?url={}", host.url(), gate.url());
    let page_line = format!("GET /page-gated?url={}: handled in", gate.url());
    let dir = pki.dir.clone();
    let browser = std::thread::spawn(move || chromium_dump_dom(&dir, &url));
    let held = gate.wait_arrivals(1, Duration::from_secs(60));
    let hinted = host.wait_for_log("103 Early Hints sent: /page.css, /page.js", Duration::from_secs(30));
    let css = host.wait_for_log("GET /page.css: handled in", Duration::from_secs(30));
    let js = host.wait_for_log("GET /page.js: handled in", Duration::from_secs(30));
    // Both assets were fetched while the page's handler was held.
    let early = !host.log().contains(&page_line);
    gate.open();
    let out = browser.join().expect("the browser thread");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(held, "the page never reached the gate:\n{}", host.log());
    assert!(hinted.is_some(), "no 103 while the page was held:\n{}", host.log());
    assert!(
        css.is_some() && js.is_some() && early,
        "chromium did not request both assets while the page was being made:\n{}",
        host.log()
    );
    assert!(dom.contains("made while its assets loaded"), "{dom}");
    host.expect_log(&page_line);
}

/// Keys in the older PEM forms load too: PKCS#1 (`BEGIN RSA PRIVATE KEY`)
/// and SEC1 (`BEGIN EC PRIVATE KEY`), made with `openssl`, each with a
/// self-signed certificate; curl gets `hello` over h2 with each. Broken
/// (only PKCS#8 accepted): start-up fails with `is not a PEM private key`.
#[test]
fn pkcs1_rsa_and_sec1_ec_keys_load() {
    let pki = Pki::new("key-forms");
    let dir = pki.dir.to_str().unwrap().to_string();
    let forms: [(&str, &str, Vec<String>); 2] = [
        (
            "rsa",
            "-----BEGIN RSA PRIVATE KEY-----",
            vec![
                "genrsa".into(),
                "-traditional".into(),
                "-out".into(),
                format!("{dir}/rsa-key.pem"),
                "2048".into(),
            ],
        ),
        (
            "ec",
            "-----BEGIN EC PRIVATE KEY-----",
            vec![
                "ecparam".into(),
                "-name".into(),
                "prime256v1".into(),
                "-genkey".into(),
                "-noout".into(),
                "-out".into(),
                format!("{dir}/ec-key.pem"),
            ],
        ),
    ];
    for (name, header, genkey) in forms {
        let key = format!("{dir}/{name}-key.pem");
        let cert = format!("{dir}/{name}-cert.pem");
        let args: Vec<&str> = genkey.iter().map(String::as_str).collect();
        let (ok, out) = run("openssl", &args);
        assert!(ok, "{out}");
        let pem = std::fs::read_to_string(&key).unwrap();
        assert!(pem.starts_with(header), "{name}: {pem}");
        let (ok, out) = run(
            "openssl",
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                &key,
                "-subj",
                "/CN=localhost",
                "-days",
                "2",
                "-out",
                &cert,
            ],
        );
        assert!(ok, "{out}");
        let host = Host::start(&guest("test_guests"), &["--tls-cert", &cert, "--tls-key", &key]);
        let (ok, body) = run("curl", &["-sk", "--http2", &format!("{}/hello", host.url())]);
        assert!(ok && body == "hello", "{name}: {body}");
    }
}

/// A TLS client that completes the handshake and then sends no HTTP/2
/// preface is closed at the handshake timeout, and the log says so.
/// Broken (no deadline on the preface): the connection stays open and
/// `openssl s_client` is stopped by the 30 s bound instead.
#[test]
fn a_tls_client_that_sends_no_preface_is_closed_at_the_handshake_timeout() {
    let pki = Pki::new("no-preface");
    let host = pki.start_with(&guest("test_guests"), &["--handshake-timeout-s", "0.5"]);
    // -ign_eof: stdin (empty) does not end the session; the server must.
    let (_, out) = run(
        "openssl",
        &[
            "s_client",
            "-connect",
            &host.addr.to_string(),
            "-alpn",
            "h2",
            "-ign_eof",
            "-quiet",
        ],
    );
    host.expect_log("no HTTP/2 preface within the handshake timeout of 0.5 s; closed");
    assert!(!out.contains("timed out"), "{out}");
}
