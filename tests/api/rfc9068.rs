//! The OAuth token profiles: today's JWT by default, and RFC 9068 JWT access tokens (`typ:
//! at+jwt`, `aud` from the default audience or an RFC 8707 `resource`) when configured, while
//! the user-login and `POST /auth` dialects keep their tokens' shape.

use std::collections::BTreeSet;

use porteiro::config::{OAuthTokenProfile, ResourceUri, Settings};
use serde_json::{Value, json};

use crate::helpers::*;

const AUDIENCE: &str = "https://api.example.com";
const BILLING: &str = "https://billing.example.com/v1";

fn rfc9068(settings: &mut Settings) {
    settings.oauth_token_profile = OAuthTokenProfile::Rfc9068;
    settings.oauth_audience = Some(ResourceUri::parse(AUDIENCE).unwrap());
    settings.oauth_resources = vec![ResourceUri::parse(BILLING).unwrap()];
}

fn keys(object: &Value) -> BTreeSet<&str> {
    object
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// The access token of a successful `POST /oauth/token`.
async fn access_token(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn invalid_target(response: reqwest::Response) {
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_target", "{body}");
    assert!(body["error_description"].is_string(), "{body}");
}

#[tokio::test]
async fn by_default_oauth_access_tokens_keep_todays_header_and_claims_and_ignore_resource() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&["read"]).await;
    for resource in [None, Some(AUDIENCE), Some("not a uri#at-all")] {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend(resource.map(|r| ("resource", r)));
        let access = access_token(app.oauth_token((&key, &secret), &form).await).await;
        let h = header(&access);
        assert_eq!(h, json!({"alg": "ES256", "typ": "JWT", "kid": h["kid"]}));
        assert!(h["kid"].is_string());
        let c = claims(&access);
        let expected = [
            "token_type",
            "exp",
            "iat",
            "jti",
            "iss",
            "sub",
            "sid",
            "org_id",
            "client_id",
            "id",
            "scope",
        ];
        assert_eq!(keys(&c), BTreeSet::from(expected), "{resource:?}");
        let introspection: Value = app
            .oauth_post("/oauth/introspect", (&key, &secret), &[("token", &access)])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(introspection["active"], true);
        assert!(introspection.get("aud").is_none(), "{introspection}");
    }
}

#[tokio::test]
async fn under_rfc9068_client_credentials_issue_an_at_jwt_with_every_required_claim() {
    let app = TestApp::spawn_with(rfc9068).await;
    let (key, secret) = app.create_integration(&["read", "write"]).await;
    let response = app
        .oauth_token((&key, &secret), &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        keys(&body),
        BTreeSet::from(["access_token", "token_type", "expires_in", "scope"])
    );
    assert_eq!(body["token_type"], "Bearer");
    let access = body["access_token"].as_str().unwrap();

    let h = header(access);
    assert_eq!(h, json!({"alg": "ES256", "typ": "at+jwt", "kid": h["kid"]}));
    let c = claims(access);
    // RFC 9068 §2.2's required claims, and `scope` since the token has scopes.
    assert_eq!(c["iss"], app.address);
    assert_eq!(c["aud"], AUDIENCE);
    assert_eq!(c["sub"], key);
    assert_eq!(c["client_id"], key);
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );
    assert!(c["jti"].as_str().is_some_and(|j| j.len() == 32));
    assert_eq!(c["scope"], "read write");
    // Porteiro's own claims stay, for its own checks.
    assert_eq!(c["token_type"], "access");
    assert_eq!(c["id"], key);
    assert_eq!(c["org_id"], app.org.get());
    assert!(c["sid"].is_string());
}

#[tokio::test]
async fn under_rfc9068_an_allowed_resource_becomes_the_audience() {
    let app = TestApp::spawn_with(rfc9068).await;
    let (key, secret) = app.create_integration(&[]).await;
    for (resource, aud) in [(BILLING, BILLING), (AUDIENCE, AUDIENCE)] {
        let form = [("grant_type", "client_credentials"), ("resource", resource)];
        let access = access_token(app.oauth_token((&key, &secret), &form).await).await;
        assert_eq!(header(&access)["typ"], "at+jwt");
        let c = claims(&access);
        assert_eq!(c["aud"], aud);
        // No scopes, no `scope` claim.
        assert!(c.get("scope").is_none(), "{c}");
    }
}

