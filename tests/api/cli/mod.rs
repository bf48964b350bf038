//! The command line as an operator meets it: the real `porteiro` binary, one fresh
//! SQLite database per test, `serve` on a free loopback port, admin commands against the same file.

mod first_start;
mod help;
mod integrations;
mod keys;
mod orgs;
mod serving;
mod users;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::binary::{
    Outcome, RunningServer, STARTUP_TIMEOUT, after_shell, collect, free_port, porteiro,
    run_to_completion, wait_for_exit,
};

const PASSWORD: &str = "Correct-Horse-42";

/// One operator's workspace: a temporary directory holding the database every command uses.
struct Porteiro {
    dir: TempDir,
}

impl Porteiro {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn has_file(&self, name: &str) -> bool {
        self.dir.path().join(name).exists()
    }

    fn database(&self) -> String {
        format!("sqlite://{}/porteiro.db", self.dir.path().display())
    }

    /// `porteiro`, run in our directory with cheap hashing and no inherited settings.
    fn bare_command(&self, env: &[(&str, &str)]) -> Command {
        let mut command = porteiro(self.dir.path());
        command.envs(env.iter().copied());
        command
    }

    /// `porteiro --database <ours> <args>`.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = self.bare_command(env);
        command.arg("--database").arg(self.database()).args(args);
        command
    }

    /// Runs `line`, split at whitespace like a shell would split it, with nothing on stdin.
    fn run(&self, line: &str) -> Outcome {
        self.run_args(&line.split_whitespace().collect::<Vec<_>>(), "")
    }

    /// Runs `line` with `stdin` on standard input.
    fn run_with_stdin(&self, line: &str, stdin: &str) -> Outcome {
        self.run_args(&line.split_whitespace().collect::<Vec<_>>(), stdin)
    }

    fn run_args(&self, args: &[&str], stdin: &str) -> Outcome {
        run_to_completion(self.command(args, &[]), stdin)
    }

    /// Runs a command that must succeed and print one JSON value.
    fn json(&self, line: &str) -> Value {
        self.run(line).json()
    }

    /// Like [`Porteiro::json`], against another database of the same directory.
    fn json_in(&self, database: &str, line: &str) -> Value {
        let mut command = self.bare_command(&[]);
        command
            .arg("--database")
            .arg(database)
            .args(line.split_whitespace());
        run_to_completion(command, "").json()
    }

    fn create_org(&self, name: &str) -> i64 {
        self.json(&format!("org create --name {name} --json"))["id"]
            .as_i64()
            .unwrap()
    }

    fn create_user(&self, org: i64, username: &str, password: &str) -> Value {
        self.run_args(
            &[
                "user",
                "create",
                "--org",
                &org.to_string(),
                "--username",
                username,
                "--password-stdin",
                "--json",
            ],
            &format!("{password}\n"),
        )
        .json()
    }

    /// `integration create` with one `--scope` per scope; answers the printed JSON.
    fn create_integration(&self, org: i64, name: &str, scopes: &[&str]) -> Value {
        let mut line = format!("integration create --org {org} --name {name} --json");
        for scope in scopes {
            line.push_str(&format!(" --scope {scope}"));
        }
        self.json(&line)
    }

    fn members(&self, org: i64) -> Value {
        self.json(&format!("user list --org {org} --json"))
    }

    async fn serve(&self) -> RunningServer {
        self.serve_with_env(&[]).await
    }

    /// Starts `serve` on a free port and waits until `/healthz` answers.
    async fn serve_with_env(&self, env: &[(&str, &str)]) -> RunningServer {
        self.serve_with(|args| self.command(args, env)).await
    }

    /// Starts the command `make` builds for `serve`'s arguments (to which a free port is added),
    /// and waits until `/healthz` answers.
    async fn serve_with(&self, make: impl FnOnce(&[&str]) -> Command) -> RunningServer {
        RunningServer::start(make(&["serve"])).await
    }
}

/// The requests the CLI's tests make of a server they started.
trait Requests {
    async fn login(&self, org: i64, username: &str, password: &str) -> reqwest::Response;
    async fn tokens(&self, org: i64, username: &str, password: &str) -> (String, String);
    async fn integration_auth(&self, integration: &Value) -> reqwest::Response;
    async fn me(&self, access: &str) -> reqwest::Response;
    async fn refresh(&self, refresh: &str) -> reqwest::Response;
}

impl Requests for RunningServer {
    async fn login(&self, org: i64, username: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/auth/token/{org}/")))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Logs in and returns `(refresh, access)`.
    async fn tokens(&self, org: i64, username: &str, password: &str) -> (String, String) {
        let response = self.login(org, username, password).await;
        assert_eq!(response.status(), 200, "login of {username} failed");
        let body: Value = response.json().await.unwrap();
        (
            body["refresh"].as_str().unwrap().to_owned(),
            body["access"].as_str().unwrap().to_owned(),
        )
    }

    /// `POST /auth` of the integration dialect with the integration's key pair.
    async fn integration_auth(&self, integration: &Value) -> reqwest::Response {
        let credentials = json!({
            "consumer_key": integration["consumer_key"],
            "secret_key": integration["secret_key"],
        });
        self.client
            .post(self.url("/auth"))
            .json(&credentials)
            .send()
            .await
            .unwrap()
    }

    async fn me(&self, access: &str) -> reqwest::Response {
        self.client
            .get(self.url("/api/v1/me"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
    }

    async fn refresh(&self, refresh: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/token-refresh/"))
            .json(&json!({"refresh": refresh}))
            .send()
            .await
            .unwrap()
    }
}

/// The keys of a JSON object, sorted.
fn keys_of(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

fn seconds_since_epoch(rfc3339: &Value) -> u64 {
    let text = rfc3339
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {rfc3339}"));
    humantime::parse_rfc3339(text)
        .unwrap()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Runs the first start's curl line in a real shell, with `env`, and returns what it printed,
/// parsed as JSON: exactly what an operator pasting it would get.
fn run_curl_line(stdout: &str, env: &[(&str, &str)]) -> Value {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("curl "))
        .unwrap_or_else(|| panic!("no curl line in {stdout:?}"));
    let shell = Command::new("sh")
        .arg("-c")
        .arg(line)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(shell.status.success(), "the curl line failed: {line}");
    serde_json::from_slice(&shell.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {line} printed {:?}",
            String::from_utf8_lossy(&shell.stdout)
        )
    })
}
