//! The session writer's batched statements, on the store itself: one statement writes many new
//! sessions or performs many rotations, and each request still gets its own answer.

use std::time::Duration;

use porteiro::domain::{ConsumerKey, OrgId, Scopes};
use porteiro::store::{AccessChange, NewSession, Rotation, SessionKind, Store};

use crate::helpers::{StoreFixture, store_with_org};

struct Fixture {
    store: Store,
    url: String,
    org: OrgId,
    integration: i64,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let StoreFixture {
        store,
        org,
        url,
        dir,
    } = store_with_org().await;
    let record = store
        .create_integration(
            org,
            &ConsumerKey::generate(),
            "digest-now",
            "ERP",
            &Scopes::default(),
            0,
        )
        .await
        .unwrap();
    Fixture {
        store,
        url,
        org,
        integration: record.id,
        _dir: dir,
    }
}

fn session(f: &Fixture, sid: &str, credential: &str) -> NewSession {
    NewSession {
        sid: sid.to_owned(),
        kind: SessionKind::Integration,
        user_id: None,
        integration_id: Some(f.integration),
        org_id: f.org,
        client_addr: "127.0.0.1".to_owned(),
        now: 10,
        refresh_jti_digest: format!("{sid}-jti-1"),
        refresh_exp: 1_000,
        credential: credential.to_owned(),
    }
}

fn rotation(sid: &str, presented: &str, next: &str) -> Rotation {
    Rotation {
        sid: sid.to_owned(),
        presented: presented.to_owned(),
        next: next.to_owned(),
        next_exp: 2_000,
        now: 20,
        now_ms: 20_000,
    }
}

#[tokio::test]
async fn a_batch_creates_the_sessions_whose_credential_is_current_and_only_those() {
    let f = fixture().await;
    let mut conn = f.store.session_writer().await.unwrap();
    let batch = [
        session(&f, "a", "digest-now"),
        session(&f, "b", "digest-before-rotation"),
        session(&f, "c", "digest-now"),
    ];
    assert_eq!(
        conn.insert_sessions(&batch).await.unwrap(),
        [true, false, true]
    );
    drop(conn);
    assert!(f.store.find_session("a").await.unwrap().is_some());
    assert!(f.store.find_session("b").await.unwrap().is_none());
    assert!(f.store.find_session("c").await.unwrap().is_some());
}

#[tokio::test]
async fn a_batch_rotates_each_session_once_and_only_from_its_current_token() {
    let f = fixture().await;
    let mut conn = f.store.session_writer().await.unwrap();
    let batch = [
        session(&f, "a", "digest-now"),
        session(&f, "b", "digest-now"),
    ];
    assert_eq!(conn.insert_sessions(&batch).await.unwrap(), [true, true]);
    let rotations = [
        rotation("a", "a-jti-1", "a-jti-2"),
        // The same token again in the same batch: the first one rotates it.
        rotation("a", "a-jti-1", "a-jti-2"),
        // Not b's current token.
        rotation("b", "b-jti-0", "b-jti-2"),
        rotation("unknown", "x", "y"),
    ];
    assert_eq!(
        conn.rotate_refresh(&rotations).await.unwrap(),
        [true, false, false, false]
    );
    // The consumed token cannot rotate again; the new one can.
    assert_eq!(
        conn.rotate_refresh(&[rotation("a", "a-jti-1", "a-jti-3")])
            .await
            .unwrap(),
        [false]
    );
    assert_eq!(
        conn.rotate_refresh(&[rotation("a", "a-jti-2", "a-jti-3")])
            .await
            .unwrap(),
        [true]
    );
    drop(conn);
    let a = f.store.find_session("a").await.unwrap().unwrap();
    assert_eq!(a.current_jti_digest, "a-jti-3");
    assert_eq!(a.previous_jti_digest.as_deref(), Some("a-jti-2"));
    let b = f.store.find_session("b").await.unwrap().unwrap();
    assert_eq!(b.current_jti_digest, "b-jti-1");
}

