use porteiro::domain::*;
use porteiro::store::*;
use std::time::{Duration, Instant};
#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/x.db", dir.path().display());
    let store = Store::connect(&url, 4, Duration::from_secs(5))
        .await
        .unwrap();
    let org = store.create_org("o", 0).await.unwrap();
    let key = ConsumerKey::generate();
    let oid = OrgId::from_db(org.id);
    let rec = store
        .create_integration(oid, &key, "dig", "n", &Scopes::default(), 0)
        .await
        .unwrap();
    if std::env::var_os("XPARTIAL").is_some() {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("DROP INDEX sessions_user; DROP INDEX sessions_ended; DROP INDEX sessions_integration; CREATE INDEX sessions_user ON sessions (user_id) WHERE user_id IS NOT NULL; CREATE INDEX sessions_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL; CREATE INDEX sessions_integration ON sessions (integration_id) WHERE integration_id IS NOT NULL;").execute(&mut c).await.unwrap();
    }
    let t = Instant::now();
    for _ in 0..1000 {
        store.ping().await;
    }
    println!("ping {:?}", t.elapsed() / 1000);
    let mut n = 0u64;
    for size in [1usize, 1, 4, 16, 64, 16, 1] {
        let t = Instant::now();
        let rounds = 200;
        for _ in 0..rounds {
            let batch: Vec<NewSession> = (0..size)
                .map(|_| {
                    n += 1;
                    NewSession {
                        sid: format!("{n:032x}"),
                        kind: SessionKind::Integration,
                        user_id: None,
                        integration_id: Some(rec.id),
                        org_id: oid,
                        client_addr: "127.0.0.1".into(),
                        now: 1,
                        refresh_jti_digest: format!("{n:064x}"),
                        refresh_exp: 2,
                        credential: "dig".into(),
                    }
                })
                .collect();
            let mut c = store.session_writer().await.unwrap();
            let r = c.insert_sessions(&batch).await.unwrap();
            if std::env::var_os("XHOLD").is_none() {
                drop(c)
            } else {
                std::mem::forget(c)
            }
            assert!(r.iter().all(|x| *x));
        }
        println!("size {size}: {:?} per batch", t.elapsed() / rounds);
    }
}
