//! Django itself, for the tests of `porteiro user import --from-django`: a virtual environment
//! with the pinned Django (tests/django/requirements.txt), made once under `target/` from PyPI,
//! runs tests/django/make_users.py, which makes one user per hasher in Django's database and
//! exports them with `dumpdata`. Here too: the import from Django's PostgreSQL database, into
//! Porteiro on PostgreSQL (the command-line tests run on SQLite only).

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::Connection;

use crate::binary::{porteiro, run_to_completion};
use crate::helpers::*;

pub const NO_ACCOUNT: &str = r#"{"detail":"No active account found with the given credentials"}"#;

fn django_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/django")
}

/// A virtual environment with the pinned requirements, made once per target directory.
fn python() -> PathBuf {
    static VENV: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    VENV.get_or_init(|| python_venv("django-venv", &django_dir().join("requirements.txt")))
        .clone()
}

/// A user Django made, and the password it was made with.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct DjangoUser {
    pub username: String,
    pub password: String,
    pub hasher: String,
}

/// Users who can log in: everyone but the unusable and the inactive.
pub fn can_log_in(user: &DjangoUser) -> bool {
    !["unusable", "inactive"].contains(&user.hasher.as_str())
}

/// Makes Django's users in `out` (`users.json`, and `django.sqlite3` unless `postgres`, the URL
/// of an empty PostgreSQL database for Django, is given); answers them with their passwords.
pub fn make_users(out: &Path, postgres: Option<&str>) -> Vec<DjangoUser> {
    let mut command = Command::new(python());
    command.arg(django_dir().join("make_users.py")).arg(out);
    if let Some(url) = postgres {
        command.env("DJANGO_POSTGRES", url);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "Django failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The password hash Porteiro stores for `username`.
pub async fn stored_hash(database: &str, username: &str) -> String {
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(database).await.unwrap();
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    hash
}

#[tokio::test]
async fn on_postgresql_users_import_from_djangos_postgresql_database_and_log_in() {
    let Some(base) = postgres_base() else {
        eprintln!("skipped: set PORTEIRO_TEST_POSTGRES (scripts/with-postgres cargo test)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    sqlx::any::install_default_drivers();
    let name = format!("django_{}", porteiro::tokens::claims::random_id());
    let mut cluster = sqlx::AnyConnection::connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut cluster)
        .await
        .unwrap();
    cluster.close().await.unwrap();
    let django = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let users = make_users(dir.path(), Some(&django));
    let app = TestApp::spawn().await;
    let org = app.org.to_string();

    let mut import = porteiro(dir.path());
    import.arg("--database").arg(&app.settings.database).args([
        "user",
        "import",
        "--from-django",
        &django,
        "--org",
        &org,
        "--allow-weak-hashes",
        "--json",
    ]);
    let summary = run_to_completion(import, "").json();

    assert_eq!(summary["imported"], users.len());
    assert_eq!(summary["failed"], 0);
    for user in users.iter().filter(|u| can_log_in(u)) {
        let wrong = app
            .login_as(&org, &user.username, &format!("{}x", user.password))
            .await;
        assert_eq!(wrong.text().await.unwrap(), NO_ACCOUNT, "{}", user.hasher);
        let first = app.login_as(&org, &user.username, &user.password).await;
        assert_eq!(first.status(), 200, "{} could not log in", user.hasher);
        let rehashed = stored_hash(&app.settings.database, &user.username).await;
        assert!(rehashed.starts_with("$argon2id$v=19$"), "{}", user.hasher);
        let second = app.login_as(&org, &user.username, &user.password).await;
        assert_eq!(
            second.status(),
            200,
            "{} could not log in again",
            user.hasher
        );
    }
    for user in users.iter().filter(|u| !can_log_in(u)) {
        let response = app
            .login_as(&org, &user.username, "Inactive-password-1")
            .await;
        assert_eq!(
            response.text().await.unwrap(),
            NO_ACCOUNT,
            "{}",
            user.hasher
        );
    }
}
