//! The command line as an operator meets it (CONTRACT §8): the real `porteiro` binary, one fresh
//! SQLite database per test, `serve` on a free loopback port, admin commands against the same file.

mod first_start;
mod help;
mod integrations;
mod keys;
mod orgs;
mod serving;
mod users;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use tempfile::TempDir;

const BINARY: &str = env!("CARGO_BIN_EXE_porteiro");
/// How long an admin command may take before the test calls it hung.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
const SERVE_STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
const PASSWORD: &str = "Correct-Horse-42";

/// One operator's workspace: a temporary directory holding the database every command uses.
struct Porteiro {
    dir: TempDir,
}

/// What a finished command left behind.
#[derive(Debug)]
struct Outcome {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// Asserts exit status 0 and parses standard output as exactly one JSON value on one line.
    fn json(&self) -> Value {
        assert!(self.status.success(), "command failed: {self:?}");
        assert_eq!(
            self.stdout.trim_end().lines().count(),
            1,
            "expected one line of JSON: {self:?}"
        );
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }

    /// Asserts the contract's refusal: status 2 and a first line of standard error that starts
    /// with `error:`.
    fn assert_refused(&self) {
        assert_eq!(
            self.status.code(),
            Some(2),
            "expected exit status 2: {self:?}"
        );
        let first = self.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error:"),
            "stderr must start with `error:`: {self:?}"
        );
    }
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
        let mut command = Command::new(BINARY);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PORTEIRO_") {
                command.env_remove(&name);
            }
        }
        command
            .env_remove("RUST_LOG")
            .env("PORTEIRO_ARGON2_MEMORY_KIB", "1024")
            .env("PORTEIRO_ARGON2_ITERATIONS", "1")
            .envs(env.iter().copied())
            .current_dir(self.dir.path());
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

    async fn serve(&self) -> Server {
        self.serve_with_env(&[]).await
    }

    /// Starts `serve` on a free port and waits until `/healthz` answers.
    async fn serve_with_env(&self, env: &[(&str, &str)]) -> Server {
        self.serve_with(|args| self.command(args, env)).await
    }

    /// Starts the command `make` builds for `serve`'s arguments (a free port), and waits until
    /// `/healthz` answers.
    async fn serve_with(&self, make: impl FnOnce(&[&str]) -> Command) -> Server {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut child = make(&["serve", "--listen", &listen])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut server = Server {
            stdout: collect(child.stdout.take().unwrap()),
            stderr: collect(child.stderr.take().unwrap()),
            child,
            address: format!("http://{listen}"),
            client: reqwest::Client::new(),
        };
        server.wait_until_healthy().await;
        server
    }
}

/// Runs an admin command to completion, feeding `stdin`, and panics if it hangs.
fn run_to_completion(mut command: Command, stdin: &str) -> Outcome {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    // A command that exits without reading its input must not leave the writer blocked.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let stdout = collect(child.stdout.take().unwrap());
    let stderr = collect(child.stderr.take().unwrap());
    let status = wait_for_exit(&mut child, COMMAND_TIMEOUT)
        .unwrap_or_else(|| panic!("{command:?} did not finish"));
    writer.join().unwrap();
    Outcome {
        status,
        stdout: stdout.finish(),
        stderr: stderr.finish(),
    }
}

/// Standard output or error of a child, read to the end on a thread so the pipe never fills.
struct Collected {
    text: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

fn collect(pipe: impl Read + Send + 'static) -> Collected {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let mut sink = sink.lock().unwrap();
            sink.push_str(&line);
            sink.push('\n');
        }
    });
    Collected {
        text,
        reader: Some(reader),
    }
}

impl Collected {
    fn so_far(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Everything, once the child has exited and closed the pipe.
    fn finish(mut self) -> String {
        self.join();
        self.so_far()
    }

    fn join(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Waits for `child` to exit; past `timeout` kills it and answers `None`.
fn wait_for_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A port nobody listened on a moment ago (the listener is dropped before `serve` binds it).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A running `porteiro serve`; killed when dropped, whatever the test did.
struct Server {
    child: Child,
    address: String,
    client: reqwest::Client,
    stdout: Collected,
    stderr: Collected,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + SERVE_STARTUP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.stderr.join();
                panic!("serve exited with {status}: {}", self.stderr.so_far());
            }
            let health = self.client.get(self.url("/healthz")).send().await;
            if health.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not answer /healthz within 20 s: {}",
                self.stderr.so_far()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Standard output so far (all of it after [`Server::terminate`]); first-start lines are
    /// printed before the server answers.
    /// What the server printed on standard output. The first start prints before the server
    /// answers, but the thread reading the pipe may lag: give it until the curl line (the last
    /// line of a first start) or two seconds.
    fn stdout(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let text = self.stdout.so_far();
            if text.contains("\ncurl ") || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and waits up to `timeout`; `None` if the server was still running then.
    fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
        let status = wait_for_exit(&mut self.child, timeout);
        self.stdout.join();
        self.stderr.join();
        status
    }

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
