//! The audit log. Request paths hand events to a background writer that stores them in batches,
//! so an audited login costs no extra round trip; events wait (they are never dropped) while the
//! database is away, and the writer drains what is left when the server stops.
//!
//! Every token is an event, so under load the writer would otherwise commit a handful of events
//! every few hundred microseconds, each time taking SQLite's one writer connection from the
//! session writer that the token requests are waiting for. After a batch that did not fill up it
//! pauses for `PAUSE`: an event of a quiet server is written at once, and a busy one commits
//! its events a few hundred at a time, some fifty times a second.

use std::net::IpAddr;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::domain::AuditEvent;
use crate::domain::OrgId;
use crate::store::Store;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    LoginSucceeded,
    LoginFailed,
    LockedOut,
    RefreshReuse,
    IntegrationAuthenticated,
    IntegrationCreated,
    IntegrationSecretRotated,
    IntegrationRevoked,
    UserCreated,
    MemberAdded,
    RoleChanged,
    MemberRemoved,
    UserDisabled,
    UserEnabled,
    PasswordChanged,
    SessionEnded,
    OrganizationRenamed,
}

impl Kind {
    pub const ALL: [Kind; 17] = [
        Kind::LoginSucceeded,
        Kind::LoginFailed,
        Kind::LockedOut,
        Kind::RefreshReuse,
        Kind::IntegrationAuthenticated,
        Kind::IntegrationCreated,
        Kind::IntegrationSecretRotated,
        Kind::IntegrationRevoked,
        Kind::UserCreated,
        Kind::MemberAdded,
        Kind::RoleChanged,
        Kind::MemberRemoved,
        Kind::UserDisabled,
        Kind::UserEnabled,
        Kind::PasswordChanged,
        Kind::SessionEnded,
        Kind::OrganizationRenamed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::LoginSucceeded => "login_succeeded",
            Kind::LoginFailed => "login_failed",
            Kind::LockedOut => "locked_out",
            Kind::RefreshReuse => "refresh_reuse",
            Kind::IntegrationAuthenticated => "integration_authenticated",
            Kind::IntegrationCreated => "integration_created",
            Kind::IntegrationSecretRotated => "integration_secret_rotated",
            Kind::IntegrationRevoked => "integration_revoked",
            Kind::UserCreated => "user_created",
            Kind::MemberAdded => "member_added",
            Kind::RoleChanged => "role_changed",
            Kind::MemberRemoved => "member_removed",
            Kind::UserDisabled => "user_disabled",
            Kind::UserEnabled => "user_enabled",
            Kind::PasswordChanged => "password_changed",
            Kind::SessionEnded => "session_ended",
            Kind::OrganizationRenamed => "organization_renamed",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Builds an event. `actor` did it; `subject` is whom or what it concerned.
pub fn event(
    org: Option<OrgId>,
    at: i64,
    kind: Kind,
    actor: Option<&str>,
    subject: Option<&str>,
    client: Option<IpAddr>,
) -> AuditEvent {
    AuditEvent {
        org_id: org.map(OrgId::get),
        at,
        kind: kind.as_str().to_owned(),
        actor: actor.map(str::to_owned),
        subject: subject.map(str::to_owned),
        client_addr: client.map(|c| c.to_string()),
        detail: None,
    }
}

/// The sending half, held by the use-cases.
pub struct AuditLog {
    sender: mpsc::Sender<AuditEvent>,
}

/// The writer task and the switch that stops it.
pub struct AuditWriter {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Events waiting to be written beyond this make request paths wait: back-pressure, not loss.
const QUEUE: usize = 10_000;
const BATCH: usize = 500;
/// After a batch smaller than [`BATCH`], the writer waits this long for more events.
const PAUSE: Duration = Duration::from_millis(20);

impl AuditLog {
    pub fn start(store: Store) -> (Self, AuditWriter) {
        let (sender, mut receiver) = mpsc::channel::<AuditEvent>(QUEUE);
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                let received = tokio::select! {
                    received = receiver.recv_many(&mut batch, BATCH) => received,
                    _ = stopped.changed() => break,
                };
                if received == 0 {
                    break;
                }
                write_until_done(&store, &mut batch).await;
                if received < BATCH {
                    tokio::select! {
                        () = tokio::time::sleep(PAUSE) => {}
                        _ = stopped.changed() => break,
                    }
                }
            }
            while let Ok(event) = receiver.try_recv() {
                batch.push(event);
            }
            write_or_log(&store, &mut batch).await;
        });
        (Self { sender }, AuditWriter { stop, task })
    }

    /// Queues an event for writing.
    pub async fn record(&self, event: AuditEvent) {
        if self.sender.send(event).await.is_err() {
            tracing::error!("audit writer has stopped; event not recorded");
        }
    }
}

impl AuditWriter {
    /// Writes what is queued and stops.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Writes a batch, retrying while the database is unavailable.
async fn write_until_done(store: &Store, batch: &mut Vec<AuditEvent>) {
    let mut wait = Duration::from_millis(100);
    while !batch.is_empty() {
        match write(store, batch).await {
            Ok(()) => batch.clear(),
            Err(e) => {
                tracing::warn!(error = %e, events = batch.len(), "cannot write audit events; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    }
}

async fn write(store: &Store, batch: &[AuditEvent]) -> sqlx::Result<()> {
    for chunk in batch.chunks(BATCH) {
        store.insert_audit_events(chunk).await?;
    }
    Ok(())
}

/// At shutdown: a few tries, then whatever could not be stored goes to the log, one line per
/// event, so that stopping never hangs and never loses an event.
async fn write_or_log(store: &Store, batch: &mut Vec<AuditEvent>) {
    for attempt in 0..5 {
        match write(store, batch).await {
            Ok(()) => return batch.clear(),
            Err(e) if attempt == 4 => {
                tracing::error!(error = %e, "cannot write audit events at shutdown")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
    for e in batch.drain(..) {
        tracing::error!(event = ?e, "audit event not stored");
    }
}
