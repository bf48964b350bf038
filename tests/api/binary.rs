//! The real `porteiro` binary, as the tests that need a process of their own run it: one way to
//! build its command line, to run an admin command to completion, and to start `serve` on a free
//! port, wait until it answers, read what it printed, stop it (SIGTERM), kill it (SIGKILL) and
//! start it again. Every other test runs the application in-process ([`crate::helpers::TestApp`]).

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_porteiro");
/// How long an admin command may take before the test calls it hung.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `serve` may take to answer `/healthz`.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a stopped server may take to exit before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// `porteiro`, run in `dir` with cheap hashing and none of the settings (`PORTEIRO_*`,
/// `RUST_LOG`) of the environment the tests run in.
pub fn porteiro(dir: &Path) -> Command {
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
        .current_dir(dir);
    command
}

/// `command` run by `sh` after `setup` (such as `ulimit -n 64` or `umask 022`), with its
/// environment and directory: what the shell sets up holds for the command.
pub fn after_shell(setup: &str, command: &Command) -> Command {
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(format!("{setup} && exec \"$0\" \"$@\""))
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => shell.env(name, value),
            None => shell.env_remove(name),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        shell.current_dir(dir);
    }
    shell
}

/// What a finished command left behind.
#[derive(Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Asserts exit status 0 and parses standard output as exactly one JSON value on one line.
    pub fn json(&self) -> Value {
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
    pub fn assert_refused(&self) {
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

/// Runs an admin command to completion, feeding `stdin`, and panics if it hangs.
pub fn run_to_completion(mut command: Command, stdin: &str) -> Outcome {
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
pub struct Collected {
    text: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

pub fn collect(pipe: impl Read + Send + 'static) -> Collected {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    let reader = std::thread::spawn(move || {
        let mut pipe = BufReader::new(pipe);
        let mut line = Vec::new();
        while pipe.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let mut sink = sink.lock().unwrap();
            sink.push_str(String::from_utf8_lossy(&line).trim_end_matches('\n'));
            sink.push('\n');
            line.clear();
        }
    });
    Collected {
        text,
        reader: Some(reader),
    }
}

impl Collected {
    pub fn so_far(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Everything, once the child has exited and closed the pipe.
    pub fn finish(mut self) -> String {
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
pub fn wait_for_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
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
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A command line kept so that it can be run again: [`Command`] is not `Clone`.
struct Recipe {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    dir: Option<PathBuf>,
}

impl Recipe {
    fn of(command: &Command) -> Self {
        Recipe {
            program: command.get_program().to_owned(),
            args: command.get_args().map(ToOwned::to_owned).collect(),
            envs: command
                .get_envs()
                .map(|(name, value)| (name.to_owned(), value.map(ToOwned::to_owned)))
                .collect(),
            dir: command.get_current_dir().map(ToOwned::to_owned),
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        for (name, value) in &self.envs {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command
    }
}

/// A running `porteiro serve` (or a command that ends by running it, such as `sh -c 'ulimit …
/// && exec "$@"'`), its standard output and error collected; killed when dropped, whatever the
/// test did.
pub struct RunningServer {
    child: Child,
    address: SocketAddr,
    recipe: Recipe,
    /// A client for the test's requests; each gives up after 15 s instead of hanging the test.
    pub client: reqwest::Client,
    stdout: Collected,
    stderr: Collected,
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RunningServer {
    /// Runs `command` (a `serve` command line) with `--listen` on a free loopback port appended,
    /// and waits until `/healthz` answers 200.
    pub async fn start(command: Command) -> Self {
        let mut server = Self::spawn(command);
        server.wait_until_healthy().await;
        server
    }

    /// Like [`RunningServer::start`], without waiting.
    pub fn spawn(command: Command) -> Self {
        let recipe = Recipe::of(&command);
        let address = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let (child, stdout, stderr) = launch(&recipe, address);
        RunningServer {
            child,
            address,
            recipe,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .unwrap(),
            stdout,
            stderr,
        }
    }

    /// Waits until `/healthz` answers 200; panics with the server's log if it exits first or
    /// takes longer than [`STARTUP_TIMEOUT`].
    pub async fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.stderr.join();
                panic!("serve exited with {status}: {}", self.stderr.so_far());
            }
            if self.answers_within(Duration::from_secs(1)).await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not answer /healthz within {STARTUP_TIMEOUT:?}: {}",
                self.stderr.so_far()
            );
        }
    }

    /// Whether `/healthz` answers 200 within `within`, each try on a new connection (a kept-alive
    /// one would need no accept).
    pub async fn answers_within(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            let answer = reqwest::Client::new()
                .get(self.url("/healthz"))
                .timeout(Duration::from_secs(1))
                .send()
                .await;
            if answer.is_ok_and(|a| a.status() == 200) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// What the server printed on standard output. The first start prints before the server
    /// answers, but the thread reading the pipe may lag: give it until the curl line (the last
    /// line of a first start) or two seconds. All of it once the server has exited.
    pub fn stdout(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let text = self.stdout.so_far();
            if text.contains("\ncurl ") || self.stdout.reader.is_none() || Instant::now() > deadline
            {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the server logged (its standard error) so far; all of it once it has exited.
    pub fn log(&self) -> String {
        self.stderr.so_far()
    }

    /// Sends SIGTERM and waits up to `timeout`; `None` if the server was still running then (it
    /// is killed).
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
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

    /// Stops the server as an operator would (SIGTERM, so that it closes the database) and
    /// answers its log.
    pub fn stop(mut self) -> String {
        self.terminate(STOP_TIMEOUT);
        self.log()
    }

    /// SIGKILL: no shutdown, no checkpoint, connections cut wherever they are. Answers the log.
    pub fn kill(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdout.join();
        self.stderr.join();
        self.log()
    }

    /// Kills the server if it still runs, starts the same command again on a new free port,
    /// and waits until it answers; what the earlier process printed is dropped.
    pub async fn restart(&mut self) {
        self.kill();
        self.address = SocketAddr::from(([127, 0, 0, 1], free_port()));
        (self.child, self.stdout, self.stderr) = launch(&self.recipe, self.address);
        self.wait_until_healthy().await;
    }
}

/// Spawns `recipe` listening on `address`, its output collected.
fn launch(recipe: &Recipe, address: SocketAddr) -> (Child, Collected, Collected) {
    let mut child = recipe
        .command()
        .arg("--listen")
        .arg(address.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = collect(child.stdout.take().unwrap());
    let stderr = collect(child.stderr.take().unwrap());
    (child, stdout, stderr)
}
