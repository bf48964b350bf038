//! The session writes of the token endpoints — a new session per login and `POST /auth`, a
//! rotation per refresh with rotation on — go through one writer task, in batches. On
//! SQLite every statement is a round trip to the database's own thread and every commit a write
//! to its log, so one statement per request would bound those endpoints at the speed of that
//! round trip. Requests hand their write to the writer and wait for the answer; the writer takes
//! whatever has queued up meanwhile — one write when the server is quiet, dozens under load,
//! after letting the requests already under way join the batch (see `next_batch`) — and performs
//! all the new sessions with one guarded statement and all the rotations with another (see
//! [`WriterConnection`]).
//!
//! While writes keep arriving, the writer keeps its database connection for a few batches:
//! returning a connection to the pool costs a round trip of its own (sqlx checks it), which
//! would otherwise be paid per batch. The burst is bounded so that the other writes of the
//! server (failure counters, audit events, administration) wait for one short burst at most.

use tokio::sync::{mpsc, oneshot};

use super::AuthError;
use crate::store::{self, NewSession, Rotation, Store, WriterConnection};

/// Writes taken in one batch at most. Each batch size is its own statement text, prepared once
/// and kept in the connection's statement cache (100 statements): 32 sizes of insert and 32 of
/// rotation leave room for the rest.
const BATCH: usize = 32;
/// Batches written on one connection before it is handed back to the pool.
const BURST: usize = 8;
/// Writes waiting beyond this make request paths wait: back-pressure.
const QUEUE: usize = 4_096;

type Reply = oneshot::Sender<Result<bool, AuthError>>;

enum Write {
    Insert(NewSession),
    Rotate(Rotation),
}

pub struct SessionWrites {
    sender: mpsc::Sender<(Write, Reply)>,
}

fn failure(e: &sqlx::Error) -> AuthError {
    match store::unavailability(e) {
        Some(cause) => AuthError::Unavailable(cause),
        None => AuthError::Internal(anyhow::anyhow!("writing sessions: {e}")),
    }
}

fn answer(replies: Vec<Reply>, outcome: sqlx::Result<Vec<bool>>) {
    match outcome {
        Ok(done) => {
            for (done, reply) in done.into_iter().zip(replies) {
                let _ = reply.send(Ok(done));
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(failure(&e)));
            }
        }
    }
}

/// Performs one batch and answers each of its requests.
async fn write(conn: &mut WriterConnection, batch: &mut Vec<(Write, Reply)>) {
    let (mut inserts, mut insert_replies) = (Vec::new(), Vec::new());
    let (mut rotations, mut rotation_replies) = (Vec::new(), Vec::new());
    for (write, reply) in batch.drain(..) {
        match write {
            Write::Insert(session) => {
                inserts.push(session);
                insert_replies.push(reply);
            }
            Write::Rotate(rotation) => {
                rotations.push(rotation);
                rotation_replies.push(reply);
            }
        }
    }
    if !inserts.is_empty() {
        answer(insert_replies, conn.insert_sessions(&inserts).await);
    }
    if !rotations.is_empty() {
        answer(rotation_replies, conn.rotate_refresh(&rotations).await);
    }
}

/// Waits for the next writes and takes up to [`BATCH`] of them; 0 once the queue is closed and
/// empty. Before returning it lets the requests already under way reach the queue: the writer
/// steps back once behind the tasks that are ready to run (and the connections that have
/// something to read), then takes what they queued. Under load those requests are checking
/// credentials and signing their tokens; without the pause each of them would wait for the next
/// batch and its commit. A quiet server has nothing ready, and the pause costs one trip through
/// the scheduler. Measured in `bench/README.md`: fewer, larger commits, 10–15% less CPU per
/// token.
async fn next_batch(
    receiver: &mut mpsc::Receiver<(Write, Reply)>,
    batch: &mut Vec<(Write, Reply)>,
) -> usize {
    if receiver.recv_many(batch, BATCH).await == 0 {
        return 0;
    }
    if batch.len() < BATCH {
        tokio::task::yield_now().await;
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(write) => batch.push(write),
                Err(_) => break,
            }
        }
    }
    batch.len()
}

impl SessionWrites {
    /// Starts the writer task; it stops when this handle is dropped and the queue is drained.
    pub fn start(store: Store) -> Self {
        let (sender, mut receiver) = mpsc::channel::<(Write, Reply)>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while next_batch(&mut receiver, &mut batch).await > 0 {
                let mut conn = match store.session_writer().await {
                    Ok(conn) => conn,
                    Err(e) => {
                        for (_, reply) in batch.drain(..) {
                            let _ = reply.send(Err(failure(&e)));
                        }
                        continue;
                    }
                };
                write(&mut conn, &mut batch).await;
                for _ in 1..BURST {
                    if receiver.is_empty() {
                        break;
                    }
                    next_batch(&mut receiver, &mut batch).await;
                    write(&mut conn, &mut batch).await;
                }
            }
        });
        Self { sender }
    }

    async fn submit(&self, write: Write) -> Result<bool, AuthError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || AuthError::Internal(anyhow::anyhow!("the session writer has stopped"));
        self.sender
            .send((write, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Writes `session` unless its subject lost its access since its credential was checked:
    /// false then.
    pub async fn insert(&self, session: NewSession) -> Result<bool, AuthError> {
        self.submit(Write::Insert(session)).await
    }

    /// Performs `rotation` if its session is open, its subject entitled and the presented token
    /// still current: false otherwise, or when another request of the same batch rotated it.
    pub async fn rotate(&self, rotation: Rotation) -> Result<bool, AuthError> {
        self.submit(Write::Rotate(rotation)).await
    }
}
