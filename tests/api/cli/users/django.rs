//! `user import --from-django` against Django itself: users made by Django 5.2 with each of its
//! hashers (PBKDF2 at the default iteration count of each Django version since 3.2), exported
//! with `dumpdata` and read from Django's own SQLite database, imported by the real binary, and
//! logged in through the API with their original passwords (crate::django makes them).

use crate::django::{DjangoUser, make_users};

use super::*;

/// Django's export, made once per test run: `users.json` (dumpdata), `django.sqlite3`, and the
/// users with their passwords.
fn django_export() -> &'static (std::path::PathBuf, Vec<DjangoUser>) {
    static EXPORT: std::sync::OnceLock<(std::path::PathBuf, Vec<DjangoUser>)> =
        std::sync::OnceLock::new();
    EXPORT.get_or_init(|| {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/django-export");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let users = make_users(&dir, None);
        (dir, users)
    })
}

fn export_file(name: &str) -> String {
    django_export().0.join(name).display().to_string()
}

fn users(filter: impl Fn(&DjangoUser) -> bool) -> Vec<DjangoUser> {
    django_export()
        .1
        .iter()
        .filter(|u| filter(u))
        .cloned()
        .collect()
}

async fn stored_hash(porteiro: &Porteiro, username: &str) -> String {
    crate::django::stored_hash(&porteiro.database(), username).await
}

fn import(porteiro: &Porteiro, line: &str) -> Value {
    porteiro.json(&format!("user import {line} --json"))
}

use crate::django::{NO_ACCOUNT, can_log_in};

#[tokio::test]
async fn users_django_made_log_in_with_their_passwords_and_are_rehashed_to_argon2id_once() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let file = export_file("users.json");

    let summary = import(
        &porteiro,
        &format!("--from-django {file} --org {org} --allow-weak-hashes"),
    );

    let all = users(|_| true);
    assert_eq!(summary["imported"], all.len());
    assert_eq!(
        (summary["weak"].clone(), summary["unusable"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(summary["failed"], 0);
    let server = porteiro.serve().await;
    for user in users(can_log_in) {
        let django_hash = stored_hash(&porteiro, &user.username).await;
        assert!(
            !django_hash.starts_with('$'),
            "{}: {django_hash}",
            user.hasher
        );

        let first = server.login(org, &user.username, &user.password).await;
        assert_eq!(first.status(), 200, "{} could not log in", user.hasher);

        let rehashed = stored_hash(&porteiro, &user.username).await;
        assert!(rehashed.starts_with("$argon2id$v=19$"), "{}", user.hasher);
        let second = server.login(org, &user.username, &user.password).await;
        assert_eq!(
            second.status(),
            200,
            "{} could not log in again",
            user.hasher
        );
        assert_eq!(stored_hash(&porteiro, &user.username).await, rehashed);
    }
}

#[tokio::test]
async fn a_wrong_password_for_a_django_user_gets_the_usual_401_and_changes_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    porteiro.create_user(org, "native@example.com", PASSWORD);
    import(
        &porteiro,
        &format!("--from-django {} --org {org}", export_file("users.json")),
    );
    let server = porteiro.serve().await;
    let native = server
        .login(org, "native@example.com", "wrong-password")
        .await;
    let native = (native.status(), native.text().await.unwrap());
    assert_eq!(
        native,
        (reqwest::StatusCode::UNAUTHORIZED, NO_ACCOUNT.to_owned())
    );

    for user in users(|u| u.hasher == "pbkdf2-1000000" || u.hasher == "argon2") {
        let before = stored_hash(&porteiro, &user.username).await;
        let wrong = format!("{}x", user.password);

        let response = server.login(org, &user.username, &wrong).await;

        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="api""#
        );
        assert_eq!(response.text().await.unwrap(), native.1);
        assert_eq!(stored_hash(&porteiro, &user.username).await, before);
    }
}

