//! Crashes under load: the real `porteiro serve`, killed with SIGKILL while clients rotate their
//! refresh tokens, restarted on the same database; and PostgreSQL stopped at once under the same
//! load. Every client that held a token goes on, a consumed token is not accepted twice outside the
//! grace window, and the database is whole afterwards.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::Connection;
use tempfile::TempDir;

use crate::binary::{RunningServer, porteiro, run_to_completion};
use crate::helpers::{claims, fresh_database, new_master_key};
use crate::postgres::{PgCluster, available};

const CLIENTS: usize = 16;
/// SIGKILLs under load per test.
const KILLS: usize = 4;
/// Immediate stops of PostgreSQL under load.
const HALTS: usize = 2;
const USERNAME: &str = "load@example.com";
const PASSWORD: &str = "Correct-Horse-42";

/// A number in `low..high`, from the system's random source.
fn random_between(low: u64, high: u64) -> u64 {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    low + u64::from_le_bytes(bytes) % (high - low)
}

/// The `jti` of a token.
fn jti(token: &str) -> String {
    claims(token)["jti"].as_str().unwrap().to_owned()
}

/// One database and what every process on it needs: a directory for SQLite, the
/// master key on PostgreSQL.
struct Deployment {
    dir: TempDir,
    database: String,
    master_key: Option<String>,
}

impl Deployment {
    fn new(dir: TempDir, database: String) -> Self {
        let master_key = database
            .starts_with("postgres")
            .then(|| new_master_key().expose_secret().to_owned());
        Self {
            dir,
            database,
            master_key,
        }
    }

    /// `porteiro --database <ours> <args>`, with cheap hashing and no inherited settings.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = porteiro(self.dir.path());
        command
            // Every start listens on a port of its own; the issuer, in every token, stays.
            .env("PORTEIRO_ISSUER", "http://porteiro.test")
            .arg("--database")
            .arg(&self.database)
            .args(args);
        if let Some(key) = &self.master_key {
            command.env("PORTEIRO_MASTER_KEY", key);
        }
        command
    }

    /// Runs an admin command that must succeed and print one JSON value.
    fn admin(&self, args: &[&str], stdin: &str) -> Value {
        run_to_completion(self.command(args), stdin).json()
    }

    /// An organization with one member; answers the organization's id.
    fn seed(&self) -> i64 {
        let org = self.admin(&["org", "create", "--name", "Load", "--json"], "")["id"]
            .as_i64()
            .unwrap();
        self.admin(
            &[
                "user",
                "create",
                "--org",
                &org.to_string(),
                "--username",
                USERNAME,
                "--password-stdin",
                "--json",
            ],
            &format!("{PASSWORD}\n"),
        );
        org
    }

    /// Starts `serve` with refresh rotation on a free port and waits until `/healthz` answers.
    async fn serve(&self, extra: &[&str]) -> RunningServer {
        let mut args = vec!["serve", "--rotate-refresh-tokens", "true"];
        args.extend_from_slice(extra);
        RunningServer::start(self.command(&args)).await
    }

    /// Checks that the sessions table holds what the clients did: one session per login, every
    /// row's state coherent (an end has its time, its time in milliseconds and its reason; a
    /// rotation has its predecessor and its time), and `ended` sessions ended by reuse.
    async fn assert_sessions_coherent(&self, ended: i64) {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.database).await.unwrap();
        let count = |sql: &'static str| sqlx::query_as::<_, (i64,)>(sql);
        let (total,) = count("SELECT COUNT(*) FROM sessions")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(total, CLIENTS as i64, "one session per login");
        let (incoherent,) = count(
            "SELECT COUNT(*) FROM sessions WHERE (ended_at IS NULL) <> (ended_ms IS NULL) \
             OR (ended_at IS NULL) <> (end_reason IS NULL) \
             OR previous_jti_digest IS NULL OR rotated_at_ms IS NULL \
             OR previous_jti_digest = current_jti_digest",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(incoherent, 0, "sessions in an incoherent state");
        let (reused,) = count("SELECT COUNT(*) FROM sessions WHERE end_reason = 'refresh_reuse'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let (all_ended,) = count("SELECT COUNT(*) FROM sessions WHERE ended_ms IS NOT NULL")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!((reused, all_ended), (ended, ended));
        conn.close().await.unwrap();
    }

    /// SQLite's own check of the file, opened after the last stop: `ok`, and no broken reference.
    async fn assert_sqlite_intact(&self) {
        let mut conn = sqlx::AnyConnection::connect(&self.database).await.unwrap();
        let checked: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(checked, [("ok".to_owned(),)]);
        let broken = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert!(broken.is_empty(), "{} broken references", broken.len());
        conn.close().await.unwrap();
    }
}

