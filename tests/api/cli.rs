//! The command line as an operator meets it (CONTRACT §8): the real `porteiro` binary, one fresh
//! SQLite database per test, `serve` on a free loopback port, admin commands against the same file.

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
        let listen = format!("127.0.0.1:{}", free_port());
        let mut child = self
            .command(&["serve", "--listen", &listen], env)
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

// First start

#[tokio::test]
async fn first_start_prints_admin_at_localhost_a_generated_password_and_a_curl_line_that_logs_in() {
    let porteiro = Porteiro::new();

    let server = porteiro.serve().await;

    let stdout = server.stdout();
    assert!(
        stdout.lines().any(|l| l == "username: admin@localhost"),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("password: ")),
        "{stdout}"
    );
    let tokens = run_curl_line(&stdout, &[]);
    assert!(
        tokens["refresh"].is_string() && tokens["access"].is_string(),
        "{tokens}"
    );
}

#[tokio::test]
async fn first_start_with_admin_username_and_password_set_makes_that_user_owner_and_prints_no_password()
 {
    let porteiro = Porteiro::new();
    let env = [
        ("PORTEIRO_ADMIN_USERNAME", "boss@example.com"),
        ("PORTEIRO_ADMIN_PASSWORD", "Env-Given-Password-7"),
    ];

    let server = porteiro.serve_with_env(&env).await;

    let stdout = server.stdout();
    assert!(
        stdout.lines().any(|l| l == "username: boss@example.com"),
        "{stdout}"
    );
    assert!(!stdout.contains("Env-Given-Password-7"), "{stdout}");
    assert!(
        !stdout.lines().any(|l| l.starts_with("password:")),
        "{stdout}"
    );
    let tokens = run_curl_line(&stdout, &env);
    let me = server.me(tokens["access"].as_str().unwrap()).await;
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], "boss@example.com");
    assert_eq!(me["org_id"], 1);
    assert_eq!(me["role"], "owner");
}

#[tokio::test]
async fn first_start_curl_line_logs_in_even_when_the_admin_password_holds_quotes_and_backslashes() {
    let porteiro = Porteiro::new();
    let env = [
        ("PORTEIRO_ADMIN_USERNAME", "boss@example.com"),
        ("PORTEIRO_ADMIN_PASSWORD", r#"Say "hi" \ $HOME `x`"#),
    ];

    let server = porteiro.serve_with_env(&env).await;

    let tokens = run_curl_line(&server.stdout(), &env);
    assert!(tokens["access"].is_string(), "{tokens}");
}

#[test]
fn first_start_with_only_one_of_admin_username_and_password_exits_non_zero_with_an_error() {
    for env in [
        ("PORTEIRO_ADMIN_USERNAME", "boss@example.com"),
        ("PORTEIRO_ADMIN_PASSWORD", "Env-Given-Password-7"),
    ] {
        let porteiro = Porteiro::new();
        let listen = format!("127.0.0.1:{}", free_port());
        let mut child = porteiro
            .command(&["serve", "--listen", &listen], &[env])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());

        let status = wait_for_exit(&mut child, SERVE_STARTUP_TIMEOUT);

        let (stdout, stderr) = (stdout.finish(), stderr.finish());
        let status = status.unwrap_or_else(|| panic!("serve with only {} kept running", env.0));
        assert!(!status.success(), "serve with only {} succeeded", env.0);
        assert!(
            stderr.lines().any(|l| l.starts_with("error:")),
            "no `error:` line with only {}: {stderr}",
            env.0
        );
        assert!(!stdout.contains("password"), "{stdout}");
    }
}

#[tokio::test]
async fn a_second_start_on_the_same_database_prints_no_password() {
    let porteiro = Porteiro::new();
    let mut first = porteiro.serve().await;
    first.terminate(Duration::from_secs(10));
    assert!(first.stdout().contains("password: "));
    drop(first);

    let mut second = porteiro.serve().await;
    second.terminate(Duration::from_secs(10));

    let stdout = second.stdout();
    assert!(!stdout.contains("password"), "{stdout}");
    assert!(!stdout.contains("curl"), "{stdout}");
}

// Organizations

