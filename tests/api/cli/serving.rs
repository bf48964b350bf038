//! Admin commands against a running server, and its shutdown.

use super::*;

#[tokio::test]
async fn user_disable_while_serving_ends_the_users_tokens_within_2_seconds() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    porteiro.create_user(org, "ana@example.com", PASSWORD);
    let server = porteiro.serve().await;
    let (refresh, access) = server.tokens(org, "ana@example.com", PASSWORD).await;
    assert_eq!(server.me(&access).await.status(), 200);

    porteiro.json("user disable --username ana@example.com --json");

    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let status = server.me(&access).await.status();
        if status == 401 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the access token still answers {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(server.refresh(&refresh).await.status(), 401);
}

#[tokio::test]
async fn sigterm_makes_serve_exit_0_within_10_seconds() {
    let porteiro = Porteiro::new();
    let mut server = porteiro.serve().await;
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let status = server.terminate(Duration::from_secs(10));

    let status = status.expect("serve still running 10 s after SIGTERM");
    assert_eq!(status.code(), Some(0), "serve exited with {status}");
}