/// The requests of the clients under load.
trait Requests {
    async fn refresh(&self, token: &str) -> reqwest::Response;
    async fn rotate(&self, token: &str, what: &str) -> String;
    async fn logins(&self, org: i64, count: usize) -> Vec<String>;
}

impl Requests for RunningServer {
    async fn refresh(&self, token: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/token-refresh/"))
            .json(&json!({ "refresh": token }))
            .send()
            .await
            .unwrap()
    }

    /// Refreshes `token`, asserting 200; answers the new refresh token.
    async fn rotate(&self, token: &str, what: &str) -> String {
        let response = self.refresh(token).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        assert_eq!(status, 200, "{what}: {body}");
        body["refresh"].as_str().unwrap().to_owned()
    }

    /// `count` logins of the one member; answers their refresh tokens.
    async fn logins(&self, org: i64, count: usize) -> Vec<String> {
        let mut tokens = Vec::new();
        for _ in 0..count {
            let response = self
                .client
                .post(self.url(&format!("/api/v1/auth/token/{org}/")))
                .json(&json!({ "username": USERNAME, "password": PASSWORD }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            tokens.push(body["refresh"].as_str().unwrap().to_owned());
        }
        tokens
    }
}

/// What one client holds.
#[derive(Debug, Clone)]
struct Holder {
    /// The newest refresh token it has: from the last answer that arrived.
    newest: String,
    /// Its login's refresh token, long consumed.
    first: String,
    /// The token its last cut-off request sent, once it has been retried.
    retried: Option<String>,
    rotations: u64,
}

impl Holder {
    /// A client that has just logged in with `token`.
    fn logged_in(token: String) -> Self {
        Holder {
            newest: token.clone(),
            first: token,
            retried: None,
            rotations: 0,
        }
    }
}

/// How a client's loop ended when the server died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The request never reached a server: nothing was in flight when it died.
    Refused,
    /// The request was sent, or on its way, and no answer arrived.
    CutOff,
}

/// Refreshes in a loop, always with the newest token, until a request gets no answer.
async fn rotate_until_the_server_dies(
    http: reqwest::Client,
    url: String,
    mut holder: Holder,
) -> Result<(Holder, Ending), String> {
    loop {
        let sent = http
            .post(&url)
            .json(&json!({ "refresh": holder.newest }))
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_connect() => return Ok((holder, Ending::Refused)),
            Err(_) => return Ok((holder, Ending::CutOff)),
        };
        let status = response.status();
        let Ok(body) = response.json::<Value>().await else {
            return Ok((holder, Ending::CutOff));
        };
        if status != 200 {
            return Err(format!("a refresh under load answered {status}: {body}"));
        }
        holder.newest = body["refresh"].as_str().unwrap().to_owned();
        holder.rotations += 1;
    }
}