#[tokio::test]
async fn pruning_deletes_the_sessions_whose_tokens_have_all_expired_and_only_those() {
    let f = fixture().await;
    let mut conn = f.store.session_writer().await.unwrap();
    let (mut old, young) = (
        session(&f, "old", "digest-now"),
        session(&f, "young", "digest-now"),
    );
    old.refresh_exp = 500;
    let mut rotated = session(&f, "rotated", "digest-now");
    rotated.refresh_exp = 500;
    assert_eq!(
        conn.insert_sessions(&[old, young, rotated]).await.unwrap(),
        [true, true, true]
    );
    // A rotation moves the session's expiry forward (to 2,000).
    assert_eq!(
        conn.rotate_refresh(&[rotation("rotated", "rotated-jti-1", "rotated-jti-2")])
            .await
            .unwrap(),
        [true]
    );
    drop(conn);
    assert_eq!(f.store.prune_sessions(600).await.unwrap(), 1);
    assert!(f.store.find_session("old").await.unwrap().is_none());
    assert!(f.store.find_session("young").await.unwrap().is_some());
    assert!(f.store.find_session("rotated").await.unwrap().is_some());
    assert_eq!(f.store.prune_sessions(600).await.unwrap(), 0);
}

/// A login whose credential check raced a change of that credential: the change has ended the
/// integration's sessions but not committed yet when the new session is written. The new session
/// waits for the change and is then refused — on PostgreSQL too, where a statement otherwise reads
/// only what was committed when it began and would have created a session the change never saw.
#[tokio::test]
async fn a_session_written_while_its_credential_changes_waits_and_is_not_created() {
    use sqlx::Connection;
    let f = fixture().await;
    sqlx::any::install_default_drivers();
    let mut other = sqlx::AnyConnection::connect(&f.url).await.unwrap();
    let mut change = other.begin().await.unwrap();
    sqlx::query("UPDATE integrations SET secret_digest = 'digest-next' WHERE id = $1")
        .bind(f.integration)
        .execute(&mut *change)
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET ended_at = 50 WHERE integration_id = $1 AND ended_at IS NULL")
        .bind(f.integration)
        .execute(&mut *change)
        .await
        .unwrap();

    let (store, raced) = (f.store.clone(), session(&f, "raced", "digest-now"));
    let insert = tokio::spawn(async move {
        let mut conn = store.session_writer().await.unwrap();
        conn.insert_sessions(&[raced]).await.unwrap()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !insert.is_finished(),
        "the insert did not wait for the change"
    );
    change.commit().await.unwrap();
    assert_eq!(insert.await.unwrap(), [false]);
    assert!(f.store.find_session("raced").await.unwrap().is_none());
}

/// Sessions `a` and `b` of the fixture's integration, and a transaction of another connection
/// that holds `b` (has touched it and not committed). On PostgreSQL that transaction looks for
/// deadlocks only after ten seconds, not one: when it deadlocks with the store, the store's
/// statement is the one PostgreSQL ends, whichever of the two began waiting first on a busy
/// machine.
async fn two_sessions_with_b_held(f: &Fixture) -> sqlx::Transaction<'static, sqlx::Any> {
    let mut conn = f.store.session_writer().await.unwrap();
    let batch = [session(f, "a", "digest-now"), session(f, "b", "digest-now")];
    assert_eq!(conn.insert_sessions(&batch).await.unwrap(), [true, true]);
    drop(conn);
    sqlx::any::install_default_drivers();
    let other = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&f.url)
        .await
        .unwrap();
    let mut held = other.begin().await.unwrap();
    if f.url.starts_with("postgres") {
        sqlx::query("SET LOCAL deadlock_timeout = '10s'")
            .execute(&mut *held)
            .await
            .unwrap();
    }
    touch(&mut held, "b").await;
    held
}

/// Touches session `sid` in `tx`, which then holds it until it ends.
async fn touch(tx: &mut sqlx::Transaction<'static, sqlx::Any>, sid: &str) {
    sqlx::query("UPDATE sessions SET last_used_at = 30 WHERE sid = $1")
        .bind(sid)
        .execute(&mut **tx)
        .await
        .unwrap();
}

