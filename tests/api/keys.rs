//! Signing keys at rest and in order (CONTRACT §4): sealed under the master key, a wrong master
//! key refused at start, clear-text keys of older versions sealed at the first start, rewrap,
//! retirement, and the creation order the database assigns.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use porteiro::app::Application;
use porteiro::auth::keys::Keys;
use porteiro::config::{Algorithm, MasterKeySource};
use porteiro::store::{Retirement, Successor};
use porteiro::tokens::keys::generate_private_key;
use porteiro::tokens::master::{MasterKey, MasterKeyError};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::Connection;
use tempfile::TempDir;

use crate::helpers::*;

/// The DER encoding of the OID id-ecPublicKey: in every PKCS#8 ES256 private key, and in
/// nothing else Porteiro stores.
const EC_PUBLIC_KEY_OID: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// The master key `app` runs with, read the way the server reads it.
fn master_key_of(app: &TestApp) -> MasterKey {
    let text = match &app.settings.master_key {
        MasterKeySource::Inline(text) => text.expose_secret().to_owned(),
        MasterKeySource::File(path) => std::fs::read_to_string(path).unwrap(),
        MasterKeySource::Default => {
            std::fs::read_to_string(app.database_dir().join("porteiro.db.key")).unwrap()
        }
    };
    MasterKey::parse(&text, "test").unwrap()
}