/// Rotation load, SIGKILL at a random moment 300–800 ms into it, restart: [`KILLS`] times. After
/// each restart every client refreshes the token it sent last (the newest it received) and then
/// retries it: both 200, with the same new `jti` (the retry gets the same newest token). Then,
/// with a grace window of 1 s that has passed, a consumed token is reuse: 401 and its session
/// ends. Every session row is coherent at the end.
async fn kill_under_load_and_restart(deployment: &Deployment) {
    let org = deployment.seed();
    let mut server = deployment.serve(&[]).await;
    let mut holders: Vec<Holder> = server
        .logins(org, CLIENTS)
        .await
        .into_iter()
        .map(Holder::logged_in)
        .collect();
    let (mut refused, mut cut_off) = (0, 0);
    for kill in 1..=KILLS {
        let url = server.url("/api/v1/auth/token-refresh/");
        let tasks: Vec<_> = holders
            .iter()
            .map(|h| {
                tokio::spawn(rotate_until_the_server_dies(
                    server.client.clone(),
                    url.clone(),
                    h.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(random_between(300, 800))).await;
        let before: u64 = holders.iter().map(|h| h.rotations).sum();
        server.kill();
        let mut endings = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            let (holder, ending) = task.await.unwrap().unwrap_or_else(|e| panic!("{e}"));
            holders[i] = holder;
            endings.push(ending);
        }
        let during: u64 = holders.iter().map(|h| h.rotations).sum::<u64>() - before;
        assert!(during > 0, "no rotation before kill {kill}");

        server.restart().await;
        for (i, holder) in holders.iter_mut().enumerate() {
            let what = format!("client {i} after kill {kill} ({:?})", endings[i]);
            let next = server.rotate(&holder.newest, &what).await;
            let again = server
                .rotate(&holder.newest, &format!("retry of {what}"))
                .await;
            assert_eq!(
                jti(&again),
                jti(&next),
                "{what}: the retry got another token"
            );
            holder.retried = Some(std::mem::replace(&mut holder.newest, next));
        }
        refused += endings.iter().filter(|e| **e == Ending::Refused).count();
        cut_off += endings.iter().filter(|e| **e == Ending::CutOff).count();
    }
    let rotations: u64 = holders.iter().map(|h| h.rotations).sum();
    eprintln!(
        "{KILLS} kills survived: {rotations} rotations under load; after the kills {cut_off} \
         requests had been cut off and {refused} found no server, all retried with success"
    );

    // Outside the grace window a consumed token is reuse, also one rotated just before a crash.
    server.kill();
    let mut server = deployment.serve(&["--refresh-reuse-grace", "1s"]).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let reused = [
        (0, holders[0].first.clone()),
        (1, holders[1].retried.clone().unwrap()),
    ];
    for (i, token) in &reused {
        assert_eq!(server.refresh(token).await.status(), 401, "client {i}");
        let newest = server.refresh(&holders[*i].newest).await.status();
        assert_eq!(newest, 401, "client {i}'s session must have ended");
    }
    for (i, holder) in holders.iter().enumerate().skip(reused.len()) {
        server
            .rotate(&holder.newest, &format!("client {i} at the end"))
            .await;
    }
    server.kill();
    deployment
        .assert_sessions_coherent(reused.len() as i64)
        .await;
}

/// On the suite's database: a SQLite file, or PostgreSQL under `scripts/with-postgres`.
#[tokio::test]
async fn sigkill_under_refresh_rotation_loses_no_token_and_leaves_the_database_intact() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(&dir).await;
    let deployment = Deployment::new(dir, database);
    kill_under_load_and_restart(&deployment).await;
    if deployment.database.starts_with("sqlite") {
        deployment.assert_sqlite_intact().await;
    }
}

/// What a client saw while PostgreSQL was stopped and started under it.
#[derive(Debug, Default)]
struct Outage {
    unavailable: AtomicU64,
    without_retry_after: AtomicU64,
    /// Clients that got a 200 since the database came back.
    served_again: AtomicU64,
}

/// Refreshes in a loop until `stop`, always with the newest token; a 503 is retried with the same
/// token after a moment. Anything else than 200 or 503 is a failure. Answers the holder and when
/// its first 200 after `resumed` was set came.
async fn rotate_through_outages(
    http: reqwest::Client,
    url: String,
    mut holder: Holder,
    outage: Arc<Outage>,
    stop: Arc<AtomicBool>,
    resumed: Arc<AtomicBool>,
) -> Result<(Holder, Option<Instant>), String> {
    let mut served_after_resume = None;
    while !stop.load(Ordering::Relaxed) {
        let response = http
            .post(&url)
            .json(&json!({ "refresh": holder.newest }))
            .send()
            .await
            .map_err(|e| format!("the server stopped answering: {e}"))?;
        let status = response.status();
        if status == 503 {
            outage.unavailable.fetch_add(1, Ordering::Relaxed);
            if !response.headers().contains_key("retry-after") {
                outage.without_retry_after.fetch_add(1, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("a refresh answered {status}: {body}"));
        }
        holder.newest = body["refresh"].as_str().unwrap().to_owned();
        holder.rotations += 1;
        if served_after_resume.is_none() && resumed.load(Ordering::Relaxed) {
            served_after_resume = Some(Instant::now());
            outage.served_again.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok((holder, served_after_resume))
}

#[tokio::test]
async fn postgres_stopped_at_once_under_refresh_rotation_gives_503s_then_serves_every_client_again()
{
    if !available() {
        return;
    }
    let cluster = tokio::task::spawn_blocking(PgCluster::start).await.unwrap();
    let deployment = Deployment::new(tempfile::tempdir().unwrap(), cluster.url());
    let org = deployment.seed();
    let mut server = deployment
        .serve(&["--database-connect-timeout", "2s"])
        .await;
    let mut holders: Vec<Holder> = server
        .logins(org, CLIENTS)
        .await
        .into_iter()
        .map(Holder::logged_in)
        .collect();
    let outage = Arc::new(Outage::default());
    let url = server.url("/api/v1/auth/token-refresh/");
    let mut cluster = Some(cluster);
    for halt in 1..=HALTS {
        let stop = Arc::new(AtomicBool::new(false));
        let resumed = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = holders
            .iter()
            .map(|h| {
                tokio::spawn(rotate_through_outages(
                    server.client.clone(),
                    url.clone(),
                    h.clone(),
                    outage.clone(),
                    stop.clone(),
                    resumed.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(random_between(300, 800))).await;
        let before = outage.unavailable.load(Ordering::Relaxed);
        outage.served_again.store(0, Ordering::Relaxed);
        let taken = cluster.take().unwrap();
        let taken = tokio::task::spawn_blocking(move || {
            taken.halt();
            taken
        })
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let taken = tokio::task::spawn_blocking(move || {
            taken.resume();
            taken
        })
        .await
        .unwrap();
        cluster = Some(taken);
        let resumed_at = Instant::now();
        resumed.store(true, Ordering::Relaxed);
        // Every client must get through again by itself: give them at most 10 s, then stop.
        let deadline = resumed_at + Duration::from_secs(10);
        while Instant::now() < deadline
            && outage.served_again.load(Ordering::Relaxed) < CLIENTS as u64
            && !tasks.iter().any(|t| t.is_finished())
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Some load after recovery, too.
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, Ordering::Relaxed);
        let mut slowest = Duration::ZERO;
        for (i, task) in tasks.into_iter().enumerate() {
            let (holder, served) = task
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("client {i}: {e}"));
            holders[i] = holder;
            let served =
                served.unwrap_or_else(|| panic!("client {i} not served after halt {halt}"));
            slowest = slowest.max(served.saturating_duration_since(resumed_at));
        }
        let unavailable = outage.unavailable.load(Ordering::Relaxed) - before;
        assert!(unavailable > 0, "no 503 while the database was down");
        eprintln!(
            "halt {halt}: {unavailable} answers 503 while PostgreSQL was down; every client \
             served again within {slowest:?} of its restart"
        );
    }
    assert_eq!(outage.without_retry_after.load(Ordering::Relaxed), 0);
    for (i, holder) in holders.iter().enumerate() {
        server
            .rotate(&holder.newest, &format!("client {i} at the end"))
            .await;
    }
    server.kill();
    deployment.assert_sessions_coherent(0).await;
    drop(cluster);
}
