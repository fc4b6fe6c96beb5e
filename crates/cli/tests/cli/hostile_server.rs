//! `takedown serve` against a hostile partner, over real sockets on loopback: bodies
//! refused before they are read, slow and idle connections closed, connection caps
//! per address and in total, log-in and session flooding, oversized filters, a forged
//! Host header, security headers, Secure cookies (and HTTPS), body limits, and a load
//! of slow connections that must not starve a normal client.
#![allow(clippy::unwrap_used)]

use crate::common::serve::{connect_from, exchange, read_answer, serial, Answer, Server};
use crate::common::takedown;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const COLLECTION: &str = "/taxii2/root/collections/365fed99-08fa-fdcd-a1b3-fb247eb41d01";
const TAXII: &str = "application/taxii+json;version=2.1";

/// A store with two organisations and tokens of each role that matters here.
struct World {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    /// msft: viewer, analyst, approver; fb: viewer.
    viewer: String,
    analyst: String,
    approver: String,
    partner: String,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    for org in ["msft", "fb"] {
        assert_eq!(takedown(&db, &["org", "add", org]).code, 0);
    }
    let token = |org: &str, role: &str| {
        let r = takedown(&db, &["token", "create", "--org", org, "--role", role]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout.trim().to_string()
    };
    World {
        viewer: token("msft", "viewer"),
        analyst: token("msft", "analyst"),
        approver: token("msft", "approver"),
        partner: token("fb", "viewer"),
        db,
        _dir: dir,
    }
}

/// A GET with optional bearer token and extra header lines.
fn get(port: u16, from: [u8; 4], path: &str, token: Option<&str>, extra: &str) -> Answer {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    exchange(
        port,
        from,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {TAXII}\r\n{auth}{extra}Connection: close\r\n\r\n"),
    )
}

/// Whether the server closed `stream` (end of file or reset) within `within`, and how
/// long that took. Bytes of an answer before the close are allowed.
fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream.set_read_timeout(Some(within)).unwrap();
    let mut chunk = [0u8; 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted) => {
                return Some(started.elapsed())
            }
            Err(_) => return None,
        }
    }
}

