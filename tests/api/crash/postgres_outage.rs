//! PostgreSQL stopped at once under refresh rotation, and started again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{CLIENTS, Deployment, Holder, Requests, random_between};
use crate::postgres::{PgCluster, available};

/// Immediate stops of PostgreSQL under load.
const HALTS: usize = 2;

/// What a client saw while PostgreSQL was stopped and started under it.
#[derive(Debug, Default)]
struct Outage {
    unavailable: AtomicU64,
    without_retry_after: AtomicU64,
    /// Clients that got a 200 since the database came back.
    served_again: AtomicU64,
}

/// Refreshes in a loop until `stop`, always with the newest token; a 503 is retried with the same
/// token after a moment. Anything else than 200 or 503 is a failure. Answers the holder and when
/// its first 200 after `resumed` was set came.
async fn rotate_through_outages(
    http: reqwest::Client,
    url: String,
    mut holder: Holder,
    outage: Arc<Outage>,
    stop: Arc<AtomicBool>,
    resumed: Arc<AtomicBool>,
) -> Result<(Holder, Option<Instant>), String> {
    let mut served_after_resume = None;
    while !stop.load(Ordering::Relaxed) {
        let response = http
            .post(&url)
            .json(&json!({ "refresh": holder.newest }))
            .send()
            .await
            .map_err(|e| format!("the server stopped answering: {e}"))?;
        let status = response.status();
        if status == 503 {
            outage.unavailable.fetch_add(1, Ordering::Relaxed);
            if !response.headers().contains_key("retry-after") {
                outage.without_retry_after.fetch_add(1, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("a refresh answered {status}: {body}"));
        }
        holder.newest = body["refresh"].as_str().unwrap().to_owned();
        holder.rotations += 1;
        if served_after_resume.is_none() && resumed.load(Ordering::Relaxed) {
            served_after_resume = Some(Instant::now());
            outage.served_again.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok((holder, served_after_resume))
}

#[tokio::test]
async fn postgres_stopped_at_once_under_refresh_rotation_gives_503s_then_serves_every_client_again()
{
    if !available() {
        return;
    }
    let cluster = tokio::task::spawn_blocking(PgCluster::start).await.unwrap();
    let deployment = Deployment::new(tempfile::tempdir().unwrap(), cluster.url());
    let org = deployment.seed();
    let mut server = deployment
        .serve(&["--database-connect-timeout", "2s"])
        .await;
    let mut holders: Vec<Holder> = server
        .logins(org, CLIENTS)
        .await
        .into_iter()
        .map(Holder::logged_in)
        .collect();
    let outage = Arc::new(Outage::default());
    let url = server.url("/api/v1/auth/token-refresh/");
    let mut cluster = Some(cluster);
    for halt in 1..=HALTS {
        let stop = Arc::new(AtomicBool::new(false));
        let resumed = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = holders
            .iter()
            .map(|h| {
                tokio::spawn(rotate_through_outages(
                    server.client.clone(),
                    url.clone(),
                    h.clone(),
                    outage.clone(),
                    stop.clone(),
                    resumed.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(random_between(300, 800))).await;
        let before = outage.unavailable.load(Ordering::Relaxed);
        outage.served_again.store(0, Ordering::Relaxed);
        let taken = cluster.take().unwrap();
        let taken = tokio::task::spawn_blocking(move || {
            taken.halt();
            taken
        })
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let taken = tokio::task::spawn_blocking(move || {
            taken.resume();
            taken
        })
        .await
        .unwrap();
        cluster = Some(taken);
        let resumed_at = Instant::now();
        resumed.store(true, Ordering::Relaxed);
        // Every client must get through again by itself: give them at most 10 s, then stop.
        let deadline = resumed_at + Duration::from_secs(10);
        while Instant::now() < deadline
            && outage.served_again.load(Ordering::Relaxed) < CLIENTS as u64
            && !tasks.iter().any(|t| t.is_finished())
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Some load after recovery, too.
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, Ordering::Relaxed);
        let mut slowest = Duration::ZERO;
        for (i, task) in tasks.into_iter().enumerate() {
            let (holder, served) = task
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("client {i}: {e}"));
            holders[i] = holder;
            let served =
                served.unwrap_or_else(|| panic!("client {i} not served after halt {halt}"));
            slowest = slowest.max(served.saturating_duration_since(resumed_at));
        }
        let unavailable = outage.unavailable.load(Ordering::Relaxed) - before;
        assert!(unavailable > 0, "no 503 while the database was down");
        eprintln!(
            "halt {halt}: {unavailable} answers 503 while PostgreSQL was down; every client \
             served again within {slowest:?} of its restart"
        );
    }
    assert_eq!(outage.without_retry_after.load(Ordering::Relaxed), 0);
    for (i, holder) in holders.iter().enumerate() {
        server
            .rotate(&holder.newest, &format!("client {i} at the end"))
            .await;
    }
    server.kill();
    deployment.assert_sessions_coherent(0).await;
    drop(cluster);
}
