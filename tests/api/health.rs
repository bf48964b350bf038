//! Liveness, readiness and metrics: `/healthz`, `/readyz` and `/metrics`.

use crate::helpers::*;

#[tokio::test]
async fn healthz_and_readyz_answer_200_while_the_database_is_up() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_the_porteiro_prefix() {
    let app = TestApp::spawn().await;
    app.login().await;
    app.login_as(app.org, &app.username, "wrong").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains("porteiro_authentications_total{principal=\"user\",outcome=\"success\"} 1")
    );
    assert!(
        text.contains("porteiro_authentications_total{principal=\"user\",outcome=\"failure\"} 1")
    );
    assert!(text.contains("porteiro_database_up 1"));
    for line in text.lines() {
        let name = line
            .trim_start_matches("# HELP ")
            .trim_start_matches("# TYPE ");
        assert!(name.starts_with("porteiro_"), "{line}");
    }
}
