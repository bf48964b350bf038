//! The master key: the signing keys sealed under it, a wrong or missing one refused at start,
//! a rewrap to another, and the files that hold it and the database.

use std::sync::Arc;

use porteiro::app::Application;
use porteiro::auth::keys::Keys;
use porteiro::config::MasterKeySource;
use porteiro::tokens::master::{MasterKey, MasterKeyError};
use sqlx::Connection;

use super::{
    EC_PUBLIC_KEY_OID, access_kid, database_contains, inline, master_key_of, settings_with,
};
use crate::helpers::*;

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