#[test]
fn org_create_with_json_prints_exactly_one_object_with_id_and_name() {
    let porteiro = Porteiro::new();

    let org = porteiro.json("org create --name Acme --json");

    assert_eq!(keys_of(&org), ["id", "name"]);
    assert!(org["id"].as_i64().unwrap() >= 1, "{org}");
    assert_eq!(org["name"], "Acme");
}

#[test]
fn org_list_with_json_prints_an_array_of_every_organization() {
    let porteiro = Porteiro::new();
    porteiro.json("migrate --json");
    assert_eq!(porteiro.json("org list --json"), json!([]));
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");

    let list = porteiro.json("org list --json");

    let expected = json!([{"id": acme, "name": "Acme"}, {"id": globex, "name": "Globex"}]);
    assert_eq!(list, expected);
}

#[test]
fn org_create_with_a_duplicate_name_exits_2_and_leaves_org_list_unchanged() {
    let porteiro = Porteiro::new();
    porteiro.create_org("Acme");
    let before = porteiro.json("org list --json");

    let outcome = porteiro.run("org create --name Acme --json");

    outcome.assert_refused();
    assert_eq!(porteiro.json("org list --json"), before);
}

#[test]
fn the_json_flag_may_stand_before_between_or_after_the_subcommands() {
    let porteiro = Porteiro::new();

    for (name, line) in [
        ("A", "--json org create --name A"),
        ("B", "org --json create --name B"),
        ("C", "org create --json --name C"),
        ("D", "org create --name D --json"),
    ] {
        assert_eq!(porteiro.json(line)["name"], name, "{line}");
    }
}

#[test]
fn without_json_org_create_prints_a_human_line() {
    let porteiro = Porteiro::new();

    let outcome = porteiro.run("org create --name Acme");

    assert!(outcome.status.success(), "{outcome:?}");
    assert_eq!(outcome.stdout.lines().count(), 1, "{outcome:?}");
    assert!(
        serde_json::from_str::<Value>(&outcome.stdout).is_err(),
        "{outcome:?}"
    );
    assert!(outcome.stdout.contains("Acme"), "{outcome:?}");
}

#[test]
fn org_create_with_a_blank_name_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();

    for name in ["", "   "] {
        let outcome = porteiro.run_args(&["org", "create", "--name", name, "--json"], "");
        outcome.assert_refused();
    }
    assert_eq!(porteiro.json("org list --json"), json!([]));
}

#[test]
fn admin_commands_take_the_database_from_porteiro_database() {
    let porteiro = Porteiro::new();
    let elsewhere = format!("sqlite://{}/elsewhere.db", porteiro.dir.path().display());
    let mut command = porteiro.bare_command(&[("PORTEIRO_DATABASE", &elsewhere)]);
    command.args(["org", "create", "--name", "Acme", "--json"]);

    run_to_completion(command, "").json();

    let listed = porteiro.json_in(&elsewhere, "org list --json");
    assert_eq!(listed, json!([{"id": 1, "name": "Acme"}]));
    assert!(!porteiro.has_file("porteiro.db"));
}

#[test]
fn the_database_flag_beats_porteiro_database() {
    let porteiro = Porteiro::new();
    let elsewhere = format!("sqlite://{}/elsewhere.db", porteiro.dir.path().display());
    let args = ["org", "create", "--name", "Acme", "--json"];

    run_to_completion(
        porteiro.command(&args, &[("PORTEIRO_DATABASE", &elsewhere)]),
        "",
    )
    .json();

    assert_eq!(
        porteiro.json("org list --json"),
        json!([{"id": 1, "name": "Acme"}])
    );
    assert!(!porteiro.has_file("elsewhere.db"));
}

#[test]
fn commands_that_only_read_or_change_records_refuse_a_missing_database_and_create_no_file() {
    let porteiro = Porteiro::new();

    for line in [
        "org list --json",
        "user list --org 1 --json",
        "user disable --username ana@example.com",
        "keys list --json",
    ] {
        porteiro.run(line).assert_refused();
    }
    assert!(!porteiro.has_file("porteiro.db"));
}

// Creating users

