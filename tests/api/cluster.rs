//! Several instances on one PostgreSQL behave as one service, and an unreachable
//! database gives quick 503s, then service resumes by itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::binary::{RunningServer, porteiro};
use crate::helpers::*;
use crate::postgres::{PgCluster, available};

/// Two instances on the shared test cluster, or `None` (with a note) when there is none.
async fn two_instances(
    configure: impl FnOnce(&mut porteiro::config::Settings),
) -> Option<(TestApp, TestApp)> {
    // The PostgreSQL half of scripts/test sets it (and fails under CI when it cannot).
    if postgres_base().is_none() {
        eprintln!("skipped: set PORTEIRO_TEST_POSTGRES (scripts/with-postgres cargo test)");
        return None;
    }
    let a = TestApp::spawn_with(configure).await;
    let b = a.another_instance().await;
    Some((a, b))
}

#[tokio::test]
async fn a_token_minted_by_one_instance_is_accepted_by_the_other() {
    let Some((a, b)) = two_instances(|_| {}).await else {
        return;
    };
    let (refresh, access) = a.login().await;
    assert_eq!(b.me(&access).await.status(), 200);
    assert_eq!(b.refresh(&refresh).await.status(), 200);
}

#[tokio::test]
async fn the_lockout_limit_holds_for_the_cluster_not_per_instance() {
    let Some((a, b)) = two_instances(|_| {}).await else {
        return;
    };
    for i in 0..5 {
        let app = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            app.login_as(app.org, &app.username, "wrong").await.status(),
            401
        );
    }
    assert_eq!(a.login_as(a.org, &a.username, PASSWORD).await.status(), 400);
    assert_eq!(b.login_as(b.org, &b.username, PASSWORD).await.status(), 400);
}

#[tokio::test]
async fn parallel_failures_spread_over_instances_never_pass_the_limit() {
    let Some((a, b)) = two_instances(|_| {}).await else {
        return;
    };
    let attempts = (0..20).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        app.login_as(app.org, &app.username, "wrong")
    });
    let responses = futures_util::future::join_all(attempts).await;
    assert_eq!(responses.iter().filter(|r| r.status() == 401).count(), 5);
}

#[tokio::test]
async fn one_refresh_token_presented_to_both_instances_rotates_exactly_once() {
    let Some((a, b)) = two_instances(|s| s.rotate_refresh_tokens = true).await else {
        return;
    };
    let (refresh, _) = a.login().await;
    let requests = (0..40).map(|i| {
        if i % 2 == 0 {
            a.refresh(&refresh)
        } else {
            b.refresh(&refresh)
        }
    });
    let mut jtis = std::collections::HashSet::new();
    for response in futures_util::future::join_all(requests).await {
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        jtis.insert(claims(body["refresh"].as_str().unwrap())["jti"].clone());
    }
    assert_eq!(jtis.len(), 1);
    // Reuse after the grace window is caught whichever instance sees it.
    a.clock.advance(11);
    assert_eq!(b.refresh(&refresh).await.status(), 401);
}

#[tokio::test]
async fn a_session_ended_on_one_instance_is_refused_by_the_other_within_a_second() {
    let Some((a, b)) = two_instances(|_| {}).await else {
        return;
    };
    let (refresh, access) = a.login().await;
    assert_eq!(b.me(&access).await.status(), 200);
    assert_eq!(a.blacklist(&refresh).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_body_text(b.me(&access).await, 401, BEARER_NOT_VALID).await;
    assert_body_text(b.verify(&access).await, 401, TOKEN_NOT_VALID).await;
}

#[tokio::test]
async fn a_rotated_key_reaches_every_instance_within_five_seconds_and_signs_only_when_active() {
    let Some((a, b)) = two_instances(|_| {}).await else {
        return;
    };
    let (_, before) = a.login().await;
    let key = a.create_key(300).await;
    let deadline = Instant::now() + Duration::from_secs(6);
    loop {
        let jwks: Value = b.get("/.well-known/jwks.json").await.json().await.unwrap();
        if jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == json!(key.kid))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "instance b never published the new key"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, still_old) = b.login().await;
    assert_eq!(header(&still_old)["kid"], header(&before)["kid"]);
    a.clock.advance(300);
    let (_, after) = b.login().await;
    assert_eq!(header(&after)["kid"], json!(key.kid));
    assert_eq!(a.me(&after).await.status(), 200);
}

#[tokio::test]
async fn instances_starting_together_on_an_empty_database_perform_one_first_start() {
    if postgres_base().is_none() {
        eprintln!("skipped: set PORTEIRO_TEST_POSTGRES");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(&dir).await;
    let master_key = new_master_key();
    let servers: Vec<RunningServer> = (0..3)
        .map(|_| {
            let mut command = porteiro(dir.path());
            command
                .args(["serve", "--database", &database])
                .env("PORTEIRO_LOG_FORMAT", "json")
                .env(
                    "PORTEIRO_MASTER_KEY",
                    secrecy::ExposeSecret::expose_secret(&master_key),
                );
            RunningServer::spawn(command)
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut first_starts = 0;
    for mut server in servers {
        let output = tokio::task::spawn_blocking(move || {
            server.terminate(Duration::from_secs(30));
            server.stdout()
        })
        .await
        .unwrap();
        first_starts += output.matches("first start").count();
    }
    assert_eq!(first_starts, 1);
}

#[tokio::test]
async fn while_the_database_is_down_requests_get_quick_503s_and_service_resumes_by_itself() {
    if !available() {
        return;
    }
    let cluster = tokio::task::spawn_blocking(PgCluster::start).await.unwrap();
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let app = TestApp::spawn_on(dir, cluster.url(), |s| {
        s.database_connect_timeout = Duration::from_secs(2);
    })
    .await;
    let (refresh, access) = app.login().await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.halt();
        cluster
    })
    .await
    .unwrap();
    let requests = [
        app.login_as(app.org, &app.username, PASSWORD).await,
        app.refresh(&refresh).await,
        app.me(&access).await,
    ];
    for response in requests {
        assert_eq!(response.status(), 503);
        assert!(response.headers().contains_key("retry-after"));
    }
    let started = Instant::now();
    let response = app.login_as(app.org, &app.username, PASSWORD).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered in {:?}",
        started.elapsed()
    );
    assert_eq!(response.status(), 503);
    assert_eq!(app.get("/readyz").await.status(), 503);
    assert_eq!(app.get("/healthz").await.status(), 200);

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.resume();
        cluster
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if app
            .login_as(app.org, &app.username, PASSWORD)
            .await
            .status()
            == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "service did not resume");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert_eq!(app.me(&access).await.status(), 200);
    drop(cluster);
}
