//! Headers on every answer: `X-Content-Type-Options: nosniff` always, and
//! `Strict-Transport-Security` when the issuer is `https://`.

use reqwest::Response;

use crate::helpers::*;

const HTTPS_ISSUER: &str = "https://auth.example.com";

/// One answer of each kind: a token, an error, a 404, a 405, a 413, a console page, the JWKS;
/// each checked to be what it claims.
async fn one_of_each_kind(app: &TestApp) -> Vec<(&'static str, Response)> {
    let oversized = vec![b'a'; 65 * 1024];
    let answers = vec![
        (
            "token",
            200,
            app.login_as(app.org, &app.username, PASSWORD).await,
        ),
        (
            "wrong password",
            401,
            app.login_as(app.org, &app.username, "wrong").await,
        ),
        ("unknown path", 404, app.get("/no/such/page").await),
        (
            "wrong method",
            405,
            app.get(&format!("/api/v1/auth/token/{}/", app.org)).await,
        ),
        (
            "body too large",
            413,
            app.post_raw("/api/v1/auth/token-verify/", "application/json", oversized)
                .await,
        ),
        ("console page", 200, app.get("/console/").await),
        ("jwks", 200, app.get("/.well-known/jwks.json").await),
    ];
    answers
        .into_iter()
        .map(|(kind, status, response)| {
            assert_eq!(response.status(), status, "{kind}");
            (kind, response)
        })
        .collect()
}

#[tokio::test]
async fn every_kind_of_answer_says_nosniff() {
    let app = TestApp::spawn().await;
    for (kind, response) in one_of_each_kind(&app).await {
        assert_eq!(
            response
                .headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{kind} ({})",
            response.status()
        );
    }
}

#[tokio::test]
async fn with_an_https_issuer_every_kind_of_answer_carries_hsts() {
    let app = TestApp::spawn_with(|s| s.issuer = Some(HTTPS_ISSUER.to_owned())).await;
    for (kind, response) in one_of_each_kind(&app).await {
        assert_eq!(
            response
                .headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap()),
            Some("max-age=31536000"),
            "{kind} ({})",
            response.status()
        );
    }
}

#[tokio::test]
async fn with_an_http_issuer_no_answer_carries_hsts() {
    let app = TestApp::spawn().await;
    for (kind, response) in one_of_each_kind(&app).await {
        assert!(
            response
                .headers()
                .get("strict-transport-security")
                .is_none(),
            "{kind} ({})",
            response.status()
        );
    }
}