#[tokio::test]
async fn user_create_with_password_stdin_drops_a_trailing_lf_or_crlf() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    for (username, ending) in [("lf@example.com", "\n"), ("crlf@example.com", "\r\n")] {
        let line = format!(
            "user create --org {org} --username {username} --role admin --password-stdin --json"
        );
        let created = porteiro
            .run_with_stdin(&line, &format!("{PASSWORD}{ending}"))
            .json();
        let expected =
            json!({"id": created["id"], "username": username, "org_id": org, "role": "admin"});
        assert_eq!(created, expected);
    }

    let server = porteiro.serve().await;

    for username in ["lf@example.com", "crlf@example.com"] {
        let response = server.login(org, username, PASSWORD).await;
        assert_eq!(response.status(), 200, "{username} cannot log in");
    }
}

#[tokio::test]
async fn user_create_without_password_stdin_prints_a_generated_password_that_logs_in() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    let created = porteiro.json(&format!(
        "user create --org {org} --username gen@example.com --json"
    ));

    assert_eq!(
        keys_of(&created),
        ["id", "org_id", "password", "role", "username"]
    );
    assert_eq!(created["role"], "member");
    let password = created["password"].as_str().unwrap();
    assert!(password.len() >= 16, "{password:?} is too short");
    let server = porteiro.serve().await;
    let response = server.login(org, "gen@example.com", password).await;
    assert_eq!(response.status(), 200);
}

#[test]
fn user_create_trims_and_lower_cases_the_username() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    let created = porteiro.create_user(org, "  Ana.Souza@Example.COM.br ", PASSWORD);

    assert_eq!(created["username"], "ana.souza@example.com.br");
    assert_eq!(
        porteiro.members(org)[0]["username"],
        "ana.souza@example.com.br"
    );
}

/// Runs `user create --org <org> --json <args>` with `stdin`, asserts the refusal, and that the
/// organization's member list did not change.
fn assert_user_create_refused(porteiro: &Porteiro, org: i64, args: &[&str], stdin: &str) {
    let before = porteiro.members(org);
    let org_arg = org.to_string();
    let mut line = vec!["user", "create", "--org", &org_arg, "--json"];
    line.extend_from_slice(args);

    porteiro.run_args(&line, stdin).assert_refused();

    assert_eq!(porteiro.members(org), before, "{line:?} wrote something");
}

#[test]
fn user_create_with_a_bad_email_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    for bad in [
        "not-an-address",
        "@example.com",
        "ana@",
        "a@b@c",
        "an a@example.com",
    ] {
        assert_user_create_refused(&porteiro, org, &["--username", bad], "");
    }
}

#[test]
fn user_create_with_an_unknown_role_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    for role in ["superuser", "Owner", ""] {
        let args = ["--username", "ana@example.com", "--role", role];
        assert_user_create_refused(&porteiro, org, &args, "");
    }
}

#[test]
fn user_create_with_an_unknown_org_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    let outcome = porteiro.run_with_stdin(
        "user create --org 999 --username ana@example.com --password-stdin --json",
        &format!("{PASSWORD}\n"),
    );

    outcome.assert_refused();
    // Had a user row been written, the name would now be taken.
    let created = porteiro.create_user(org, "ana@example.com", PASSWORD);
    assert_eq!(created["username"], "ana@example.com");
}

#[test]
fn user_create_with_an_org_that_is_not_a_positive_integer_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    for bad in ["0", "-1", "abc", "1.0", "99999999999999999999"] {
        let line = format!("user create --org {bad} --username ana@example.com --json");
        porteiro.run(&line).assert_refused();
    }
    assert_eq!(porteiro.members(org), json!([]));
}

#[test]
fn user_create_of_an_existing_username_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    porteiro.create_user(acme, "ana@example.com", PASSWORD);

    for org in [acme, globex] {
        let args = ["--username", "ANA@example.com", "--password-stdin"];
        assert_user_create_refused(&porteiro, org, &args, "Another-Password-9\n");
    }
    assert_eq!(porteiro.members(globex), json!([]));
}

