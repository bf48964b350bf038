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