/// Whether `needle` is anywhere in the database: every row on PostgreSQL (a `bytea` shows as
/// hex), every byte of the SQLite files (database, log, shared memory; not the key file).
async fn database_contains(app: &TestApp, needle: &[u8]) -> bool {
    if let Some(rows) = app.all_rows_as_text().await {
        let hex = hex::encode(needle);
        return rows.iter().any(|r| r.contains(&hex));
    }
    std::fs::read_dir(app.database_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_none_or(|e| e != "key"))
        .any(|path| {
            let bytes = std::fs::read(&path).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
}

/// The kids of the JWKS `app` serves.
async fn published_kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn access_kid(app: &TestApp) -> String {
    let (_, access) = app.login().await;
    header(&access)["kid"].as_str().unwrap().to_owned()
}

/// Settings for another instance of `app`'s service, with `master_key`.
fn settings_with(app: &TestApp, master_key: MasterKeySource) -> porteiro::config::Settings {
    let mut settings = (*app.settings).clone();
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.issuer = Some(app.auth.tokens().issuer.clone());
    settings.master_key = master_key;
    settings
}

fn inline(key: &MasterKey) -> MasterKeySource {
    MasterKeySource::Inline(key.to_base64())
}

// Creation order

#[tokio::test]
async fn of_two_keys_rotated_at_once_within_one_second_the_later_one_signs_every_time() {
    let app = TestApp::spawn().await;
    let ring = &app.auth.tokens().ring;
    // The first start's key, and every key after it, in the same second of the test's clock.
    let now = app.now();
    for round in 0..6 {
        let keys = Keys::of_ring(app.auth.store(), ring);
        keys.create_and_reload(ring, now, now).await.unwrap();
        let newest = keys.create_and_reload(ring, now, now).await.unwrap();

        assert_eq!(access_kid(&app).await, newest.kid, "round {round}");
    }
}

// The master key

#[tokio::test]
async fn the_database_holds_no_private_key_in_clear_text() {
    let app = TestApp::spawn().await;
    app.create_key(300).await;
    app.login().await;
    let master = master_key_of(&app);

    let keys = app.auth.store().list_keys().await.unwrap();

    assert_eq!(keys.len(), 2);
    assert!(
        !database_contains(&app, EC_PUBLIC_KEY_OID).await,
        "a PKCS#8 key is in the database"
    );
    for key in keys {
        assert!(key.sealed, "{key:?}");
        let der = master.unseal(&key.kid, &key.private_key).unwrap();
        assert!(
            der.windows(EC_PUBLIC_KEY_OID.len())
                .any(|w| w == EC_PUBLIC_KEY_OID)
        );
        assert!(
            !database_contains(&app, &der).await,
            "the private key of {} is in the database",
            key.kid
        );
    }
}

#[tokio::test]
async fn a_wrong_master_key_is_refused_at_start_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let wrong = MasterKey::generate().unwrap();

    let refused = Application::build(settings_with(&app, inline(&wrong)), app.clock.clone()).await;

    let error = refused.err().expect("a wrong master key is refused");
    let message = format!("{error:#}");
    assert!(
        message.contains("the master key does not match this database"),
        "{message}"
    );
    assert!(
        error
            .chain()
            .any(|e| matches!(e.downcast_ref(), Some(MasterKeyError::Mismatch))),
        "{message}"
    );
    let right = inline(&master_key_of(&app));
    let started = Application::build(settings_with(&app, right), app.clock.clone()).await;
    assert!(started.is_ok(), "the right master key starts");
}

#[tokio::test]
async fn a_damaged_key_row_is_told_apart_from_a_wrong_master_key() {
    let app = TestApp::spawn().await;
    let kid = access_kid(&app).await;
    let mut conn = sqlx::AnyConnection::connect(&app.settings.database)
        .await
        .unwrap();
    sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2")
        .bind(vec![0u8; 80])
        .bind(&kid)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let right = inline(&master_key_of(&app));

    let refused = Application::build(settings_with(&app, right), app.clock.clone()).await;

    let error = refused.err().expect("a damaged key is refused at start");
    let message = format!("{error:#}");
    assert!(
        message.contains(&format!("signing key {kid} cannot be decrypted")),
        "{message}"
    );
    assert!(!message.contains("master key does not match"), "{message}");
    assert!(
        !error.chain().any(|e| e.is::<MasterKeyError>()),
        "{message}"
    );
}

#[tokio::test]
async fn a_postgres_server_without_a_master_key_refuses_to_start_and_says_how_to_make_one() {
    let Some(_) = postgres_base() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(fresh_database(&dir).await);
    settings.master_key = MasterKeySource::Default;

    let refused = Application::build(settings, Arc::new(porteiro::clock::SystemClock)).await;

    let message = format!("{:#}", refused.err().expect("no master key, no start"));
    assert!(
        message.contains("porteiro keys generate-master-key"),
        "{message}"
    );
}

/// A database as an older version left it: the migrations before sealed keys, and two keys in
/// clear text, the later of which signs. Answers its URL and the two DER keys.
async fn database_of_an_older_version(dir: &TempDir) -> (String, Vec<(String, Vec<u8>)>) {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    sqlx::any::install_default_drivers();
    let url = fresh_database(dir).await;
    let dialect = if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let migrations: Vec<Migration> = files
        .iter()
        .filter_map(|path| {
            let name = path.file_stem()?.to_str()?.to_owned();
            let version: i64 = name[..4].parse().ok()?;
            (version <= 5).then(|| {
                Migration::new(
                    version,
                    Cow::Owned(name),
                    MigrationType::Simple,
                    Cow::Owned(std::fs::read_to_string(path).unwrap()),
                    false,
                )
            })
        })
        .collect();
    assert_eq!(migrations.len(), 5);
    let migrator = Migrator {
        migrations: Cow::Owned(migrations),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    let connect_url = if dialect == "sqlite" {
        format!("{url}?mode=rwc")
    } else {
        url.clone()
    };
    let mut conn = sqlx::AnyConnection::connect(&connect_url).await.unwrap();
    migrator.run(&mut conn).await.unwrap();
    let now = porteiro::clock::Clock::now(&porteiro::clock::SystemClock);
    let mut keys = Vec::new();
    for (kid, activates) in [
        ("0123456789abcdef", now - 7200),
        ("fedcba9876543210", now - 60),
    ] {
        let der = generate_private_key(Algorithm::ES256).unwrap();
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, created_at, activates_at) \
             VALUES ($1, 'ES256', $2, $3, $3)",
        )
        .bind(kid)
        .bind(der.clone())
        .bind(activates)
        .execute(&mut conn)
        .await
        .unwrap();
        keys.push((kid.to_owned(), der));
    }
    conn.close().await.unwrap();
    (url, keys)
}

