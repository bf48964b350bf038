//! Connections (CONTRACT §9): the header timeout, the keep-alive idle timeout, the connection
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

use crate::helpers::{TestApp, fresh_database, test_settings};

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: porteiro\r\n\r\n";

fn address(app: &TestApp) -> SocketAddr {
    app.address.trim_start_matches("http://").parse().unwrap()
}

/// What a client got before the server closed the connection, and when that was; `None` if the
/// connection was still open after `within`.
async fn read_until_closed(
    reader: &mut OwnedReadHalf,
    within: Duration,
) -> Option<(Vec<u8>, Duration)> {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match tokio::time::timeout_at(started + within, reader.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some((received, started.elapsed())),
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
    // A header line every 200 ms for 4 s, then the blank line that ends the request.
    tokio::spawn(async move {
        writer
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: porteiro\r\n")
            .await?;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            writer.write_all(b"X-Slow: 1\r\n").await?;
        }
        writer.write_all(b"\r\n").await
    });

    let (received, after) = read_until_closed(&mut reader, Duration::from_secs(8))
        .await
        .expect("still connected 8 s later");

    assert!(
        received.is_empty(),
        "answered: {}",
        String::from_utf8_lossy(&received)
    );
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(3),
        "closed after {after:?}"
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with(|s| s.header_timeout = Duration::from_secs(1)).await;
    let (mut reader, _writer) = TcpStream::connect(address(&app))
        .await
        .unwrap()
        .into_split();

    let (received, after) = read_until_closed(&mut reader, Duration::from_secs(5))
        .await
        .expect("still connected 5 s later");

    assert!(received.is_empty());
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );
}

#[tokio::test]
async fn a_connection_that_stops_mid_header_is_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with(|s| s.header_timeout = Duration::from_secs(1)).await;
    let (mut reader, mut writer) = TcpStream::connect(address(&app))
        .await
        .unwrap()
        .into_split();
    writer
        .write_all(b"POST /api/v1/auth/token/1/ HTTP/1.1\r\nHost: porteiro\r\nContent-Ty")
        .await
        .unwrap();

    let (received, after) = read_until_closed(&mut reader, Duration::from_secs(5))
        .await
        .expect("still connected 5 s later");

    assert!(received.is_empty());
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );
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

    let (_, after) = read_until_closed(&mut reader, Duration::from_secs(5))
        .await
        .expect("still connected 5 s after its last answer");

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
async fn past_the_connection_limit_a_new_client_waits_until_a_connection_closes() {
    let app = TestApp::spawn_with(|s| {
        s.max_connections = 4;
        s.header_timeout = Duration::from_secs(2);
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(address(&app)).await.unwrap());
    }
    let fresh = reqwest::Client::new();
    let url = app.url("/healthz");
    let started = Instant::now();
    let answer = tokio::spawn(async move { fresh.get(url).send().await.map(|r| r.status()) });

    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!answer.is_finished(), "served past the connection limit");

    // The header timeout sheds the idle connections, and the waiting client is served.
    let status = tokio::time::timeout(Duration::from_secs(5), answer)
        .await
        .expect("still waiting 6 s later")
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(1900));
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

    let (answer, _) = read_until_closed(&mut reader, Duration::from_secs(5))
        .await
        .expect("the connection closes once answered");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("stopped within 5 s of the last answer")
        .unwrap()
        .unwrap();
    assert!(TcpStream::connect(address).await.is_err());
}