#[tokio::test]
async fn unusable_and_inactive_django_users_cannot_log_in() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    import(
        &porteiro,
        &format!("--from-django {} --org {org}", export_file("users.json")),
    );
    let server = porteiro.serve().await;

    for user in users(|u| !can_log_in(u)) {
        for password in [user.password.as_str(), "anything-at-all"]
            .into_iter()
            .filter(|p| !p.is_empty())
        {
            let response = server.login(org, &user.username, password).await;
            assert_eq!(response.status(), 401, "{}", user.hasher);
            assert_eq!(response.text().await.unwrap(), NO_ACCOUNT);
        }
    }
    let unusable = stored_hash(&porteiro, "unusable@example.com").await;
    assert!(unusable.starts_with('!'));
}

#[tokio::test]
async fn djangos_sqlite_database_imports_the_same_users_with_staff_in_their_role() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let database = export_file("django.sqlite3");

    let summary = import(
        &porteiro,
        &format!("--from-django {database} --org {org} --staff-role admin"),
    );

    let all = users(|_| true);
    assert_eq!(summary["imported"], all.len() - 1);
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["failures"][0]["username"], "md5@example.com");
    let reason = summary["failures"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("--allow-weak-hashes"), "{reason}");
    let members = porteiro.members(org);
    let role = |name: &str| {
        members
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["username"] == name)
            .map(|m| m["role"].clone())
    };
    assert_eq!(role("staff@example.com"), Some(json!("admin")));
    assert_eq!(role("argon2@example.com"), Some(json!("member")));
    assert_eq!(role("md5@example.com"), None);
    let server = porteiro.serve().await;
    for user in users(|u| ["scrypt", "bcrypt-sha256", "staff"].contains(&u.hasher.as_str())) {
        let response = server.login(org, &user.username, &user.password).await;
        assert_eq!(response.status(), 200, "{}", user.hasher);
    }
}

#[tokio::test]
async fn a_second_import_skips_everyone_a_dry_run_writes_nothing_and_update_refreshes() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let file = export_file("users.json");
    let line = format!("--from-django {file} --org {org} --allow-weak-hashes");

    let dry = import(&porteiro, &format!("{line} --dry-run"));
    assert_eq!(porteiro.members(org), json!([]));
    let first = import(&porteiro, &line);
    let second = import(&porteiro, &line);
    let updated = import(&porteiro, &format!("{line} --update"));

    let all = users(|_| true).len();
    assert_eq!(dry["imported"], all);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(first["imported"], all);
    assert_eq!(
        (second["imported"].clone(), second["skipped"].clone()),
        (json!(0), json!(all))
    );
    assert_eq!(porteiro.members(org).as_array().unwrap().len(), all);
    // Nothing changed in Django since: --update finds every account as it is.
    assert_eq!(
        (updated["updated"].clone(), updated["skipped"].clone()),
        (json!(0), json!(all))
    );
}

#[tokio::test]
async fn strict_stops_at_a_bad_record_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let file = export_file("users.json");

    let outcome = porteiro.run(&format!(
        "user import --from-django {file} --org {org} --strict"
    ));

    outcome.assert_refused();
    assert!(
        outcome.stderr.contains("record 12 (pk 12): weak md5 hash"),
        "{}",
        outcome.stderr
    );
    assert_eq!(porteiro.members(org), json!([]));
}

#[tokio::test]
async fn a_file_that_is_not_a_django_export_is_refused_with_exit_2() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let path = porteiro.dir.path().join("notes.txt");
    std::fs::write(&path, "not json at all").unwrap();
    let object = porteiro.dir.path().join("object.json");
    std::fs::write(&object, r#"{"users": []}"#).unwrap();

    for file in [&path, &object, &porteiro.dir.path().join("missing.json")] {
        let outcome = porteiro.run(&format!(
            "user import --from-django {} --org {org}",
            file.display()
        ));
        outcome.assert_refused();
    }
    let wrong_table = porteiro.run(&format!(
        "user import --from-django {} --org {org} --table nope",
        export_file("django.sqlite3")
    ));
    wrong_table.assert_refused();
    assert!(
        wrong_table.stderr.contains("table nope"),
        "{}",
        wrong_table.stderr
    );
    assert_eq!(porteiro.members(org), json!([]));
}
