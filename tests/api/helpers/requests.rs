//! The requests of a [`TestApp`]: one method per endpoint, and the plain HTTP they are made of.

use reqwest::Response;
use serde_json::{Value, json};

use super::{PASSWORD, TestApp};

impl TestApp {
    /// `POST /auth` with JSON credentials.
    pub async fn integration_login(&self, consumer_key: &str, secret_key: &str) -> Response {
        self.post_json(
            "/auth",
            &json!({"consumer_key": consumer_key, "secret_key": secret_key}),
        )
        .await
    }

    /// `POST /auth` that must succeed: the whole body.
    pub async fn integration_tokens(&self, consumer_key: &str, secret_key: &str) -> Value {
        let response = self.integration_login(consumer_key, secret_key).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// `POST /oauth/token` with HTTP Basic client authentication.
    pub async fn oauth_token(&self, client: (&str, &str), form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url("/oauth/token"))
            .basic_auth(client.0, Some(client.1))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// `POST` a form to an OAuth endpoint with HTTP Basic client authentication.
    pub async fn oauth_post(
        &self,
        path: &str,
        client: (&str, &str),
        form: &[(&str, &str)],
    ) -> Response {
        self.client
            .post(self.url(path))
            .basic_auth(client.0, Some(client.1))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.client
            .post(self.url(path))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// `POST /api/v1/auth/token/{org}/` with JSON credentials.
    pub async fn login_as(
        &self,
        org: impl std::fmt::Display,
        username: &str,
        password: &str,
    ) -> Response {
        self.post_json(
            &format!("/api/v1/auth/token/{org}/"),
            &json!({"username": username, "password": password}),
        )
        .await
    }

    /// Logs the default member in and returns `(refresh, access)`.
    pub async fn login(&self) -> (String, String) {
        let response = self.login_as(self.org, &self.username, PASSWORD).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        (
            body["refresh"].as_str().unwrap().to_owned(),
            body["access"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn refresh(&self, refresh: &str) -> Response {
        self.post_json("/api/v1/auth/token-refresh/", &json!({"refresh": refresh}))
            .await
    }

    pub async fn verify(&self, token: &str) -> Response {
        self.post_json("/api/v1/auth/token-verify/", &json!({"token": token}))
            .await
    }

    pub async fn blacklist(&self, refresh: &str) -> Response {
        self.post_json(
            "/api/v1/auth/token-blacklist/",
            &json!({"refresh": refresh}),
        )
        .await
    }

    /// `GET /api/v1/me` with the given `Authorization` header, if any.
    pub async fn me_with(&self, authorization: Option<&str>) -> Response {
        let mut request = self.client.get(self.url("/api/v1/me"));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.send().await.unwrap()
    }

    pub async fn me(&self, access: &str) -> Response {
        self.me_with(Some(&format!("Bearer {access}"))).await
    }
}