#[tokio::test]
async fn under_rfc9068_a_resource_not_allowed_relative_with_a_fragment_or_repeated_is_invalid_target()
 {
    let app = TestApp::spawn_with(rfc9068).await;
    let (key, secret) = app.create_integration(&[]).await;
    let refresh_token = app.integration_tokens(&key, &secret).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused: [&[&str]; 6] = [
        &["https://elsewhere.example.com"],
        &["https://api.example.com/"],
        &["/v1/documents"],
        &["https://api.example.com#v1"],
        &[""],
        &[AUDIENCE, BILLING],
    ];
    for resources in refused {
        let with = |grant: Vec<(&'static str, String)>| {
            let mut form = grant;
            form.extend(resources.iter().map(|r| ("resource", r.to_string())));
            form
        };
        let grants = [
            vec![("grant_type", "client_credentials".to_owned())],
            vec![
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", refresh_token.clone()),
            ],
        ];
        for grant in grants {
            let form = with(grant);
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            invalid_target(app.oauth_token((&key, &secret), &form).await).await;
        }
    }
    // The refused refreshes consumed nothing: the refresh token still works.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
    ];
    assert_eq!(app.oauth_token((&key, &secret), &form).await.status(), 200);
}

#[tokio::test]
async fn under_rfc9068_the_oauth_refresh_grant_issues_at_jwt_while_post_auth_keeps_jwt() {
    let app = TestApp::spawn_with(rfc9068).await;
    let (key, secret) = app.create_integration(&["read"]).await;
    let login = app.integration_tokens(&key, &secret).await;
    for token in [&login["access_token"], &login["refresh_token"]] {
        let token = token.as_str().unwrap();
        assert_eq!(header(token)["typ"], "JWT");
        assert!(claims(token).get("aud").is_none());
    }

    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", login["refresh_token"].as_str().unwrap()),
        ("resource", BILLING),
    ];
    let response = app.oauth_token((&key, &secret), &form).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(header(access)["typ"], "at+jwt");
    assert_eq!(claims(access)["aud"], BILLING);
    assert_eq!(claims(access)["client_id"], key);
    let rotated = body["refresh_token"].as_str().unwrap();
    assert_eq!(header(rotated)["typ"], "JWT");
    assert!(claims(rotated).get("aud").is_none());

    // Without a resource: the default audience.
    let form = [("grant_type", "refresh_token"), ("refresh_token", rotated)];
    let response = app.oauth_token((&key, &secret), &form).await;
    let body: Value = response.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(claims(access)["aud"], AUDIENCE);

    // POST /auth's own refresh keeps its JWT.
    let rotated = body["refresh_token"].as_str().unwrap();
    let response = app
        .post_json("/auth/refresh", &json!({"refresh_token": rotated}))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(header(access)["typ"], "JWT");
    assert!(claims(access).get("aud").is_none());
}

#[tokio::test]
async fn under_rfc9068_user_tokens_keep_their_shape() {
    let app = TestApp::spawn_with(rfc9068).await;
    let (refresh, access) = app.login().await;
    for token in [&refresh, &access] {
        assert_eq!(header(token)["typ"], "JWT");
        assert!(claims(token).get("aud").is_none());
        assert!(claims(token).get("client_id").is_none());
    }
    let response = app.refresh(&refresh).await;
    let body: Value = response.json().await.unwrap();
    let access = body["access"].as_str().unwrap();
    assert_eq!(header(access)["typ"], "JWT");
}