#[test]
fn user_create_with_a_password_under_8_characters_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    // Seven characters: the line ending must not count as the eighth.
    for stdin in ["1234567\n", "1234567\r\n", "\n", ""] {
        let args = ["--username", "ana@example.com", "--password-stdin"];
        assert_user_create_refused(&porteiro, org, &args, stdin);
    }
    assert_eq!(porteiro.members(org), json!([]));
}

// Managing users

#[test]
fn user_list_with_json_prints_every_member_of_the_organization() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    let ana = porteiro.create_user(acme, "ana@example.com", PASSWORD);
    let bia = porteiro.create_user(acme, "bia@example.com", PASSWORD);
    porteiro.create_user(globex, "caio@example.com", PASSWORD);

    let list = porteiro.members(acme);

    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    for (member, created) in list.iter().zip([&ana, &bia]) {
        assert_eq!(member["id"], created["id"]);
        assert_eq!(member["username"], created["username"]);
        assert_eq!(member["org_id"], acme);
        assert_eq!(member["role"], "member");
        assert_eq!(member["active"], true);
    }
}

#[test]
fn user_list_of_an_unknown_organization_exits_2() {
    let porteiro = Porteiro::new();

    porteiro.run("user list --org 42 --json").assert_refused();
}

#[test]
fn user_grant_adds_a_membership_and_changes_its_role() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    let ana = porteiro.create_user(acme, "ana@example.com", PASSWORD);
    let grant = |role| {
        porteiro.json(&format!(
            "user grant --username ana@example.com --org {globex} --role {role} --json"
        ))
    };

    let added = grant("admin");
    let changed = grant("owner");

    let expected = |role| json!({"id": ana["id"], "username": "ana@example.com", "org_id": globex, "role": role});
    assert_eq!(added, expected("admin"));
    assert_eq!(changed, expected("owner"));
    let members = porteiro.members(globex);
    assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
    assert_eq!(members[0]["role"], "owner");
    assert_eq!(porteiro.members(acme)[0]["role"], "member");
}

#[test]
fn user_revoke_removes_the_membership_in_that_organization_only() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    porteiro.create_user(acme, "ana@example.com", PASSWORD);
    porteiro.json(&format!(
        "user grant --username ana@example.com --org {globex} --role member --json"
    ));

    let revoked = porteiro.json(&format!(
        "user revoke --username ana@example.com --org {acme} --json"
    ));

    let expected = json!({"username": "ana@example.com", "org_id": acme, "revoked": true});
    assert_eq!(revoked, expected);
    assert_eq!(porteiro.members(acme), json!([]));
    assert_eq!(porteiro.members(globex).as_array().unwrap().len(), 1);
}

#[test]
fn user_disable_and_enable_print_the_new_state_and_user_list_shows_it() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    porteiro.create_user(org, "ana@example.com", PASSWORD);

    let disabled = porteiro.json("user disable --username ana@example.com --json");
    let listed_after_disable = porteiro.members(org)[0]["active"].clone();
    let enabled = porteiro.json("user enable --username ana@example.com --json");
    let listed_after_enable = porteiro.members(org)[0]["active"].clone();

    assert_eq!(
        disabled,
        json!({"username": "ana@example.com", "active": false})
    );
    assert_eq!(
        enabled,
        json!({"username": "ana@example.com", "active": true})
    );
    assert_eq!(listed_after_disable, false);
    assert_eq!(listed_after_enable, true);
}

#[tokio::test]
async fn user_set_password_with_password_stdin_replaces_the_password() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    porteiro.create_user(org, "ana@example.com", PASSWORD);

    let changed = porteiro
        .run_with_stdin(
            "user set-password --username Ana@Example.com --password-stdin --json",
            "Brand-New-Password-8\r\n",
        )
        .json();

    assert_eq!(changed, json!({"username": "ana@example.com"}));
    let server = porteiro.serve().await;
    let with_new = server
        .login(org, "ana@example.com", "Brand-New-Password-8")
        .await;
    assert_eq!(with_new.status(), 200);
    let with_old = server.login(org, "ana@example.com", PASSWORD).await;
    assert_eq!(with_old.status(), 401);
}

