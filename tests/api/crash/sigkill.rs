//! `porteiro serve` killed with SIGKILL under refresh rotation, and restarted on the same
//! database.

use std::time::Duration;

use serde_json::{Value, json};

use super::{CLIENTS, Deployment, Holder, Requests, jti, random_between};
use crate::helpers::fresh_database;

/// SIGKILLs under load per test.
const KILLS: usize = 4;

/// How a client's loop ended when the server died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The request never reached a server: nothing was in flight when it died.
    Refused,
    /// The request was sent, or on its way, and no answer arrived.
    CutOff,
}

/// Refreshes in a loop, always with the newest token, until a request gets no answer.
async fn rotate_until_the_server_dies(
    http: reqwest::Client,
    url: String,
    mut holder: Holder,
) -> Result<(Holder, Ending), String> {
    loop {
        let sent = http
            .post(&url)
            .json(&json!({ "refresh": holder.newest }))
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_connect() => return Ok((holder, Ending::Refused)),
            Err(_) => return Ok((holder, Ending::CutOff)),
        };
        let status = response.status();
        let Ok(body) = response.json::<Value>().await else {
            return Ok((holder, Ending::CutOff));
        };
        if status != 200 {
            return Err(format!("a refresh under load answered {status}: {body}"));
        }
        holder.newest = body["refresh"].as_str().unwrap().to_owned();
        holder.rotations += 1;
    }
}

/// Rotation load, SIGKILL at a random moment 300–800 ms into it, restart: [`KILLS`] times. After
/// each restart every client refreshes the token it sent last (the newest it received) and then
/// retries it: both 200, with the same new `jti` (the retry gets the same newest token). Then,
/// with a grace window of 1 s that has passed, a consumed token is reuse: 401 and its session
/// ends. Every session row is coherent at the end.
async fn kill_under_load_and_restart(deployment: &Deployment) {
    let org = deployment.seed();
    let mut server = deployment.serve(&[]).await;
    let mut holders: Vec<Holder> = server
        .logins(org, CLIENTS)
        .await
        .into_iter()
        .map(Holder::logged_in)
        .collect();
    let (mut refused, mut cut_off) = (0, 0);
    for kill in 1..=KILLS {
        let url = server.url("/api/v1/auth/token-refresh/");
        let tasks: Vec<_> = holders
            .iter()
            .map(|h| {
                tokio::spawn(rotate_until_the_server_dies(
                    server.client.clone(),
                    url.clone(),
                    h.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(random_between(300, 800))).await;
        let before: u64 = holders.iter().map(|h| h.rotations).sum();
        server.kill();
        let mut endings = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            let (holder, ending) = task.await.unwrap().unwrap_or_else(|e| panic!("{e}"));
            holders[i] = holder;
            endings.push(ending);
        }
        let during: u64 = holders.iter().map(|h| h.rotations).sum::<u64>() - before;
        assert!(during > 0, "no rotation before kill {kill}");

        server.restart().await;
        for (i, holder) in holders.iter_mut().enumerate() {
            let what = format!("client {i} after kill {kill} ({:?})", endings[i]);
            let next = server.rotate(&holder.newest, &what).await;
            let again = server
                .rotate(&holder.newest, &format!("retry of {what}"))
                .await;
            assert_eq!(
                jti(&again),
                jti(&next),
                "{what}: the retry got another token"
            );
            holder.retried = Some(std::mem::replace(&mut holder.newest, next));
        }
        refused += endings.iter().filter(|e| **e == Ending::Refused).count();
        cut_off += endings.iter().filter(|e| **e == Ending::CutOff).count();
    }
    let rotations: u64 = holders.iter().map(|h| h.rotations).sum();
    eprintln!(
        "{KILLS} kills survived: {rotations} rotations under load; after the kills {cut_off} \
         requests had been cut off and {refused} found no server, all retried with success"
    );

    // Outside the grace window a consumed token is reuse, also one rotated just before a crash.
    server.kill();
    let mut server = deployment.serve(&["--refresh-reuse-grace", "1s"]).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let reused = [
        (0, holders[0].first.clone()),
        (1, holders[1].retried.clone().unwrap()),
    ];
    for (i, token) in &reused {
        assert_eq!(server.refresh(token).await.status(), 401, "client {i}");
        let newest = server.refresh(&holders[*i].newest).await.status();
        assert_eq!(newest, 401, "client {i}'s session must have ended");
    }
    for (i, holder) in holders.iter().enumerate().skip(reused.len()) {
        server
            .rotate(&holder.newest, &format!("client {i} at the end"))
            .await;
    }
    server.kill();
    deployment
        .assert_sessions_coherent(reused.len() as i64)
        .await;
}

/// On the suite's database: a SQLite file, or PostgreSQL under `scripts/with-postgres`.
#[tokio::test]
async fn sigkill_under_refresh_rotation_loses_no_token_and_leaves_the_database_intact() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(&dir).await;
    let deployment = Deployment::new(dir, database);
    kill_under_load_and_restart(&deployment).await;
    if deployment.database.starts_with("sqlite") {
        deployment.assert_sqlite_intact().await;
    }
}