#[tokio::test]
async fn clear_text_keys_of_an_older_database_are_sealed_at_its_first_start_and_still_sign() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let (url, legacy) = database_of_an_older_version(&dir).await;

    let app = TestApp::spawn_on(dir, url, |_| {}).await;

    let (_, access) = app.login().await;
    assert_eq!(header(&access)["kid"], json!(legacy[1].0));
    assert_eq!(app.me(&access).await.status(), 200);
    let stored = app.auth.store().list_keys().await.unwrap();
    assert_eq!(
        stored.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
        [legacy[0].0.as_str(), legacy[1].0.as_str()]
    );
    assert!(stored.iter().all(|k| k.sealed), "{stored:?}");
    assert!(app.auth.store().key_check().await.unwrap().is_some());
    for (kid, der) in &legacy {
        assert!(
            !database_contains(&app, der).await,
            "the clear-text key {kid} is still in the database"
        );
    }
    assert!(!database_contains(&app, EC_PUBLIC_KEY_OID).await);
}

#[tokio::test]
async fn several_instances_starting_at_once_on_an_older_database_all_start_with_its_keys_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let (url, legacy) = database_of_an_older_version(&dir).await;
    let mut settings = test_settings(url);
    if matches!(settings.master_key, MasterKeySource::Default) {
        // On SQLite too, every instance must find the same key, whoever creates the file.
        settings.master_key = inline(&MasterKey::generate().unwrap());
    }
    // Migrated first: several SQLite processes migrating one file at once is another matter.
    let store = porteiro::store::Store::connect(
        &settings.database,
        2,
        Duration::from_secs(5),
        settings.sqlite_synchronous,
    )
    .await
    .unwrap();
    store.close().await;
    let clock = Arc::new(porteiro::clock::SystemClock);

    let starts = (0..4).map(|_| Application::build(settings.clone(), clock.clone()));
    let apps = futures_util::future::join_all(starts).await;

    for app in &apps {
        assert!(app.is_ok(), "{:#}", app.as_ref().err().unwrap());
    }
    let store = &apps[0].as_ref().unwrap().state().auth.store();
    let stored = store.list_keys().await.unwrap();
    assert!(stored.iter().all(|k| k.sealed), "{stored:?}");
    let signing = apps[0]
        .as_ref()
        .unwrap()
        .state()
        .auth
        .tokens()
        .ring
        .signing_key(porteiro::clock::Clock::now(&porteiro::clock::SystemClock))
        .unwrap();
    assert_eq!(signing.kid, legacy[1].0);
}