#[test]
fn user_set_password_without_password_stdin_prints_a_generated_password() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    porteiro.create_user(org, "ana@example.com", PASSWORD);

    let changed = porteiro.json("user set-password --username ana@example.com --json");

    assert_eq!(keys_of(&changed), ["password", "username"]);
    assert!(
        changed["password"].as_str().unwrap().len() >= 16,
        "{changed}"
    );
}

#[test]
fn user_commands_on_an_unknown_user_exit_2_and_write_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let ghost = "--username ghost@example.com";

    for line in [
        format!("user grant {ghost} --org {org} --role member"),
        format!("user revoke {ghost} --org {org}"),
        format!("user disable {ghost}"),
        format!("user enable {ghost}"),
        format!("user set-password {ghost} --password-stdin"),
    ] {
        let outcome = porteiro.run_with_stdin(&line, &format!("{PASSWORD}\n"));
        outcome.assert_refused();
    }
    assert_eq!(porteiro.members(org), json!([]));
}

#[test]
fn user_revoke_of_someone_who_is_not_a_member_exits_2() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    porteiro.create_user(acme, "ana@example.com", PASSWORD);

    let outcome = porteiro.run(&format!(
        "user revoke --username ana@example.com --org {globex}"
    ));

    outcome.assert_refused();
    assert_eq!(porteiro.members(acme).as_array().unwrap().len(), 1);
}

// Integrations

#[tokio::test]
async fn integration_create_prints_a_consumer_key_and_a_secret_key_that_obtain_tokens() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    let created = porteiro.create_integration(org, "Billing", &["invoices:read", "invoices:write"]);

    let keys = ["consumer_key", "name", "org_id", "scope", "secret_key"];
    assert_eq!(keys_of(&created), keys);
    assert_eq!(created["org_id"], org);
    assert_eq!(created["name"], "Billing");
    assert_eq!(created["scope"], json!(["invoices:read", "invoices:write"]));
    let server = porteiro.serve().await;
    let response = server.integration_auth(&created).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert!(tokens["access_token"].is_string(), "{tokens}");
}

#[test]
fn integration_list_shows_every_integration_of_the_organization_and_never_a_secret() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let billing = porteiro.create_integration(org, "Billing", &[]);
    let reports = porteiro.create_integration(org, "Reports", &["read"]);

    let outcome = porteiro.run(&format!("integration list --org {org} --json"));

    let list = outcome.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    for (listed, created) in list.iter().zip([&billing, &reports]) {
        assert_eq!(listed["consumer_key"], created["consumer_key"]);
        assert_eq!(listed["name"], created["name"]);
        assert_eq!(listed["scope"], created["scope"]);
        assert!(listed.get("secret_key").is_none(), "{listed}");
        let secret = created["secret_key"].as_str().unwrap();
        assert!(!outcome.stdout.contains(secret), "{outcome:?}");
    }
}

#[tokio::test]
async fn integration_rotate_secret_replaces_the_secret_key() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let old = porteiro.create_integration(org, "Billing", &[]);
    let key = old["consumer_key"].as_str().unwrap();

    let new = porteiro.json(&format!("integration rotate-secret {key} --json"));

    assert_eq!(keys_of(&new), ["consumer_key", "secret_key"]);
    assert_eq!(new["consumer_key"], key);
    assert_ne!(new["secret_key"], old["secret_key"]);
    let server = porteiro.serve().await;
    assert_eq!(server.integration_auth(&old).await.status(), 400);
    assert_eq!(server.integration_auth(&new).await.status(), 200);
}

#[tokio::test]
async fn integration_revoke_makes_post_auth_refuse_the_integration() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let created = porteiro.create_integration(org, "Billing", &[]);
    let key = created["consumer_key"].as_str().unwrap();

    let revoked = porteiro.json(&format!("integration revoke {key} --json"));

    assert_eq!(revoked, json!({"consumer_key": key, "revoked": true}));
    let server = porteiro.serve().await;
    assert_eq!(server.integration_auth(&created).await.status(), 400);
}

