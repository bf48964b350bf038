//! Accepting and serving connections, as the API's contract sets it: at most `--max-connections`
//! open at once, each with a header timeout and a keep-alive idle timeout, and a graceful stop
//! that lets the requests in flight finish. When the connections or the descriptors run out,
//! the connection that has waited longest for a request is shed to make room for a new one.
//!
//! `axum::serve` has no header timeout (a client trickling its headers, or sending nothing, holds
//! its connection for ever) and no connection limit, so this serves each connection with hyper's
//! HTTP/1.1 server directly (see [`connection`]).

mod connection;

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::config::Settings;

/// How long to wait before accepting again after `accept` failed for want of a resource (open
/// files, most likely): long enough not to spin, short enough to resume soon after one frees.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The same, when a waiting connection was shed to free its descriptor: the time for its task
/// to close it.
const ACCEPT_AFTER_SHEDDING: Duration = Duration::from_millis(2);

/// An episode of failing accepts ends at the first accept this long after the last failure, so
/// that a server at the edge of its open-files limit, failing and succeeding by turns, logs one
/// episode rather than one per turn.
const ACCEPT_RECOVERED_AFTER: Duration = Duration::from_secs(1);

/// Open files kept for other uses than client connections — the listener, the logs, the master
/// key, the hashing threads — besides [`FILES_PER_DATABASE_CONNECTION`] for each database
/// connection the server may open.
const OTHER_OPEN_FILES: u64 = 64;

/// A SQLite connection holds the database file and its log open (a PostgreSQL one, a socket).
const FILES_PER_DATABASE_CONNECTION: u64 = 3;

/// Database connections a server may hold besides its pool: SQLite's writer and the two of the
/// periodic tasks.
const DATABASE_CONNECTIONS_BESIDES_THE_POOL: u64 = 3;

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
    /// Open files the server keeps for itself, whatever the clients do: client connections
    /// never take the descriptors the database needs.
    pub reserved_files: u64,
}

impl Limits {
    /// The limits the settings name.
    pub fn of(settings: &Settings) -> Self {
        Limits {
            header_timeout: settings.header_timeout,
            idle_timeout: settings.idle_timeout,
            max_connections: settings.max_connections,
            reserved_files: OTHER_OPEN_FILES
                + FILES_PER_DATABASE_CONNECTION
                    * (u64::from(settings.database_pool_size)
                        + DATABASE_CONNECTIONS_BESIDES_THE_POOL),
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
    let max_connections = connection_limit(&limits);
    let builder = connection::builder(&limits);
    // A permit is held by each connection's task. When none is left (or no descriptor is), the
    // connection that has waited longest for a request is shed to make room: a flood of idle or
    // slow connections cannot keep a new client out for the header timeout. When every
    // connection is answering a request, a new one waits for the first to finish.
    let slots = Arc::new(Semaphore::new(max_connections));
    let open = Arc::new(Open::default());
    let graceful = GracefulShutdown::new();
    let mut accept_failing = None;
    let mut shutdown = pin!(shutdown);
    loop {
        let next = async {
            let (stream, peer) = accept(&listener, &mut accept_failing, &open).await;
            let permit = match slots.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    open.shed_longest_waiting();
                    slots.clone().acquire_owned().await.ok()?
                }
            };
            Some((permit, stream, peer))
        };
        let (permit, stream, peer) = tokio::select! {
            Some(next) = next => next,
            () = &mut shutdown => break,
        };
        let (connection, clocks) =
            connection::serve(&builder, stream, peer, router.clone(), &limits);
        let served = graceful.watch(connection);
        let registered = open.register(clocks);
        tokio::spawn(async move {
            let _permit = permit;
            let _registered = registered;
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

/// The open connections, by which the one that has waited longest for a request can be shed.
#[derive(Default)]
struct Open {
    next: AtomicU64,
    connections: Mutex<HashMap<u64, Arc<connection::Clocks>>>,
}

/// Keeps a connection in [`Open`] until dropped with its task.
struct Registered {
    open: Arc<Open>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.open.lock().remove(&self.id);
    }
}

impl Open {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<connection::Clocks>>> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn register(self: &Arc<Self>, clocks: Arc<connection::Clocks>) -> Registered {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, clocks);
        Registered {
            open: self.clone(),
            id,
        }
    }

    /// Sheds the connection that has waited longest for a request (idle, or still sending its
    /// head); false when every connection is answering one. Only under pressure: a scan of the
    /// open connections.
    fn shed_longest_waiting(&self) -> bool {
        let connections = self.lock();
        let longest = connections
            .values()
            .filter_map(|c| c.waiting_since().map(|since| (since, c)))
            .min_by_key(|(since, _)| *since);
        match longest {
            Some((_, clocks)) => {
                clocks.shed();
                true
            }
            None => false,
        }
    }
}

/// The next connection. When `accept` fails for want of a resource (`EMFILE`: too many open
/// files), sheds the connection that has waited longest for a request, if there is one, and
/// otherwise waits a moment, and tries again instead of spinning; it says so once when the
/// episode starts and once when it ends. `failing` holds when the last failure of the current
/// episode was.
async fn accept(
    listener: &TcpListener,
    failing: &mut Option<Instant>,
    open: &Open,
) -> (TcpStream, SocketAddr) {
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
                let pause = if open.shed_longest_waiting() {
                    ACCEPT_AFTER_SHEDDING
                } else {
                    ACCEPT_BACKOFF
                };
                tokio::time::sleep(pause).await;
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

/// How many client connections may be open at once: `--max-connections`, or fewer when the
/// open-files limit (raised to its hard limit first) leaves less room beside the files the
/// server keeps for itself — so that a flood of connections never takes the descriptors the
/// database needs, and new clients find room by shedding a waiting connection rather than by an
/// `accept` that fails. (HAProxy derives its connection limit from the open-files limit alike.)
fn connection_limit(limits: &Limits) -> usize {
    let wanted = u64::from(limits.max_connections);
    let Some(open_files) = raise_open_files_limit() else {
        return wanted as usize;
    };
    let room = open_files.saturating_sub(limits.reserved_files).max(1);
    if room < wanted {
        tracing::warn!(
            open_files,
            max_connections = wanted,
            serving_at_most = room,
            "the open-files limit leaves room for fewer connections than --max-connections; raise \
             the hard limit (LimitNOFILE=, ulimit -Hn) or lower --max-connections"
        );
    }
    room.min(wanted) as usize
}

/// Raises the soft limit of open files to the hard limit: every connection is a file, and the
/// soft limit is often 1,024, far below `--max-connections`. Answers the limit in force, `None`
/// when there is none.
fn raise_open_files_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => return raised.current,
            Err(e) => tracing::warn!(error = %e, "cannot raise the open-files limit"),
        }
    }
    limit.current
}