#[tokio::test]
async fn after_a_rewrap_the_new_master_key_starts_and_the_old_one_is_refused() {
    let app = TestApp::spawn().await;
    let (_, access) = app.login().await;
    let old = master_key_of(&app);
    let new = MasterKey::generate().unwrap();

    let count = Keys::new(app.auth.store(), &old)
        .rewrap(&new)
        .await
        .unwrap();

    assert_eq!(count, 1);
    let refused = Application::build(settings_with(&app, inline(&old)), app.clock.clone()).await;
    let message = format!("{:#}", refused.err().expect("the old key is refused"));
    assert!(message.contains("does not match"), "{message}");
    let started = Application::build(settings_with(&app, inline(&new)), app.clock.clone())
        .await
        .expect("the new key starts");
    let address = format!("http://{}", started.local_addr());
    tokio::spawn(started.run_until_stopped(std::future::pending()));
    let me = app
        .client
        .get(format!("{address}/api/v1/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "a token of the rewrapped key verifies");
    let again = Keys::new(app.auth.store(), &old).rewrap(&new).await;
    assert!(
        again
            .err()
            .is_some_and(|e| matches!(e.downcast_ref(), Some(MasterKeyError::Mismatch))),
        "a rewrap with the old key once more is refused"
    );
}

// Retirement

#[tokio::test]
async fn retiring_the_only_key_withdraws_it_and_its_tokens_at_once_and_a_new_key_signs() {
    let app = TestApp::spawn().await;
    let (refresh, access) = app.login().await;
    let kid = header(&access)["kid"].as_str().unwrap().to_owned();
    // Verified once, so the next check of it is a cache hit.
    assert_eq!(app.me(&access).await.status(), 200);

    let ring = &app.auth.tokens().ring;
    let retirement = Keys::of_ring(app.auth.store(), ring)
        .retire_and_reload(ring, &kid, app.now())
        .await
        .unwrap();

    let Retirement::Retired {
        successor: Some(Successor::Created(successor)),
        ..
    } = retirement
    else {
        panic!("no key was created: {retirement:?}");
    };
    assert!(!published_kids(&app).await.contains(&kid));
    assert_body_text(app.me(&access).await, 401, BEARER_NOT_VALID).await;
    assert_body_text(app.verify(&access).await, 401, TOKEN_NOT_VALID).await;
    assert_body_text(app.refresh(&refresh).await, 401, TOKEN_NOT_VALID).await;
    let (_, fresh) = app.login().await;
    assert_eq!(header(&fresh)["kid"], json!(successor));
    assert_eq!(app.me(&fresh).await.status(), 200);
}

#[tokio::test]
async fn retiring_the_signing_key_lets_the_newest_other_key_sign_at_once_even_if_it_was_to_activate_later()
 {
    let app = TestApp::spawn().await;
    let kid = access_kid(&app).await;
    let now = app.now();
    let pending = app.create_key(300).await;

    let ring = &app.auth.tokens().ring;
    let retirement = Keys::of_ring(app.auth.store(), ring)
        .retire_and_reload(ring, &kid, now)
        .await
        .unwrap();

    assert_eq!(
        retirement,
        Retirement::Retired {
            algorithm: "ES256".into(),
            successor: Some(Successor::Activated(pending.kid.clone())),
        }
    );
    assert_eq!(access_kid(&app).await, pending.kid);
    assert_eq!(published_kids(&app).await, [pending.kid]);
}

#[tokio::test]
async fn retiring_a_key_that_does_not_sign_leaves_the_signing_key_alone() {
    let app = TestApp::spawn().await;
    let signing = access_kid(&app).await;
    let now = app.now();
    let pending = app.create_key(300).await;
    let ring = &app.auth.tokens().ring;
    let keys = Keys::of_ring(app.auth.store(), ring);

    let retirement = keys
        .retire_and_reload(ring, &pending.kid, now)
        .await
        .unwrap();

    assert!(matches!(
        retirement,
        Retirement::Retired {
            successor: None,
            ..
        }
    ));
    assert_eq!(published_kids(&app).await, std::slice::from_ref(&signing));
    app.clock.advance(300);
    assert_eq!(access_kid(&app).await, signing);
    let unknown = keys.retire_and_reload(ring, "nosuchkid", now).await;
    assert_eq!(unknown.unwrap(), Retirement::Unknown);
    let again = keys.retire_and_reload(ring, &pending.kid, now + 1).await;
    assert_eq!(again.unwrap(), Retirement::AlreadyRetired(now));
}

#[tokio::test]
async fn a_retired_key_is_refused_by_every_other_instance_within_five_seconds() {
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    let (_, access) = a.login().await;
    let kid = header(&access)["kid"].as_str().unwrap().to_owned();
    assert_eq!(b.me(&access).await.status(), 200);

    let ring = &a.auth.tokens().ring;
    Keys::of_ring(a.auth.store(), ring)
        .retire_and_reload(ring, &kid, a.now())
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(6);
    while b.me(&access).await.status() == 200 {
        assert!(
            Instant::now() < deadline,
            "instance b still accepts the token"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_body_text(b.me(&access).await, 401, BEARER_NOT_VALID).await;
    assert!(!published_kids(&b).await.contains(&kid));
    let (_, fresh) = b.login().await;
    assert_ne!(header(&fresh)["kid"], json!(kid));
    assert_eq!(a.me(&fresh).await.status(), 200);
}

// Files

#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_database_its_log_and_the_master_key_file_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    if postgres_base().is_some() {
        return;
    }
    let app = TestApp::spawn().await;
    app.login().await;

    for name in [
        "porteiro.db",
        "porteiro.db-wal",
        "porteiro.db-shm",
        "porteiro.db.key",
    ] {
        let meta = std::fs::metadata(app.database_dir().join(name)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
    }
}
