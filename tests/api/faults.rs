//! The database under faults an operator meets: a disk that fills up. The real binary serves from
//! a SQLite file on a small tmpfs of the test's own, which a filler file then fills for real: SQLite
//! answers `SQLITE_FULL` exactly as on a full production disk. Mounting needs root (or
//! `CAP_SYS_ADMIN`); where it is refused the test says so and passes without running.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Response;
use serde_json::{Value, json};

use crate::binary::{RunningServer, porteiro, run_to_completion};

const PASSWORD: &str = "Correct-Horse-42";
const OWNER: &str = "owner@example.com";

/// A tmpfs mounted for one test, unmounted when dropped (lazily: the server may still hold it).
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount` spells it) at `path`; `None` where that is refused.
    fn mount(path: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| Tmpfs {
            path: path.to_owned(),
        })
    }

    /// Fills what is left of the filesystem with a file; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0x5a_u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        // The last partial chunk, byte by byte, so that not one page is left.
        while file.write_all(&[0x5a]).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// `porteiro serve` on `database`, run in `dir`, logging JSON at info level, with an owner made
/// by the first start.
async fn serve(dir: &Path, database: &str) -> RunningServer {
    let mut command = porteiro(dir);
    command
        .args(["serve", "--database", database])
        .args(["--rotate-refresh-tokens", "true", "--log-format", "json"])
        .env("RUST_LOG", "info,sqlx=warn")
        .env("PORTEIRO_ADMIN_USERNAME", OWNER)
        .env("PORTEIRO_ADMIN_PASSWORD", PASSWORD);
    RunningServer::start(command).await
}

/// The requests of these tests, in each dialect.
trait Requests {
    async fn get(&self, path: &str) -> Option<Response>;
    async fn login(&self) -> Response;
    async fn refresh(&self, refresh: &str) -> Response;
    async fn oauth_token(&self, key: &str, secret: &str) -> Response;
    async fn integration_login(&self, key: &str, secret: &str) -> Response;
}

impl Requests for RunningServer {
    async fn get(&self, path: &str) -> Option<Response> {
        self.client.get(self.url(path)).send().await.ok()
    }

    async fn login(&self) -> Response {
        self.client
            .post(self.url("/api/v1/auth/token/1/"))
            .json(&json!({"username": OWNER, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
    }

    async fn refresh(&self, refresh: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/token-refresh/"))
            .json(&json!({"refresh": refresh}))
            .send()
            .await
            .unwrap()
    }

    async fn oauth_token(&self, key: &str, secret: &str) -> Response {
        self.client
            .post(self.url("/oauth/token"))
            .basic_auth(key, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
    }

    async fn integration_login(&self, key: &str, secret: &str) -> Response {
        self.client
            .post(self.url("/auth"))
            .json(&json!({"consumer_key": key, "secret_key": secret}))
            .send()
            .await
            .unwrap()
    }
}

async fn body(response: Response) -> Value {
    response.json().await.unwrap()
}

fn retry_after(response: &Response) -> Option<&str> {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
}

/// Asserts a 503 with `Retry-After` and answers its JSON body.
async fn unavailable(response: Response, what: &str) -> Value {
    assert_eq!(response.status(), 503, "{what}");
    assert_eq!(retry_after(&response), Some("5"), "{what}");
    body(response).await
}

#[tokio::test]
async fn a_full_disk_answers_503_with_retry_after_in_every_dialect_and_service_resumes_once_space_is_freed()
 {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(&dir.path().join("disk"), "4m") else {
        eprintln!("note: cannot mount a tmpfs here (needs root); the full-disk test did not run");
        return;
    };
    let file = disk.path.join("p.db");
    let database = format!("sqlite://{}", file.display());
    let server = serve(dir.path(), &database).await;

    // Before the disk fills: an owner's tokens and an integration.
    let tokens = body(server.login().await).await;
    let (access, refresh) = (
        tokens["access"].as_str().unwrap().to_owned(),
        tokens["refresh"].as_str().unwrap().to_owned(),
    );
    let mut create = porteiro(dir.path());
    create
        .args(["integration", "create", "--org", "1", "--name", "Billing"])
        .args(["--json", "--database", &database]);
    let created = run_to_completion(create, "").json();
    let (key, secret) = (
        created["consumer_key"].as_str().unwrap(),
        created["secret_key"].as_str().unwrap(),
    );
    // Every answer 200 of a login or a token endpoint created one session, except client
    // credentials: an access token alone is no session row.
    let mut sessions = 1;

    let filler = disk.fill();
    // Writes may go on for a while into room the database had already taken (its log, its
    // last pages); then they fail.
    let mut failed = None;
    for _ in 0..2_000 {
        let response = server.login().await;
        match response.status().as_u16() {
            200 => sessions += 1,
            _ => {
                failed = Some(response);
                break;
            }
        }
    }
    let failed = failed.expect("the logins never failed on a full disk");
    assert_eq!(
        unavailable(failed, "a login on a full disk").await,
        json!({"detail": "Service temporarily unavailable, try again later."})
    );
    // A write smaller than a batch of sessions may still find room SQLite had taken (its log is
    // reused after a checkpoint): each endpoint is asked until its write finds none, and then
    // answers 503 in its own shape. What succeeded meanwhile is counted like any other answer.
    let mut refresh = refresh;
    let mut refused = None;
    for _ in 0..2_000 {
        let response = server.refresh(&refresh).await;
        if response.status() != 200 {
            refused = Some(response);
            break;
        }
        refresh = body(response).await["refresh"].as_str().unwrap().to_owned();
    }
    assert_eq!(
        unavailable(
            refused.expect("refreshes never failed on a full disk"),
            "a refresh"
        )
        .await,
        json!({"detail": "Service temporarily unavailable, try again later."})
    );
    let mut refused = None;
    for _ in 0..2_000 {
        let response = server.oauth_token(key, secret).await;
        if response.status() != 200 {
            refused = Some(response);
            break;
        }
    }
    let oauth = unavailable(
        refused.expect("OAuth tokens never failed on a full disk"),
        "an OAuth token",
    )
    .await;
    assert_eq!(oauth["error"], "temporarily_unavailable", "{oauth}");
    let mut refused = None;
    for _ in 0..2_000 {
        let response = server.integration_login(key, secret).await;
        if response.status() != 200 {
            refused = Some(response);
            break;
        }
        sessions += 1;
    }
    assert_eq!(
        unavailable(
            refused.expect("integration logins never failed on a full disk"),
            "an integration login"
        )
        .await,
        json!({
            "status": 503,
            "title": "Service Unavailable",
            "detail": "Service temporarily unavailable, try again later.",
            "validation": null,
        })
    );
    // An administrator's write is smaller than a batch of sessions: it may still find room in
    // what the database holds; it fails once that is used up.
    let mut admin = None;
    for i in 0..3_000 {
        let response = server
            .client
            .post(server.url("/api/v1/admin/integrations"))
            .bearer_auth(&access)
            .json(&json!({"name": format!("{i} {}", "Payroll ".repeat(20))}))
            .send()
            .await
            .unwrap();
        if response.status() != 201 {
            admin = Some(response);
            break;
        }
    }
    assert_eq!(
        unavailable(
            admin.unwrap_or_else(|| panic!("admin writes never failed: {}", server.log())),
            "the admin API"
        )
        .await,
        json!({"detail": "Service temporarily unavailable, try again later."})
    );
    let csrf = "0123456789abcdef0123456789abcdef";
    let console = server
        .client
        .post(server.url("/console/sign-in"))
        .header("cookie", format!("porteiro_csrf={csrf}"))
        .form(&[("csrf", csrf), ("username", OWNER), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(console.status(), 503, "the console's sign-in");
    assert_eq!(retry_after(&console), Some("5"));

    // Not ready, though alive and answering `SELECT 1` — also after the server's own probe
    // writes (one a second) had their chance and failed. (A small write may still get through
    // now and then: SQLite reuses room in its log.)
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let ready = server.get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 503, "/readyz on a full disk");
    assert!(retry_after(&ready).is_some());
    assert_eq!(server.get("/healthz").await.unwrap().status(), 200);

    // The operator frees space: service resumes without a restart.
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.get("/readyz").await.unwrap().status() != 200 {
        assert!(
            Instant::now() < deadline,
            "/readyz stayed 503 after space was freed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(server.login().await.status(), 200, "a login after recovery");
    sessions += 1;
    // The rotation that failed left nothing behind: the same refresh token works once.
    assert_eq!(
        server.refresh(&refresh).await.status(),
        200,
        "the refresh token the failed rotation presented is still the current one"
    );
    assert_eq!(server.oauth_token(key, secret).await.status(), 200);

    let log = server.stop();
    // An audit event that cannot be stored is written to the log instead, at error level: that
    // is the event kept, not a report of the episode.
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"level\":\"ERROR\"") && !l.contains("audit event not stored"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "one error line for the episode, not one per request: {errors:#?}"
    );
    assert!(
        errors[0].contains("the database disk is full"),
        "{}",
        errors[0]
    );
    let recovered = log
        .lines()
        .filter(|l| l.contains("the database can be used again"))
        .count();
    assert_eq!(recovered, 1, "one line when the episode ends:\n{log}");

    // Nothing half-written: the file is intact, and holds exactly the sessions that were
    // answered 200.
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&format!("{database}?mode=ro"))
        .await
        .unwrap();
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(check, "ok");
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM sessions")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, sessions, "sessions in the database vs. answered 200");
    let probes: i64 = sqlx::query("SELECT COUNT(*) FROM audit_events WHERE kind = 'probe'")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(probes, 0, "the probe writes left no row");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_read_only_database_answers_503_with_retry_after_and_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/p.db", dir.path().display());
    let first = serve(dir.path(), &database).await;
    assert_eq!(first.login().await.status(), 200);
    first.stop();

    // The same file, opened read-only: every write gets SQLITE_READONLY.
    let server = serve(dir.path(), &format!("{database}?mode=ro")).await;
    assert_eq!(
        unavailable(server.login().await, "a login on a read-only database").await,
        json!({"detail": "Service temporarily unavailable, try again later."})
    );
    assert_eq!(
        unavailable(server.login().await, "another login").await,
        json!({"detail": "Service temporarily unavailable, try again later."})
    );
    let ready = server.get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 503, "/readyz on a read-only database");
    assert!(retry_after(&ready).is_some());
    assert_eq!(server.get("/healthz").await.unwrap().status(), 200);

    let log = server.stop();
    // Audit events that cannot be stored are written to the log instead, at error level.
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"level\":\"ERROR\"") && !l.contains("audit event"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "one error line for the episode: {errors:#?}"
    );
    assert!(
        errors[0].contains("the database is read-only"),
        "{}",
        errors[0]
    );
}
