//! Building and running the server: `Application::build` binds (port 0 in tests), assembles the
//! state and the background refreshers; `run_until_stopped` serves the route table (`routes`)
//! over the connection server (`serve`) until the shutdown signal, lets in-flight requests
//! finish, and closes the database.

mod routes;
mod serve;

pub use routes::routes;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use self::serve::{Limits, serve};
use crate::auth::audit::AuditWriter;
use crate::auth::keys::Keys;
use crate::auth::{Auth, AuthSettings, Lifetimes, SessionSettings};
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::store::{Backend, Store};
use crate::tokens::{KeyRing, Tokens};

/// How often an instance reloads the key ring: key changes are seen within this.
const KEY_RELOAD_EVERY: Duration = Duration::from_secs(5);
/// How often an instance reads sessions ended elsewhere: the one-second guarantee needs < 1 s.
const ENDED_POLL_EVERY: Duration = Duration::from_millis(500);
/// How often the SQLite log is checkpointed (see `Store::checkpoint`): often enough that it stays
/// small under load, so each checkpoint is short.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// How often stale failed-login counters, fully expired sessions and audit events past their
/// retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// How often, while the database says "try later", a probe write checks whether it has
/// recovered (see `Store::recover`).
const RECOVER_EVERY: Duration = Duration::from_secs(1);

/// What the application serves with. Handlers reach `auth` through axum's state (every
/// router is a `Router<Arc<Auth>>`), so neither surface names this type.
#[derive(Clone)]
pub struct AppState {
    pub auth: Arc<Auth>,
    pub settings: Arc<Settings>,
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    background: Vec<JoinHandle<()>>,
    audit_writer: AuditWriter,
}

impl Application {
    /// Connects to the database (applying migrations), unlocks the master key, binds the
    /// listener and loads the keys. A master key the operator must fix fails with a
    /// [`crate::tokens::master::MasterKeyError`] in the chain.
    pub async fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let store = Store::connect(
            &settings.database,
            settings.database_pool_size,
            settings.database_connect_timeout,
            settings.sqlite_synchronous,
        )
        .await?;
        let master = Keys::unlock(&store, &settings.master_key, &settings.database).await?;
        let listener = TcpListener::bind(settings.listen).await?;
        let issuer = settings.issuer_for(listener.local_addr()?);
        let now = clock.now();
        let ring = KeyRing::new(
            settings.algorithm,
            settings.longest_token_lifetime().as_secs() as i64,
            settings.hs256_secret.as_ref(),
            master.clone(),
        );
        Keys::new(&store, &master)
            .ensure_signing_key(&ring, now)
            .await?;
        let settings = Arc::new(settings);
        let tokens = Tokens::new(
            ring,
            settings.algorithm,
            issuer,
            settings.leeway.as_secs() as i64,
        );
        let lockout_key = master.derive(crate::tokens::master::Purpose::Lockout);
        let auth_settings = auth_settings(&settings, lockout_key)?;
        let (auth, audit_writer) = Auth::start(store, tokens, auth_settings, clock).await?;
        let auth = Arc::new(auth);
        let mut background = vec![
            every(
                "reload signing keys",
                KEY_RELOAD_EVERY,
                auth.clone(),
                |auth| async move {
                    let ring = &auth.tokens().ring;
                    Keys::of_ring(&auth.store().background(), ring)
                        .reload(ring)
                        .await
                },
            ),
            every(
                "read ended sessions",
                ENDED_POLL_EVERY,
                auth.clone(),
                |auth| async move { Ok(auth.poll_ended_sessions().await?) },
            ),
            {
                let settings = settings.clone();
                every(
                    "prune stale counters, sessions and audit events",
                    PRUNE_EVERY,
                    auth.clone(),
                    move |auth| prune(auth, settings.clone()),
                )
            },
        ];
        background.push(every(
            "probe an unusable database",
            RECOVER_EVERY,
            auth.clone(),
            |auth| async move {
                auth.store().recover().await;
                Ok(())
            },
        ));
        if auth.store().backend() == Backend::Sqlite {
            background.push(every(
                "checkpoint the SQLite log",
                CHECKPOINT_EVERY,
                auth.clone(),
                |auth| async move { Ok(auth.store().checkpoint().await?) },
            ));
        }
        Ok(Self {
            listener,
            state: AppState { auth, settings },
            background,
            audit_writer,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and closes the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let store = self.state.auth.store().clone();
        let limits = Limits::of(&self.state.settings);
        let router = routes::routes(self.state.auth);
        serve(self.listener, router, limits, shutdown).await;
        for task in self.background {
            task.abort();
        }
        self.audit_writer.stop().await;
        store.close().await;
        Ok(())
    }
}

/// What the use-cases are configured with, from the process's settings.
fn auth_settings(settings: &Settings, lockout_key: [u8; 32]) -> anyhow::Result<AuthSettings> {
    let seconds = |d: Duration| d.as_secs() as i64;
    Ok(AuthSettings {
        sessions: SessionSettings {
            user: Lifetimes {
                access: seconds(settings.access_token_lifetime),
                refresh: seconds(settings.refresh_token_lifetime),
            },
            integration: Lifetimes {
                access: seconds(settings.integration_access_token_lifetime),
                refresh: seconds(settings.integration_refresh_token_lifetime),
            },
            rotate_refresh_tokens: settings.rotate_refresh_tokens,
            refresh_reuse_grace: settings.refresh_reuse_grace,
        },
        argon2: settings.argon2,
        hashing_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        lockout: settings.lockout.clone(),
        lockout_key,
        remember_ended_for: seconds(settings.longest_access_lifetime()),
        trusted_proxies: settings.trusted_proxies.clone(),
        oauth_access_tokens: settings.oauth_access_tokens()?,
    })
}

/// Deletes stale failed-login counters, fully expired sessions and audit events past their
/// retention.
async fn prune(auth: Arc<Auth>, settings: Arc<Settings>) -> anyhow::Result<()> {
    let store = auth.store();
    let (now, window) = (auth.now(), settings.lockout.window.as_secs() as i64);
    store.prune_attempts(now, window).await?;
    let access = settings.longest_access_lifetime().as_secs() as i64;
    store.prune_sessions(now - access).await?;
    if let Some(keep) = settings.audit_retention {
        let keep = i64::try_from(keep.as_secs()).unwrap_or(i64::MAX);
        store.prune_audit_events(now.saturating_sub(keep)).await?;
    }
    Ok(())
}

/// Runs `work` every `period`, skipping missed ticks. A failure is logged when it starts and
/// when it ends, not on every tick of an outage.
fn every<F, Fut>(what: &'static str, period: Duration, auth: Arc<Auth>, work: F) -> JoinHandle<()>
where
    F: Fn(Arc<Auth>) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        ticks.tick().await;
        let mut failing = false;
        loop {
            ticks.tick().await;
            let outcome = work(auth.clone()).await;
            if let Err(e) = &outcome
                && let Some(cause) = crate::store::unavailability_in(e)
            {
                auth.store().note_unavailable(cause);
            }
            match outcome {
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!(task = what, "recovered");
                }
                Ok(()) => {}
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(
                        task = what,
                        error = format!("{e:#}"),
                        "background task failing"
                    );
                }
                Err(_) => {}
            }
        }
    })
}

/// A future that resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called,
/// not when the future is first polled, so a signal that arrives early is not lost (nor does it
/// kill the process with the default action).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        let terminate = async {
            match terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            () = terminate => {},
        }
        tracing::info!("shutting down: finishing in-flight requests");
    }
}
