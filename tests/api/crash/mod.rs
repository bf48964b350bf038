//! Crashes under load: the real `porteiro serve`, killed with SIGKILL while clients rotate their
//! refresh tokens, restarted on the same database; and PostgreSQL stopped at once under the same
//! load. Every client that held a token goes on, a consumed token is not accepted twice outside the
//! grace window, and the database is whole afterwards. Here: what both tests share, a deployment
//! and its clients.

mod postgres_outage;
mod sigkill;

use std::process::Command;

use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::Connection;
use tempfile::TempDir;

use crate::binary::{RunningServer, porteiro, run_to_completion};
use crate::helpers::{claims, new_master_key};

const CLIENTS: usize = 16;

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