/// A batch rotating two sessions of one integration while a change locks them in the other
/// order — here by hand, in real life an administrator ending the integration's sessions while
/// two of its clients refresh. On PostgreSQL that is a deadlock: the database aborts one of the
/// two statements after a second, here the batch (see `two_sessions_with_b_held`). The writer
/// performs the batch again, so both rotations still happen and no request of the batch sees an
/// error.
/// (SQLite has one writer at a time: the batch waits for the change and then runs.)
#[tokio::test]
async fn a_batch_that_deadlocks_with_a_change_is_performed_again() {
    let f = fixture().await;
    let mut change = two_sessions_with_b_held(&f).await;

    let store = f.store.clone();
    let rotate = tokio::spawn(async move {
        let mut conn = store.session_writer().await.unwrap();
        conn.rotate_refresh(&[
            rotation("a", "a-jti-1", "a-jti-2"),
            rotation("b", "b-jti-1", "b-jti-2"),
        ])
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !rotate.is_finished(),
        "the batch did not wait for the change"
    );
    // On PostgreSQL the batch now holds a and waits for b; asking for a closes the cycle.
    touch(&mut change, "a").await;
    change.commit().await.unwrap();
    assert_eq!(rotate.await.unwrap().unwrap(), [true, true]);
    for sid in ["a", "b"] {
        let s = f.store.find_session(sid).await.unwrap().unwrap();
        assert_eq!(s.current_jti_digest, format!("{sid}-jti-2"));
    }
}

/// The other side of the same deadlock: a secret rotation ends the integration's two sessions
/// while a transaction (here by hand, in real life a rotation batch) holds the second and then
/// asks for the first. On PostgreSQL the database ends the rotation of the secret (see
/// `two_sessions_with_b_held`); the store makes the change again, so the administrator sees it
/// done, and both sessions end. (On SQLite the change waits for the other transaction.)
#[tokio::test]
async fn a_change_of_access_that_deadlocks_is_made_again() {
    let f = fixture().await;
    let mut held = two_sessions_with_b_held(&f).await;

    let (store, integration) = (f.store.clone(), f.integration);
    let change = tokio::spawn(async move {
        let rotate_secret = AccessChange::SetSecret {
            id: integration,
            digest: "digest-next",
        };
        store.change_access(rotate_secret, 40).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!change.is_finished(), "the change did not wait");
    // On PostgreSQL the change now holds a and waits for b; asking for a closes the cycle.
    touch(&mut held, "a").await;
    held.commit().await.unwrap();
    let ended = change.await.unwrap().unwrap().unwrap();
    // The sessions, and the marker of the secret's generation (see `domain::secret_generation`).
    let (markers, mut sessions): (Vec<String>, Vec<String>) =
        ended.into_iter().partition(|id| id.contains('.'));
    sessions.sort();
    assert_eq!(sessions, ["a", "b"]);
    assert_eq!(markers.len(), 1, "{markers:?}");
    for sid in ["a", "b"] {
        assert!(f.store.find_session(sid).await.unwrap().unwrap().ended);
    }
}

#[tokio::test]
async fn pruning_deletes_every_expired_session_however_many_statements_it_takes() {
    let f = fixture().await;
    let mut conn = f.store.session_writer().await.unwrap();
    // Expired sessions across several seconds, many statements' worth (500 each), and one
    // young session.
    for batch in 0..24 {
        let sessions: Vec<NewSession> = (0..500)
            .map(|i| {
                let mut s = session(&f, &format!("old-{batch}-{i}"), "digest-now");
                s.refresh_exp = 100 + batch;
                s
            })
            .collect();
        assert!(
            conn.insert_sessions(&sessions)
                .await
                .unwrap()
                .iter()
                .all(|&written| written)
        );
    }
    assert_eq!(
        conn.insert_sessions(&[session(&f, "young", "digest-now")])
            .await
            .unwrap(),
        [true]
    );
    drop(conn);

    assert_eq!(f.store.prune_sessions(600).await.unwrap(), 12_000);
    assert!(f.store.find_session("old-0-0").await.unwrap().is_none());
    assert!(f.store.find_session("old-23-499").await.unwrap().is_none());
    assert!(f.store.find_session("young").await.unwrap().is_some());
    assert_eq!(f.store.prune_sessions(600).await.unwrap(), 0);
}