#[test]
fn integration_commands_with_an_unknown_org_or_key_or_bad_input_exit_2_and_write_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let unknown = "00000000-0000-4000-8000-000000000000";
    let name = "--name Billing";

    for line in [
        format!("integration create --org 999 {name}"),
        format!("integration create --org {org} {name} --scope bad\\scope"),
        format!("integration revoke {unknown}"),
        format!("integration rotate-secret {unknown}"),
        "integration revoke not-a-uuid".to_owned(),
        "integration rotate-secret not-a-uuid".to_owned(),
        "integration list --org 999".to_owned(),
    ] {
        porteiro.run(&line).assert_refused();
    }
    let blank_name = ["integration", "create", "--org", "1", "--name", " "];
    porteiro.run_args(&blank_name, "").assert_refused();
    assert_eq!(
        porteiro.json(&format!("integration list --org {org} --json")),
        json!([])
    );
}

#[test]
fn integration_revoke_of_a_revoked_integration_exits_2() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let key = porteiro.create_integration(org, "Billing", &[])["consumer_key"].clone();
    let revoke = format!("integration revoke {}", key.as_str().unwrap());
    assert!(porteiro.run(&revoke).status.success());

    porteiro.run(&revoke).assert_refused();
}

// Signing keys

#[test]
fn keys_list_with_json_shows_kid_algorithm_created_activates_retired_and_no_private_material() {
    let porteiro = Porteiro::new();
    porteiro.json("keys rotate --activate-in 0s --json");
    porteiro.json("keys rotate --activate-in 5m --json");

    let keys = porteiro.json("keys list --json");

    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for key in keys {
        assert_eq!(
            keys_of(key),
            ["activates", "algorithm", "created", "kid", "retired"]
        );
        assert_eq!(key["algorithm"], "ES256");
        assert!(key["kid"].is_string(), "{key}");
    }
    assert_eq!(keys[0]["retired"], keys[1]["activates"]);
    assert_eq!(keys[1]["retired"], Value::Null);
}

#[test]
fn keys_rotate_with_activate_in_0s_adds_a_key_that_activates_when_created() {
    let porteiro = Porteiro::new();
    porteiro.json("migrate --json");
    let before = porteiro.json("keys list --json");

    let rotated = porteiro.json("keys rotate --activate-in 0s --json");

    let after = porteiro.json("keys list --json");
    let after = after.as_array().unwrap();
    assert_eq!(after.len(), before.as_array().unwrap().len() + 1);
    let added = after
        .iter()
        .find(|k| k["kid"] == rotated["kid"])
        .expect("the new key is listed");
    assert_eq!(added["created"], added["activates"]);
    assert_eq!(rotated["activates"], added["activates"]);
}

#[test]
fn keys_rotate_with_activate_in_10m_activates_ten_minutes_after_creation() {
    let porteiro = Porteiro::new();

    let rotated = porteiro.json("keys rotate --activate-in 10m --json");

    let created = seconds_since_epoch(&rotated["created"]);
    let activates = seconds_since_epoch(&rotated["activates"]);
    assert_eq!(activates - created, 600, "{rotated}");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        created.abs_diff(now) < 120,
        "created {created} is not now ({now})"
    );
}

// Migrations

#[test]
fn migrate_exits_0_twice_in_a_row() {
    let porteiro = Porteiro::new();

    let first = porteiro.run("migrate");
    let second = porteiro.run("migrate");

    assert!(first.status.success(), "{first:?}");
    assert!(second.status.success(), "{second:?}");
}

// Against a running server

#[tokio::test]
async fn user_disable_while_serving_ends_the_users_tokens_within_2_seconds() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    porteiro.create_user(org, "ana@example.com", PASSWORD);
    let server = porteiro.serve().await;
    let (refresh, access) = server.tokens(org, "ana@example.com", PASSWORD).await;
    assert_eq!(server.me(&access).await.status(), 200);

    porteiro.json("user disable --username ana@example.com --json");

    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let status = server.me(&access).await.status();
        if status == 401 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the access token still answers {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(server.refresh(&refresh).await.status(), 401);
}

#[tokio::test]
async fn sigterm_makes_serve_exit_0_within_10_seconds() {
    let porteiro = Porteiro::new();
    let mut server = porteiro.serve().await;
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let status = server.terminate(Duration::from_secs(10));

    let status = status.expect("serve still running 10 s after SIGTERM");
    assert_eq!(status.code(), Some(0), "serve exited with {status}");
}
