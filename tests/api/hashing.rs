//! The password-hashing pool under a flood of logins.

use porteiro::config::Argon2Settings;

use crate::helpers::*;

#[tokio::test]
async fn a_login_flood_beyond_the_queue_gets_quick_503s_with_retry_after() {
    let app = TestApp::spawn_with(|s| {
        s.argon2 = Argon2Settings {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
        };
        s.lockout.account_failures = 100_000;
        s.lockout.address_failures = 100_000;
    })
    .await;
    let logins = (0..300).map(|_| app.login_as(app.org, &app.username, PASSWORD));
    let responses = futures_util::future::join_all(logins).await;
    let ok = responses.iter().filter(|r| r.status() == 200).count();
    let busy: Vec<_> = responses.iter().filter(|r| r.status() == 503).collect();
    assert_eq!(ok + busy.len(), 300, "only successes and 503s");
    assert!(ok >= 2, "some logins were served: {ok}");
    assert!(!busy.is_empty(), "the queue is bounded");
    // A full hashing queue answers `Retry-After: 1`; on a machine loaded by other tests a few
    // requests may instead wait too long for the database and get its 503 (`Retry-After: 5`).
    let retry: Vec<&str> = busy
        .iter()
        .map(|r| r.headers()["retry-after"].to_str().unwrap())
        .collect();
    assert!(
        retry.iter().all(|r| r.parse::<u64>().is_ok_and(|s| s > 0)),
        "{retry:?}"
    );
    assert!(
        retry.contains(&"1"),
        "the hashing queue turned logins away: {retry:?}"
    );
    // The flood leaves nothing behind.
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
}