#[tokio::test]
async fn me_verify_introspection_and_revocation_accept_an_at_jwt_of_this_instance() {
    let app = TestApp::spawn_with(rfc9068).await;
    let (key, secret) = app.create_integration(&["read", "write"]).await;
    let form = [("grant_type", "client_credentials"), ("scope", "read")];
    let access = access_token(app.oauth_token((&key, &secret), &form).await).await;

    let me = app.me(&access).await;
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["type"], "integration");
    assert_eq!(me["consumer_key"], key);
    assert_eq!(me["scope"], json!(["read"]));
    assert_eq!(app.verify(&access).await.status(), 200);
    // So does another instance of the same service.
    let other = app.another_instance().await;
    assert_eq!(other.me(&access).await.status(), 200);

    let introspect = || async {
        let response = app
            .oauth_post("/oauth/introspect", (&key, &secret), &[("token", &access)])
            .await;
        response.json::<Value>().await.unwrap()
    };
    let found = introspect().await;
    assert_eq!(found["active"], true, "{found}");
    assert_eq!(found["aud"], AUDIENCE);
    assert_eq!(found["client_id"], key);
    assert_eq!(found["token_type"], "Bearer");
    assert_eq!(found["scope"], "read");

    let revoked = app
        .oauth_post("/oauth/revoke", (&key, &secret), &[("token", &access)])
        .await;
    assert_eq!(revoked.status(), 200);
    assert_eq!(introspect().await, json!({"active": false}));
    assert_body_text(app.me(&access).await, 401, BEARER_NOT_VALID).await;
}

/// Signs `claims` under `typ` with the HS256 secret of the app.
fn forge(typ: &str, kid: &Value, claims: &Value) -> String {
    let header = jsonwebtoken::Header {
        typ: Some(typ.to_owned()),
        kid: kid.as_str().map(str::to_owned),
        ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
    };
    let key = jsonwebtoken::EncodingKey::from_secret(HS256_SECRET.as_bytes());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

const HS256_SECRET: &str = "a shared secret of at least 32 bytes!";

#[tokio::test]
async fn a_token_whose_typ_and_claims_disagree_is_not_one_of_ours() {
    let app = TestApp::spawn_with(|s| {
        rfc9068(s);
        s.algorithm = porteiro::config::Algorithm::HS256;
        s.hs256_secret = Some(secrecy::SecretString::from(HS256_SECRET));
    })
    .await;
    let (key, secret) = app.create_integration(&[]).await;
    let form = [("grant_type", "client_credentials")];
    let at_jwt = access_token(app.oauth_token((&key, &secret), &form).await).await;
    let jwt = app.integration_tokens(&key, &secret).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let kid = header(&at_jwt)["kid"].clone();
    // The forger signs what Porteiro signs: re-signed as they are, both tokens are accepted.
    assert_eq!(
        app.me(&forge("at+jwt", &kid, &claims(&at_jwt)))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.me(&forge("JWT", &kid, &claims(&jwt))).await.status(),
        200
    );

    let mut refresh_claims = claims(&at_jwt);
    refresh_claims["token_type"] = json!("refresh");
    for forged in [
        // An audience under `typ: JWT`, no audience under `typ: at+jwt`.
        forge("JWT", &kid, &claims(&at_jwt)),
        forge("at+jwt", &kid, &claims(&jwt)),
        // A refresh token is never an at+jwt.
        forge("at+jwt", &kid, &refresh_claims),
        // Any other type.
        forge("application/at+jwt", &kid, &claims(&at_jwt)),
        forge("id_token+jwt", &kid, &claims(&jwt)),
    ] {
        assert_body_text(app.me(&forged).await, 401, BEARER_NOT_VALID).await;
        assert_eq!(app.verify(&forged).await.status(), 401);
    }
}

#[test]
fn serve_with_the_rfc9068_profile_and_no_audience_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = crate::binary::porteiro(dir.path());
    command.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--oauth-token-profile",
        "rfc9068",
    ]);
    let outcome = crate::binary::run_to_completion(command, "");
    outcome.assert_refused();
    assert!(outcome.stderr.contains("--oauth-audience"), "{outcome:?}");
    assert!(!dir.path().join("porteiro.db").exists());
}
