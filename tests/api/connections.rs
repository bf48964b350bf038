//! Connections: the header timeout, the keep-alive idle timeout, the connection
//! limit, and a graceful stop, seen from raw TCP clients.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use porteiro::app::Application;
use porteiro::clock::SystemClock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::time::Instant;

use crate::binary::{RunningServer, after_shell, porteiro};
use crate::helpers::{TestApp, fresh_database, test_settings};

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: porteiro\r\n\r\n";

/// The owner the first start of a server of [`start_limited`] creates.
const ADMIN: &str = "owner@example.com";
const ADMIN_PASSWORD: &str = "Owner-Password-123";

fn address(app: &TestApp) -> SocketAddr {
    app.address.trim_start_matches("http://").parse().unwrap()
}

/// What a client received within `within`, and after how long the server closed the
/// connection if it did.
async fn read_until_closed(
    reader: &mut OwnedReadHalf,
    within: Duration,
) -> (Vec<u8>, Option<Duration>) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match tokio::time::timeout_at(started + within, reader.read(&mut buf)).await {
            Err(_) => return (received, None),
            Ok(Ok(0) | Err(_)) => return (received, Some(started.elapsed())),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one whole answer to a `GET /healthz` (its body is `ok`-sized: one read suffices once the
/// blank line is in).
async fn read_answer(reader: &mut OwnedReadHalf) -> String {
    let mut received = Vec::new();
    let mut buf = [0; 4096];
    while !String::from_utf8_lossy(&received).contains("\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), reader.read(&mut buf))
            .await
            .expect("an answer within 5 s")
            .unwrap();
        assert!(n > 0, "closed before answering");
        received.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_disconnected_after_the_header_timeout_unanswered() {
    let app = TestApp::spawn_with(|s| s.header_timeout = Duration::from_secs(1)).await;
    let (mut reader, mut writer) = TcpStream::connect(address(&app))
        .await
        .unwrap()
        .into_split();
    // A header line every 200 ms for 4 s, then the blank line that ends the request; the
    // writing half stays open (closing it would end the request too).
    tokio::spawn(async move {
        writer
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: porteiro\r\n")
            .await?;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            writer.write_all(b"X-Slow: 1\r\n").await?;
        }
        writer.write_all(b"\r\n").await?;
        tokio::time::sleep(Duration::from_secs(10)).await;
        Ok::<_, std::io::Error>(())
    });

    let (received, closed) = read_until_closed(&mut reader, Duration::from_secs(6)).await;

    assert!(
        received.is_empty(),
        "answered: {}",
        String::from_utf8_lossy(&received)
    );
    let after = closed.expect("still connected 6 s later");
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(3),
        "closed after {after:?}"
    );
}

/// Opens a connection to a server with a header timeout of 1 s, sends `sent`, and asserts that
/// the server closes it unanswered once the timeout has passed.
async fn assert_closed_unanswered_after_the_header_timeout(sent: &[u8]) {
    let app = TestApp::spawn_with(|s| s.header_timeout = Duration::from_secs(1)).await;
    let (mut reader, mut writer) = TcpStream::connect(address(&app))
        .await
        .unwrap()
        .into_split();
    writer.write_all(sent).await.unwrap();

    let (received, closed) = read_until_closed(&mut reader, Duration::from_secs(5)).await;

    assert!(received.is_empty());
    let after = closed.expect("still connected 5 s later");
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    assert_closed_unanswered_after_the_header_timeout(b"").await;
}

#[tokio::test]
async fn a_connection_that_stops_mid_header_is_closed_after_the_header_timeout() {
    assert_closed_unanswered_after_the_header_timeout(
        b"POST /api/v1/auth/token/1/ HTTP/1.1\r\nHost: porteiro\r\nContent-Ty",
    )
    .await;
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let app = TestApp::spawn_with(|s| s.idle_timeout = Duration::from_secs(1)).await;
    let (mut reader, mut writer) = TcpStream::connect(address(&app))
        .await
        .unwrap()
        .into_split();
    writer.write_all(HEALTHZ).await.unwrap();
    assert!(read_answer(&mut reader).await.starts_with("HTTP/1.1 200"));

    let (_, closed) = read_until_closed(&mut reader, Duration::from_secs(5)).await;

    let after = closed.expect("still connected 5 s after its last answer");

    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );
}

#[tokio::test]
async fn a_kept_alive_connection_idle_longer_than_the_header_timeout_still_serves() {
    // Clients that pool connections reuse them well after 10 s; the header timeout counts from
    // a request's first byte, not from the previous answer.
    let app = TestApp::spawn_with(|s| s.header_timeout = Duration::from_secs(1)).await;
    let (mut reader, mut writer) = TcpStream::connect(address(&app))
        .await
        .unwrap()
        .into_split();
    writer.write_all(HEALTHZ).await.unwrap();
    assert!(read_answer(&mut reader).await.starts_with("HTTP/1.1 200"));

    tokio::time::sleep(Duration::from_secs(2)).await;
    writer.write_all(HEALTHZ).await.unwrap();

    assert!(read_answer(&mut reader).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn past_the_connection_limit_the_connection_idle_longest_makes_room_for_a_new_client() {
    let app = TestApp::spawn_with(|s| s.max_connections = 4).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        let (reader, writer) = TcpStream::connect(address(&app))
            .await
            .unwrap()
            .into_split();
        idle.push((reader, writer));
        // A distinct order of arrival.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Answered long before the header timeout (10 s) would shed anything.
    let health = reqwest::Client::new()
        .get(app.url("/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("answered while four idle connections held every place");
    assert_eq!(health.status(), 200);

    // The first to arrive was closed; the others are still open.
    let (first, _) = read_until_closed(&mut idle[0].0, Duration::from_millis(500)).await;
    assert!(first.is_empty());
    let (_, closed) = read_until_closed(&mut idle[0].0, Duration::from_millis(10)).await;
    assert!(closed.is_some(), "the longest-waiting connection is shed");
    for (reader, _) in &mut idle[1..] {
        let (_, closed) = read_until_closed(reader, Duration::from_millis(50)).await;
        assert!(
            closed.is_none(),
            "only one connection is shed for one new client"
        );
    }
}

#[tokio::test]
async fn past_the_connection_limit_a_new_client_waits_while_every_connection_is_answering() {
    let app = TestApp::spawn_with(|s| s.max_connections = 4).await;
    // Four logins whose bodies are still on their way: each is a request being answered.
    let mut busy = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(address(&app)).await.unwrap();
        let head = format!(
            "POST /api/v1/auth/token/{}/ HTTP/1.1\r\nHost: porteiro\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"username\"",
            app.org
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        busy.push(stream);
    }
    let fresh = reqwest::Client::new();
    let url = app.url("/healthz");
    let answer = tokio::spawn(async move { fresh.get(url).send().await.map(|r| r.status()) });

    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!answer.is_finished(), "served past the connection limit");

    // One of them goes away: its place goes to the waiting client.
    drop(busy.pop());
    let status = tokio::time::timeout(Duration::from_secs(5), answer)
        .await
        .expect("served once a place was free")
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn healthz_answers_a_fresh_client_at_once_while_hundreds_of_connections_idle() {
    let app = TestApp::spawn().await;
    let mut idle = Vec::new();
    for i in 0..300 {
        let mut stream = TcpStream::connect(address(&app)).await.unwrap();
        if i % 2 == 0 {
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: porteiro\r\nX-Slow")
                .await
                .unwrap();
        }
        idle.push(stream);
    }

    let started = Instant::now();
    let health = reqwest::Client::new()
        .get(app.url("/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("answered while the idle connections are open (header timeout 10 s)");

    assert_eq!(health.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn stopping_the_server_finishes_a_request_in_flight_and_accepts_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let app = Application::build(
        test_settings(fresh_database(&dir).await),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let address = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let body = br#"{"username": "nobody@example.com", "password": "not-a-password"}"#;
    let (mut reader, mut writer) = TcpStream::connect(address).await.unwrap().into_split();
    let head = format!(
        "POST /api/v1/auth/token/1/ HTTP/1.1\r\nHost: porteiro\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    writer.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    writer.write_all(&body[10..]).await.unwrap();

    let (answer, closed) = read_until_closed(&mut reader, Duration::from_secs(5)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(closed.is_some(), "the connection stays open after the stop");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("stopped within 5 s of the last answer")
        .unwrap()
        .unwrap();
    assert!(TcpStream::connect(address).await.is_err());
}

/// `porteiro serve` started through `sh` after `ulimit <limit>`, logging JSON, with an owner made
/// by the first start, on a database in `dir`.
async fn start_limited(ulimit: &str, dir: &tempfile::TempDir) -> RunningServer {
    let mut command = porteiro(dir.path());
    command
        .arg("--database")
        .arg(format!("sqlite://{}/porteiro.db", dir.path().display()))
        .arg("serve")
        .env("PORTEIRO_LOG_FORMAT", "json")
        .env("PORTEIRO_ADMIN_USERNAME", ADMIN)
        .env("PORTEIRO_ADMIN_PASSWORD", ADMIN_PASSWORD);
    RunningServer::start(after_shell(&format!("ulimit {ulimit}"), &command)).await
}

#[tokio::test]
async fn with_few_open_files_a_flood_of_connections_neither_starves_the_database_nor_logs_errors() {
    // At most 64 open files: the server keeps those its database needs, and serves clients in
    // what is left, shedding the connection that waited longest when a new one comes.
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_limited("-n 64", &dir).await;
    let mut open = Vec::new();
    for _ in 0..50 {
        open.push(TcpStream::connect(server.address()).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let login = reqwest::Client::new()
        .post(server.url("/api/v1/auth/token/1/"))
        .json(&serde_json::json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map(|r| r.status());
    let ready = reqwest::Client::new()
        .get(server.url("/readyz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map(|r| r.status());
    let log = server.kill();

    assert_eq!(login.ok(), Some(reqwest::StatusCode::OK), "{log}");
    assert_eq!(ready.ok(), Some(reqwest::StatusCode::OK), "{log}");
    assert!(!log.contains("\"level\":\"ERROR\""), "{log}");
    assert!(
        log.contains("serving_at_most"),
        "the lowered limit is said: {log}"
    );
    drop(open);
}

#[tokio::test]
async fn a_fresh_client_is_answered_at_once_although_idle_connections_used_up_the_descriptors() {
    // At most 64 open files, about 25 of them the server's own: 60 idle connections use up the
    // rest, and each would hold its descriptor for the header timeout (10 s).
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_limited("-n 64", &dir).await;
    let mut open = Vec::new();
    for _ in 0..60 {
        open.push(TcpStream::connect(server.address()).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let healthy = server.answers_within(Duration::from_secs(3)).await;
    let log = server.kill();

    assert!(
        healthy,
        "no answer while idle connections held the descriptors: {log}"
    );
    drop(open);
}

#[tokio::test]
async fn serve_raises_its_soft_open_files_limit_to_the_hard_limit() {
    // A soft limit of 64 (the hard one stays): 100 connections fit only once it is raised.
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_limited("-S -n 64", &dir).await;

    let mut open = Vec::new();
    for _ in 0..100 {
        open.push(TcpStream::connect(server.address()).await.unwrap());
    }
    let healthy = server.answers_within(Duration::from_secs(3)).await;
    let log = server.kill();

    assert!(healthy, "no answer with 100 connections open: {log}");
    assert!(!log.contains("\"level\":\"ERROR\""), "{log}");
}
