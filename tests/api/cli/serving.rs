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

#[tokio::test]
async fn events_of_the_last_requests_before_sigterm_are_stored() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let integration = porteiro.create_integration(org, "Billing", &[]);
    let mut server = porteiro.serve().await;
    // The audit writer stores the first event at once and then gathers the next ones for a
    // moment: these wait in its queue when the signal comes.
    for _ in 0..20 {
        assert_eq!(server.integration_auth(&integration).await.status(), 200);
    }

    let status = server.terminate(Duration::from_secs(10));

    assert_eq!(status.and_then(|s| s.code()), Some(0));
    let store = porteiro::store::Store::open(
        &porteiro.database(),
        false,
        1,
        Duration::from_secs(5),
        Default::default(),
    )
    .await
    .unwrap();
    let filter = porteiro::domain::AuditFilter {
        kind: Some("integration_authenticated".to_owned()),
        limit: 100,
        ..Default::default()
    };
    let org = porteiro::domain::OrgId::from_db(org);
    let events = store.audit_events(org, &filter).await.unwrap();
    assert_eq!(events.len(), 20);
}

#[test]
fn an_unknown_sqlite_synchronous_value_is_refused_with_status_2_naming_the_choices() {
    let porteiro = Porteiro::new();
    let refused = porteiro.run("serve --sqlite-synchronous off");
    refused.assert_refused();
    assert!(
        refused.stderr.contains("--sqlite-synchronous") && refused.stderr.contains("full"),
        "{refused:?}"
    );
    let from_env = run_to_completion(
        porteiro.command(&["serve"], &[("PORTEIRO_SQLITE_SYNCHRONOUS", "extra")]),
        "",
    );
    from_env.assert_refused();
    assert!(!porteiro.has_file("porteiro.db"), "nothing may be created");
}