/// Logs in through the dashboard from `from`: the answer to the form's POST.
fn login(port: u16, from: [u8; 4], token: &str) -> Answer {
    let form = get(port, from, "/ui/login", None, "");
    assert_eq!(form.status, 200);
    let csrf_cookie = form.cookie("td_login_csrf").unwrap();
    let csrf = csrf_cookie.split_once('=').unwrap().1;
    let body = format!("token={token}&csrf={csrf}");
    exchange(
        port,
        from,
        &format!(
            "POST /ui/login HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {csrf_cookie}\r\nContent-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

#[test]
fn a_body_is_never_read_before_its_sender_is_known() {
    let _serial = serial();
    let w = world();
    let server = Server::start(&w.db, &[]);
    // Headers only, announcing a gigabyte: the answer comes without a byte of body.
    let posts = [
        (format!("POST {COLLECTION}/objects/"), String::new(), 401),
        ("POST /api/v1/campaigns/zinc/actions/x/approve".to_string(), String::new(), 401),
        ("POST /api/v1/campaigns/zinc/actions/x/abandon".to_string(), String::new(), 401),
        // A viewer may not add: refused before its envelope is read.
        (format!("POST {COLLECTION}/objects/"), format!("Authorization: Bearer {}\r\n", w.viewer), 403),
        // A dashboard form without a session goes to the log-in page, unread.
        ("POST /ui/campaigns/zinc/actions/x/approve".to_string(), String::new(), 303),
    ];
    for (line, auth, want) in posts {
        let mut stream = connect_from([127, 0, 0, 1], server.port);
        write!(
            stream,
            "{line} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {TAXII}\r\nContent-Type: {TAXII}\r\n{auth}\
             Content-Length: 1073741824\r\n\r\n"
        )
        .unwrap();
        let answer = read_answer(&mut stream).unwrap_or_else(|| panic!("no answer to {line}"));
        assert_eq!(answer.status, want, "{line}: {}", answer.body);
        // The unread body cannot be skipped: the server closes the connection.
        assert!(closed_within(&mut stream, Duration::from_secs(5)).is_some(), "{line}: still open");
    }
}

#[test]
fn headers_that_do_not_finish_are_cut_off_at_the_header_timeout() {
    let _serial = serial();
    let w = world();
    let server = Server::start(&w.db, &["--header-timeout", "1s", "--idle-timeout", "30s"]);
    // Half the headers, then nothing.
    let mut stream = connect_from([127, 0, 0, 1], server.port);
    stream.write_all(b"GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").unwrap();
    let took = closed_within(&mut stream, Duration::from_secs(15)).expect("a half-sent request was kept open for 15 s");
    assert!(took >= Duration::from_millis(800), "closed after {took:?}, before the timeout");
    // Headers finished within the timeout are answered.
    let mut stream = connect_from([127, 0, 0, 1], server.port);
    stream.write_all(b"GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(format!("Authorization: Bearer {}\r\nAccept: {TAXII}\r\n\r\n", w.viewer).as_bytes()).unwrap();
    assert_eq!(read_answer(&mut stream).unwrap().status, 200);
}

#[test]
fn a_body_that_stalls_or_dribbles_is_cut_off() {
    let _serial = serial();
    let w = world();
    let server = Server::start(&w.db, &["--body-timeout", "1s", "--request-timeout", "3s"]);
    let start = |length: usize| {
        let mut stream = connect_from([127, 0, 0, 1], server.port);
        write!(
            stream,
            "POST /api/v1/campaigns/zinc/actions/x/abandon HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{\"reason\": ",
            w.approver
        )
        .unwrap();
        stream
    };
    // A pause longer than the body timeout: 408.
    let mut stalled = start(1000);
    let started = Instant::now();
    let answer = read_answer(&mut stalled).expect("a stalled body got no answer");
    assert_eq!(answer.status, 408, "{}", answer.body);
    assert!(started.elapsed() >= Duration::from_millis(800), "{:?}", started.elapsed());
    // A byte every half second never pauses long enough, but the request timeout ends it: 503.
    let mut dribbled = start(1000);
    let started = Instant::now();
    let answer = loop {
        dribbled.set_nonblocking(true).unwrap();
        let mut peek = [0u8; 1];
        let ready = !matches!(dribbled.peek(&mut peek), Err(e) if e.kind() == ErrorKind::WouldBlock);
        dribbled.set_nonblocking(false).unwrap();
        if ready {
            break read_answer(&mut dribbled).expect("the dribbled request was closed without an answer");
        }
        assert!(started.elapsed() < Duration::from_secs(15), "a dribbled body was read for 15 s");
        let _ = dribbled.write_all(b" ");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(answer.header("retry-after").is_some());
    assert!(started.elapsed() >= Duration::from_millis(2500), "{:?}", started.elapsed());
}

#[test]
fn idle_connections_are_closed_after_the_idle_timeout() {
    let _serial = serial();
    let w = world();
    let server = Server::start(&w.db, &["--idle-timeout", "1s", "--header-timeout", "30s"]);
    // A kept-alive connection after its answer.
    let mut stream = connect_from([127, 0, 0, 1], server.port);
    write!(
        stream,
        "GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nAccept: {TAXII}\r\n\r\n",
        w.viewer
    )
    .unwrap();
    assert_eq!(read_answer(&mut stream).unwrap().status, 200);
    let took =
        closed_within(&mut stream, Duration::from_secs(15)).expect("an idle keep-alive connection was kept 15 s");
    assert!(took >= Duration::from_millis(800), "closed after {took:?}, before the timeout");
    // A connection that never says anything.
    let mut silent = connect_from([127, 0, 0, 1], server.port);
    let took = closed_within(&mut silent, Duration::from_secs(15)).expect("a silent connection was kept 15 s");
    assert!(took >= Duration::from_millis(800), "closed after {took:?}, before the timeout");
}

#[test]
fn connections_over_the_caps_are_closed_and_other_addresses_still_served() {
    let _serial = serial();
    let w = world();
    let flags = [
        "--max-connections-per-address",
        "4",
        "--max-connections",
        "7",
        "--header-timeout",
        "30s",
        "--idle-timeout",
        "30s",
    ];
    let server = Server::start(&w.db, &flags);
    let mut held: Vec<TcpStream> = (0..4).map(|_| connect_from([127, 0, 0, 1], server.port)).collect();
    std::thread::sleep(Duration::from_millis(200));
    // The fifth from the same address is closed without an answer.
    let mut fifth = connect_from([127, 0, 0, 1], server.port);
    let _ = fifth.write_all(b"GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert!(read_answer(&mut fifth).is_none(), "a fifth connection from one address was served");
    // Another address is served.
    let answer = get(server.port, [127, 0, 0, 2], "/taxii2/", Some(&w.viewer), "");
    assert_eq!(answer.status, 200, "{}", answer.body);
    // A place given back is a place to take again.
    held.pop();
    let started = Instant::now();
    loop {
        let mut stream = connect_from([127, 0, 0, 1], server.port);
        let _ = write!(
            stream,
            "GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nAccept: {TAXII}\r\nConnection: close\r\n\r\n",
            w.viewer
        );
        if read_answer(&mut stream).is_some_and(|a| a.status == 200) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the place of a closed connection was not given back");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The total: 3 held from .1 and 3 from .2 leave one place, which .3 takes; .4 has none.
    std::thread::sleep(Duration::from_millis(200));
    let _others: Vec<TcpStream> = (0..3).map(|_| connect_from([127, 0, 0, 2], server.port)).collect();
    let _last = connect_from([127, 0, 0, 3], server.port);
    std::thread::sleep(Duration::from_millis(200));
    let mut over = connect_from([127, 0, 0, 4], server.port);
    let _ = over.write_all(b"GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert!(read_answer(&mut over).is_none(), "a connection over the total cap was served");
}

#[test]
fn logging_in_again_and_again_ends_nobody_elses_session_and_is_slowed_down() {
    let _serial = serial();
    let w = world();
    let server = Server::start(&w.db, &[]);
    let partner = login(server.port, [127, 0, 0, 2], &w.partner);
    assert_eq!(partner.status, 303);
    let partner_cookie = partner.cookie("td_session").unwrap();
    let mut first = None;
    let mut statuses = Vec::new();
    for _ in 0..30 {
        let answer = login(server.port, [127, 0, 0, 1], &w.viewer);
        if answer.status == 429 {
            let retry: u64 =
                answer.header("retry-after").and_then(|v| v.parse().ok()).expect("429 without Retry-After");
            assert!(retry >= 1, "{retry}");
        } else if first.is_none() {
            first = answer.cookie("td_session");
        }
        statuses.push(answer.status);
    }
    assert!(statuses.contains(&303), "{statuses:?}");
    assert!(statuses.contains(&429), "thirty log-ins with one token in a row were all let through: {statuses:?}");
    // The other organisation's session, and the flooder's first, are still there.
    for cookie in [partner_cookie, first.unwrap()] {
        let page = get(server.port, [127, 0, 0, 2], "/ui/", None, &format!("Cookie: {cookie}\r\n"));
        assert_eq!(page.status, 200, "a session ended: {cookie}");
    }
    // Guessing tokens from one address: a few tries, then 429.
    let guesses: Vec<u16> =
        (0..15).map(|i| login(server.port, [127, 0, 0, 3], &format!("tdk_{i:064}")).status).collect();
    assert_eq!(guesses[0], 401);
    assert!(guesses.ends_with(&[429, 429]), "{guesses:?}");
}

#[test]
fn a_thousand_values_in_a_filter_is_a_bad_request_not_a_server_error() {
    let _serial = serial();
    let w = world();
    let server = Server::start(&w.db, &[]);
    let versions: Vec<String> = (0..1000).map(|i| format!("2020-01-01T00:00:{:02}.{:03}Z", i % 60, i)).collect();
    let answer = get(
        server.port,
        [127, 0, 0, 1],
        &format!("{COLLECTION}/objects/?match[version]={}", versions.join(",")),
        Some(&w.viewer),
        "",
    );
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("match[version]") && answer.body.contains("100"), "{}", answer.body);
    // Repeated parameters count together.
    let ids: String = (0..150).map(|i| format!("&match[id]=indicator--{i:08}-0000-4000-8000-000000000000")).collect();
    let answer = get(server.port, [127, 0, 0, 1], &format!("{COLLECTION}/objects/?limit=5{ids}"), Some(&w.viewer), "");
    assert_eq!(answer.status, 400, "{}", answer.body);
    // A hundred of each at once is served.
    let mut query = String::from("limit=5");
    for (i, version) in versions.iter().take(100).enumerate() {
        query.push_str(&format!(
            "&match[type]=t{i}&match[id]=indicator--{i:08}-0000-4000-8000-000000000000&match[version]={version}&match[spec_version]=2.{i}"
        ));
    }
    for path in [format!("{COLLECTION}/objects/?{query}"), format!("{COLLECTION}/manifest/?{query}")] {
        let answer = get(server.port, [127, 0, 0, 1], &path, Some(&w.viewer), "");
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
}

#[test]
fn discovery_names_the_public_url_whatever_the_host_header_says() {
    let _serial = serial();
    let w = world();
    let server = Server::start(&w.db, &["--public-url", "https://taxii.example.org/"]);
    let answer = exchange(
        server.port,
        [127, 0, 0, 1],
        &format!(
            "GET /taxii2/ HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer {}\r\nAccept: {TAXII}\r\nConnection: \
             close\r\n\r\n",
            w.partner
        ),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = crate::common::json(&answer.body);
    assert_eq!(body["default"], "https://taxii.example.org/taxii2/root/");
    assert_eq!(body["api_roots"][0], "https://taxii.example.org/taxii2/root/");
    assert!(!answer.body.contains("evil"), "{}", answer.body);
    drop(server);
    // Without one: the listen address, still not the Host header.
    let server = Server::start(&w.db, &[]);
    let answer = exchange(
        server.port,
        [127, 0, 0, 1],
        &format!(
            "GET /taxii2/ HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer {}\r\nAccept: {TAXII}\r\nConnection: \
             close\r\n\r\n",
            w.partner
        ),
    );
    assert_eq!(crate::common::json(&answer.body)["default"], format!("http://127.0.0.1:{}/taxii2/root/", server.port));
}

#[test]
fn dashboard_pages_carry_security_headers_and_cookies_are_secure_over_https() {
    let _serial = serial();
    let w = world();
    let server = Server::start(&w.db, &[]);
    let page = get(server.port, [127, 0, 0, 1], "/ui/login", None, "");
    let csp = page.header("content-security-policy").expect("no Content-Security-Policy");
    for part in
        ["default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'", "style-src 'sha256-"]
    {
        assert!(csp.contains(part), "{part} not in {csp}");
    }
    assert!(!csp.contains("script-src") && !csp.contains("unsafe"), "{csp}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert!(page.body.contains("<style>") && !page.body.contains("<script"), "{}", page.body);
    // Over plain HTTP with an http URL, cookies cannot be Secure (the browser would drop them).
    assert!(page.cookies().iter().all(|c| !c.contains("Secure")), "{:?}", page.cookies());
    // API answers are not sniffed either, errors included.
    let api = get(server.port, [127, 0, 0, 1], "/taxii2/", None, "");
    assert_eq!((api.status, api.header("x-content-type-options")), (401, Some("nosniff")));
    drop(server);

    // Behind a TLS proxy: every cookie Secure.
    let server = Server::start(&w.db, &["--public-url", "https://td.example.org"]);
    let page = get(server.port, [127, 0, 0, 1], "/ui/login", None, "");
    assert!(
        page.cookies().iter().all(|c| c.contains("; Secure")) && !page.cookies().is_empty(),
        "{:?}",
        page.cookies()
    );
    let session = login(server.port, [127, 0, 0, 1], &w.viewer);
    assert_eq!(session.status, 303);
    assert!(
        session.cookies().iter().any(|c| c.starts_with("td_session=") && c.contains("; Secure")),
        "{:?}",
        session.cookies()
    );
}

#[test]
fn https_with_a_certificate_and_key_serves_secure_cookies() {
    let _serial = serial();
    let Ok(version) = Command::new("openssl").arg("version").output() else {
        crate::common::skip("openssl is not installed: it makes the test certificate and is the TLS client");
        return;
    };
    assert!(version.status.success());
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    // A key that is not one is refused with what to give instead.
    let r = takedown(&w.db, &["serve", "--tls-cert", cert.to_str().unwrap(), "--tls-key", cert.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("private key"), "{}", r.stderr);

    let server = Server::start(&w.db, &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    let mut client = Command::new("openssl")
        .args(["s_client", "-quiet", "-servername", "localhost", "-CAfile"])
        .arg(&cert)
        .args(["-connect", &format!("127.0.0.1:{}", server.port)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    client
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET /ui/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = client.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    let text = rx.recv_timeout(Duration::from_secs(20));
    let _ = client.kill();
    let _ = client.wait();
    let text = text.expect("no answer over TLS within 20 s");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("td_login_csrf=") && text.contains("; Secure"), "{text}");
    // Plain HTTP on the TLS port gets no page.
    let mut plain = connect_from([127, 0, 0, 1], server.port);
    plain.write_all(b"GET /ui/login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    assert!(read_answer(&mut plain).is_none());
}

#[test]
fn bodies_over_the_route_limit_are_refused_with_413() {
    let _serial = serial();
    let w = world();
    let server = Server::start(&w.db, &[]);
    // A REST action takes 16 KiB, a TAXII add 16 MiB: one byte more is refused as announced.
    let cases = [
        ("POST /api/v1/campaigns/zinc/actions/x/abandon", &w.approver, "application/json", 16 * 1024 + 1),
        (&*format!("POST {COLLECTION}/objects/"), &w.analyst, TAXII, 16 * 1024 * 1024 + 1),
    ];
    for (line, token, kind, length) in cases {
        let mut stream = connect_from([127, 0, 0, 1], server.port);
        write!(
            stream,
            "{line} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nAccept: {TAXII}\r\nContent-Type: \
             {kind}\r\nContent-Length: {length}\r\n\r\n"
        )
        .unwrap();
        let answer = read_answer(&mut stream).unwrap();
        assert_eq!(answer.status, 413, "{line}: {}", answer.body);
        assert!(answer.body.contains("larger than this route takes"), "{}", answer.body);
    }
    // A body within the REST limit is read (and found wanting): 400, not 413.
    let body = format!("{{\"reason\": \"{}\"}}", "x".repeat(8000));
    let answer = exchange(
        server.port,
        [127, 0, 0, 1],
        &format!(
            "POST /api/v1/campaigns/zinc/actions/x/abandon HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            w.approver,
            body.len()
        ),
    );
    assert_eq!(answer.status, 404, "the campaign does not exist: {}", answer.body);
    // A dashboard form over its limit, in a live session.
    let cookie = login(server.port, [127, 0, 0, 1], &w.approver).cookie("td_session").unwrap();
    let mut stream = connect_from([127, 0, 0, 1], server.port);
    write!(
        stream,
        "POST /ui/campaigns/zinc/actions/x/abandon HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
    )
    .unwrap();
    assert_eq!(read_answer(&mut stream).unwrap().status, 413);
}

#[test]
fn five_hundred_slow_connections_do_not_starve_a_normal_client() {
    let _serial = serial();
    let w = world();
    let flags = [
        "--max-connections",
        "700",
        "--max-connections-per-address",
        "600",
        "--header-timeout",
        "60s",
        "--idle-timeout",
        "60s",
    ];
    let server = Server::start(&w.db, &flags);
    // Half dribble the start of their headers, half say nothing at all.
    let mut slow = Vec::new();
    for i in 0..500 {
        let mut stream = connect_from([127, 0, 0, 1], server.port);
        if i % 2 == 0 {
            stream.write_all(b"GET /api/v1/campaigns HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a").unwrap();
        }
        slow.push(stream);
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut times = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let answer = get(server.port, [127, 0, 0, 2], "/api/v1/campaigns", Some(&w.viewer), "");
        times.push(started.elapsed());
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    times.sort();
    let median = times[times.len() / 2];
    assert!(median < Duration::from_millis(100), "median {median:?} with 500 slow connections held: {times:?}");
    // The slow ones were held all along, not shed to make room.
    for stream in slow.iter_mut().step_by(50) {
        stream.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        let still_open = matches!(stream.read(&mut byte), Err(e) if e.kind() == ErrorKind::WouldBlock);
        assert!(still_open, "a slow connection was closed before its timeout");
    }
}

#[test]
fn bad_input_gets_a_clean_4xx() {
    let _serial = serial();
    let w = world();
    let server = Server::start(&w.db, &[]);
    let post = |path: &str, token: &str, kind: &str, body: &str| {
        exchange(
            server.port,
            [127, 0, 0, 1],
            &format!(
                "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nAccept: {TAXII}\r\n\
                 Content-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for (body, what) in [("{not json", "bad JSON"), (deep.as_str(), "JSON nested 10,000 deep"), ("{}", "no objects")] {
        let answer = post(&format!("{COLLECTION}/objects/"), &w.analyst, TAXII, body);
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
    }
    let answer = post("/api/v1/campaigns/zinc/actions/x/abandon", &w.approver, "application/json", "[[[");
    assert!((400..500).contains(&answer.status), "{}", answer.body);
    for query in ["limit=zero", "limit=99999999999999999999999", "next=-1", "added_after=yesterday", "match[id]=%FF%FE"]
    {
        let answer = get(server.port, [127, 0, 0, 1], &format!("{COLLECTION}/objects/?{query}"), Some(&w.viewer), "");
        assert!(
            (400..500).contains(&answer.status) || answer.status == 200,
            "{query}: {} {}",
            answer.status,
            answer.body
        );
        assert_ne!(answer.status, 500, "{query}");
    }
    for path in ["/api/v1/intel?limit=0", "/api/v1/intel?after=x", "/api/v1/campaigns/%FF"] {
        let answer = get(server.port, [127, 0, 0, 1], path, Some(&w.viewer), "");
        assert!((400..500).contains(&answer.status), "{path}: {} {}", answer.status, answer.body);
    }
    // A URI of a megabyte: refused, or the connection closed, never a 500.
    let mut stream = connect_from([127, 0, 0, 1], server.port);
    let long = "a".repeat(1024 * 1024);
    let _ = write!(stream, "GET /api/v1/intel/{long} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if let Some(answer) = read_answer(&mut stream) {
        assert!((400..500).contains(&answer.status), "{}", answer.status);
    }
    // The server is still there.
    assert_eq!(get(server.port, [127, 0, 0, 1], "/taxii2/", Some(&w.viewer), "").status, 200);
}
