//! The API's messages honour Accept-Language for Portuguese (Brazil) and Spanish; English stays
//! the default, byte for byte.

use serde_json::{Value, json};

use crate::helpers::*;

async fn login_in(app: &TestApp, lang: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/auth/token/{}/", app.org)))
        .header("Accept-Language", lang)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_failed_login_answers_in_portuguese_for_pt_br() {
    let app = TestApp::spawn().await;
    let response = login_in(
        &app,
        "pt-BR,pt;q=0.9",
        json!({"username": app.username, "password": "x"}),
    )
    .await;
    assert_eq!(response.headers()["content-language"], "pt-BR");
    assert_json(
        response,
        401,
        json!({"detail": "Nenhuma conta ativa encontrada com as credenciais fornecidas"}),
    )
    .await;
}

#[tokio::test]
async fn validation_messages_answer_in_spanish_for_es() {
    let app = TestApp::spawn().await;
    let response = login_in(&app, "es-AR", json!({"username": ""})).await;
    assert_json(
        response,
        400,
        json!({"username": ["Este campo no puede estar en blanco."], "password": ["Este campo es obligatorio."]}),
    )
    .await;
    let response = app
        .client
        .post(app.url("/auth"))
        .header("Accept-Language", "es")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["title"], "Solicitud incorrecta");
    assert_eq!(
        body["validation"][0],
        json!({"field": "consumer_key", "message": "Este campo es obligatorio."})
    );
}

#[tokio::test]
async fn codes_stay_in_english_and_other_languages_get_english() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .header("Accept-Language", "pt-BR")
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "token_not_valid");
    assert_eq!(body["messages"][0]["token_class"], "AccessToken");
    assert_eq!(
        body["messages"][0]["message"],
        "O token é inválido ou expirou"
    );
    let response = login_in(
        &app,
        "fr-FR",
        json!({"username": app.username, "password": "x"}),
    )
    .await;
    assert!(response.headers().get("content-language").is_none());
    assert_body_text(response, 401, NO_ACTIVE_ACCOUNT).await;
}

/// Headers the two parsers of old misread: `*` (ignored instead of standing for English),
/// weights outside RFC 9110's grammar (read as `q=1` instead of skipping the entry), an
/// uppercase `Q`, a space after `q=`, and an underscore in a tag (read as Portuguese by the
/// console only).
const MISREAD_ACCEPT_LANGUAGE: [(&str, &str); 6] = [
    ("*, pt;q=0.5", "en"),
    ("pt;q=abc, es;q=0.9", "es"),
    ("pt;q=2, es;q=0.9", "es"),
    ("pt;Q=0, es;q=0.1", "es"),
    ("pt;q= 0.5, es;q=0.4", "es"),
    ("pt_BR, es;q=0.5", "es"),
];

#[tokio::test]
async fn error_messages_follow_rfc_9110_negotiation_of_accept_language() {
    let app = TestApp::spawn().await;
    for (accept, lang) in MISREAD_ACCEPT_LANGUAGE {
        let response = login_in(&app, accept, json!({"username": app.username})).await;
        let content_language = response
            .headers()
            .get("content-language")
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = response.json().await.unwrap();
        let (expected_header, expected_message) = match lang {
            "es" => (Some("es"), "Este campo es obligatorio."),
            _ => (None, "This field is required."),
        };
        assert_eq!(content_language.as_deref(), expected_header, "{accept}");
        assert_eq!(body["password"][0], expected_message, "{accept}");
    }
}

#[tokio::test]
async fn console_pages_follow_rfc_9110_negotiation_of_accept_language() {
    let app = TestApp::spawn().await;
    for (accept, lang) in MISREAD_ACCEPT_LANGUAGE {
        let page = app
            .client
            .get(app.url("/console/"))
            .header("Accept-Language", accept)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!("<html lang=\"{lang}\">")),
            "{accept}"
        );
    }
}
