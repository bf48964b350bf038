//! Accepting and serving connections (CONTRACT §9 "Connections"): at most `--max-connections`
//! open at once, each with a header timeout and a keep-alive idle timeout, and a graceful stop
//! that lets the requests in flight finish.
//!
//! `axum::serve` has no header timeout (a client trickling its headers, or sending nothing, holds
//! its connection for ever) and no connection limit, so this serves each connection with hyper's
//! HTTP/1.1 server directly (see [`connection`]).

mod connection;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::config::Settings;

/// How long to wait before accepting again after `accept` failed for want of a resource (open
/// files, most likely): long enough not to spin, short enough to resume soon after one frees.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// An episode of failing accepts ends at the first accept this long after the last failure, so
/// that a server at the edge of its open-files limit, failing and succeeding by turns, logs one
/// episode rather than one per turn.
const ACCEPT_RECOVERED_AFTER: Duration = Duration::from_secs(1);

/// Open files besides client connections: the listener, the database's connections and files,
/// the logs. Only used to warn about an open-files limit too low for `--max-connections`.
const OTHER_OPEN_FILES: u64 = 100;

/// After the stop signal, requests in flight finish and connections waiting for a head get up to
/// the header timeout; past that and this much more (every request is answered within
/// `http::REQUEST_DEADLINE`), the stop goes on without the connections left, so that it ends
/// before an orchestrator's kill (30 s in Kubernetes) and the audit log is still flushed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The connection settings of one server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client has to send a request's headers, from the accept or from the request's
    /// first byte on a kept-alive connection.
    pub header_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// How many connections may be open at once; more wait in the kernel's backlog.
    pub max_connections: u32,
}

impl Limits {
    /// The limits the settings name.
    pub fn of(settings: &Settings) -> Self {
        Limits {
            header_timeout: settings.header_timeout,
            idle_timeout: settings.idle_timeout,
            max_connections: settings.max_connections,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, closes idle
/// connections and lets the requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    raise_open_files_limit(limits.max_connections);
    let builder = connection::builder(&limits);
    // A permit is taken before `accept` and held by the connection's task: when none is left,
    // nothing accepts and new connections wait in the kernel's backlog, costing us nothing.
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let graceful = GracefulShutdown::new();
    let mut accept_failing = None;
    let mut shutdown = pin!(shutdown);
    loop {
        let next = async {
            let permit = slots.clone().acquire_owned().await.ok()?;
            let (stream, peer) = accept(&listener, &mut accept_failing).await;
            Some((permit, stream, peer))
        };
        let (permit, stream, peer) = tokio::select! {
            Some(next) = next => next,
            () = &mut shutdown => break,
        };
        let served = graceful.watch(connection::serve(
            &builder,
            stream,
            peer,
            router.clone(),
            &limits,
        ));
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = served.await {
                // Timeouts, resets and malformed requests: the client's business, not ours.
                tracing::debug!(error = %e, "connection closed on an error");
            }
        });
    }
    drop(listener);
    let grace = limits.header_timeout + SHUTDOWN_GRACE;
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_s = grace.as_secs(),
            "connections still open at shutdown; stopping without them"
        );
    }
}

/// The next connection. When `accept` fails for want of a resource (`EMFILE`: too many open
/// files), waits a moment and tries again instead of spinning, and says so once when the
/// episode starts and once when it ends. `failing` holds when the last failure of the current
/// episode was.
async fn accept(listener: &TcpListener, failing: &mut Option<Instant>) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => {
                if failing.is_some_and(|last| last.elapsed() >= ACCEPT_RECOVERED_AFTER) {
                    *failing = None;
                    tracing::info!("accepting connections again");
                }
                return accepted;
            }
            // One client's connection went away before we took it: nothing to wait for.
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                if failing.is_none() {
                    tracing::error!(
                        error = %e,
                        "cannot accept connections; retrying until it works again"
                    );
                }
                *failing = Some(Instant::now());
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Raises the soft limit of open files to the hard limit: every connection is a file, and the
/// soft limit is often 1,024, far below `--max-connections`.
fn raise_open_files_limit(max_connections: u32) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let mut open_files = limit.current;
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => open_files = raised.current,
            Err(e) => tracing::warn!(error = %e, "cannot raise the open-files limit"),
        }
    }
    if let Some(open_files) = open_files
        && open_files < u64::from(max_connections) + OTHER_OPEN_FILES
    {
        tracing::warn!(
            open_files,
            max_connections,
            "the open-files limit is below --max-connections: connections past it wait until \
             others close; raise the hard limit (LimitNOFILE=, ulimit -Hn) or lower \
             --max-connections"
        );
    }
}
