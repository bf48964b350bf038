//! New sessions are written in batches: every login and client-credentials token writes one
//! session row, and on SQLite every statement is a round trip to the database's own thread, so
//! one statement per request would bound the token endpoints at the speed of that round trip.
//! Requests hand their session to one writer task and wait for the answer; the writer takes
//! whatever has queued up meanwhile — one session when the server is quiet, dozens under load —
//! and inserts it with one guarded statement (see [`Store::insert_sessions`]).

use tokio::sync::{mpsc, oneshot};

use super::AuthError;
use crate::store::{self, NewSession, Store};

/// Sessions written by one statement at most.
const BATCH: usize = 64;
/// Sessions waiting beyond this make request paths wait: back-pressure.
const QUEUE: usize = 4_096;

type Reply = oneshot::Sender<Result<bool, AuthError>>;

pub struct SessionInserts {
    sender: mpsc::Sender<(NewSession, Reply)>,
}

impl SessionInserts {
    /// Starts the writer task; it stops when this handle is dropped and the queue is drained.
    pub fn start(store: Store) -> Self {
        let (sender, mut receiver) = mpsc::channel::<(NewSession, Reply)>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while receiver.recv_many(&mut batch, BATCH).await > 0 {
                let (sessions, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
                match store.insert_sessions(&sessions).await {
                    Ok(created) => {
                        for (session, reply) in sessions.iter().zip(replies) {
                            let _ = reply.send(Ok(created.contains(&session.sid)));
                        }
                    }
                    Err(e) => {
                        let unavailable = store::is_unavailable(&e);
                        let e = anyhow::Error::from(e);
                        for reply in replies {
                            let _ = reply.send(Err(if unavailable {
                                AuthError::Unavailable
                            } else {
                                AuthError::Internal(anyhow::anyhow!("{e:#}"))
                            }));
                        }
                    }
                }
            }
        });
        Self { sender }
    }

    /// Writes `session` unless its subject lost its access since its credential was checked:
    /// false then.
    pub async fn insert(&self, session: NewSession) -> Result<bool, AuthError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || AuthError::Internal(anyhow::anyhow!("the session writer has stopped"));
        self.sender
            .send((session, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}
