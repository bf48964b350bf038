//! One accepted connection: hyper's HTTP/1.1 on it, the client's address on every request
//! (`ConnectInfo<SocketAddr>`, as `axum::serve` gave it), and the deadlines of a connection that
//! waits — for a request's headers (the header timeout) or, kept alive, for its next request
//! (the idle timeout).
//!
//! Why both deadlines are ours: hyper's own `header_read_timeout` (hyper 1.12,
//! `proto/h1/conn.rs`, `poll_read_head` and `State::idle`) is started whenever the connection
//! waits for a head, at the accept and again each time a kept-alive connection goes idle. Set to
//! the header timeout (10 s) it would therefore also close every kept-alive connection after 10 s
//! idle. Clients and proxies that pool connections keep them far longer (reqwest and Go 90 s;
//! nginx's upstream keep-alive and AWS load balancers 60 s) and race such a close: a request sent
//! on a connection the server is closing fails, and a POST cannot be retried blindly. So idle
//! connections get the idle timeout (60 s), counted from the answer, while a request's headers
//! get the header timeout from its first byte (or from the accept, for the first request), which
//! only the application can tell apart. Hyper's timer stays on as a backstop at the longer of the
//! two, so that no connection waits for a head longer than that even if ours were wrong.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use super::Limits;

/// hyper's HTTP/1.1 server with keep-alive and its header timer as a backstop (see the module's
/// documentation).
pub(super) fn builder(limits: &Limits) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(limits.idle_timeout.max(limits.header_timeout));
    builder
}

/// The connection served: a future that ends when the connection closes, and its clocks, by
/// which it can be shed (see [`Clocks::shed`]).
pub(super) fn serve(
    builder: &http1::Builder,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: &Limits,
) -> (http1::Connection<TokioIo<Timed>, Answer>, Arc<Clocks>) {
    let clocks = Arc::new(Clocks::new(limits));
    let io = TokioIo::new(Timed::new(stream, clocks.clone()));
    let connection = builder.serve_connection(
        io,
        Answer {
            router,
            peer,
            clocks: clocks.clone(),
        },
    );
    (connection, clocks)
}

/// What a connection is waiting for, since when (the longest-waiting connection is the one shed
/// to make room) and until when.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// The rest of a request's head.
    Head { since: Instant, until: Instant },
    /// Nothing: the connection is kept alive between requests.
    Idle { since: Instant, until: Instant },
    /// A request is being answered; the request deadline of the handlers applies instead.
    Busy,
}

/// The phase of one connection, moved by the requests (`Answer`) and by the bytes that arrive
/// (`Timed`); and whether it is to be shed.
#[derive(Debug)]
pub(super) struct Clocks {
    phase: Mutex<Phase>,
    /// Set to close the connection at its next read (see [`Clocks::shed`]).
    shed: AtomicBool,
    /// The task reading the connection, to wake when it is shed.
    reader: Mutex<Option<Waker>>,
    header_timeout: std::time::Duration,
    idle_timeout: std::time::Duration,
}

impl Clocks {
    fn new(limits: &Limits) -> Self {
        let now = Instant::now();
        Clocks {
            phase: Mutex::new(Phase::Head {
                since: now,
                until: now + limits.header_timeout,
            }),
            shed: AtomicBool::new(false),
            reader: Mutex::new(None),
            header_timeout: limits.header_timeout,
            idle_timeout: limits.idle_timeout,
        }
    }

    /// Since when the connection has been waiting for a request, or `None` while it answers one
    /// (or once it is being shed).
    pub(super) fn waiting_since(&self) -> Option<Instant> {
        if self.shed.load(Ordering::Relaxed) {
            return None;
        }
        match self.phase() {
            Phase::Head { since, .. } | Phase::Idle { since, .. } => Some(since),
            Phase::Busy => None,
        }
    }

    /// Closes the connection at once if it is waiting for a request (it is woken to find out),
    /// or after the answer it is writing: it makes room for a new one.
    pub(super) fn shed(&self) {
        self.shed.store(true, Ordering::Relaxed);
        let reader = self
            .reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    fn update(&self, change: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        *phase = change(*phase);
    }

    fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A request's head is in: it is being answered.
    fn busy(&self) {
        self.update(|_| Phase::Busy);
    }

    /// The answer is ready. It is written at once (Porteiro's answers are small and whole), so
    /// the idle time is counted from here.
    fn idle(&self) {
        let now = Instant::now();
        self.update(|_| Phase::Idle {
            since: now,
            until: now + self.idle_timeout,
        });
    }

    /// Bytes arrived: on an idle connection, the first of a new request's head.
    fn bytes_arrived(&self) {
        let header_timeout = self.header_timeout;
        self.update(|phase| match phase {
            // Still waiting for a whole request: since it went idle.
            Phase::Idle { since, .. } => Phase::Head {
                since,
                until: Instant::now() + header_timeout,
            },
            other => other,
        });
    }
}

/// The client's socket, failing its reads once the connection has waited past its phase's
/// deadline; hyper then closes the connection without an answer. Reads are where hyper waits
/// for a head or for the next request, so that is where the deadline is watched.
pub(super) struct Timed {
    stream: TcpStream,
    clocks: Arc<Clocks>,
    sleep: Pin<Box<Sleep>>,
    armed: Instant,
}

impl Timed {
    fn new(stream: TcpStream, clocks: Arc<Clocks>) -> Self {
        let armed = match clocks.phase() {
            Phase::Head { until, .. } | Phase::Idle { until, .. } => until,
            Phase::Busy => Instant::now(),
        };
        Timed {
            stream,
            clocks,
            sleep: Box::pin(tokio::time::sleep_until(armed)),
            armed,
        }
    }
}

impl AsyncRead for Timed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.clocks.shed.load(Ordering::Relaxed) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "shed to make room for a new connection",
            )));
        }
        let waited_too_long = match this.clocks.phase() {
            Phase::Busy => None,
            Phase::Head { until, .. } => {
                Some((until, "no request headers within the header timeout"))
            }
            Phase::Idle { until, .. } => Some((until, "no request within the idle timeout")),
        };
        if let Some((until, why)) = waited_too_long {
            if until != this.armed {
                this.sleep.as_mut().reset(until);
                this.armed = until;
            }
            if this.sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, why)));
            }
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        match &read {
            Poll::Ready(Ok(())) if buf.filled().len() > before => this.clocks.bytes_arrived(),
            Poll::Pending => {
                let mut reader = this
                    .clocks
                    .reader
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if !reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *reader = Some(cx.waker().clone());
                }
                drop(reader);
                // Shed between the check above and storing the waker: nobody would wake us.
                if this.clocks.shed.load(Ordering::Relaxed) {
                    cx.waker().wake_by_ref();
                }
            }
            Poll::Ready(_) => {}
        }
        read
    }
}

impl AsyncWrite for Timed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The router as hyper calls it on one connection: the client's address put on every request,
/// and the connection's phase moved as requests come and are answered.
#[derive(Clone)]
pub(super) struct Answer {
    router: Router,
    peer: SocketAddr,
    clocks: Arc<Clocks>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Answer {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        self.clocks.busy();
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let answered = self.router.clone().oneshot(request);
        let clocks = self.clocks.clone();
        Box::pin(async move {
            let response = answered.await;
            clocks.idle();
            response
        })
    }
}
