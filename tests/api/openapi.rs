//! The OpenAPI document: served at `/openapi.json`, committed as `docs/openapi.json`, and
//! covering every route of the API's route table.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::helpers::*;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_committed_openapi_document_is_what_the_code_generates() {
    let generated = porteiro::http::openapi::document_json();
    let path = repository().join("docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json differs from the document the code generates; regenerate it with\n\
         UPDATE_OPENAPI=1 cargo test --test api openapi\nand commit it"
    );
}

/// The paths the API's routers register: every string literal that starts with `/` and is an
/// argument of a call (`.route("/…"`, `both_slashes(r, "/…"`) in `src/http` and the route table.
fn routed_paths() -> BTreeSet<String> {
    let mut files = vec![repository().join("src/app/routes.rs")];
    collect_rust_files(&repository().join("src/http"), &mut files);
    let mut paths = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let code: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = code.as_str();
        while let Some(at) = rest.find("\"/") {
            let before = rest[..at].trim_end();
            let after = &rest[at + 1..];
            let end = after.find('"').unwrap();
            let literal = &after[..end];
            if (before.ends_with('(') || before.ends_with(',')) && !literal.contains(' ') {
                paths.insert(normalized(literal));
            }
            rest = &after[end + 1..];
        }
    }
    paths
}

fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Routes are served with and without a trailing slash; the document names one form.
fn normalized(path: &str) -> String {
    path.trim_end_matches('/').to_owned()
}

#[tokio::test]
async fn get_openapi_json_answers_an_openapi_3_1_document_of_every_route() {
    let app = TestApp::spawn().await;

    let response = app.get("/openapi.json").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: Value = response.json().await.unwrap();
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1."), "openapi: {version}");
    let documented: BTreeSet<String> = document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|p| normalized(p))
        .collect();
    let routed = routed_paths();
    // The scan itself must see the routes, or this test could not fail.
    assert!(routed.contains("/api/v1/auth/token/{organization_id}"));
    assert!(routed.contains("/api/v1/admin/sessions/{sid}"));
    assert!(routed.contains("/openapi.json"));
    let undocumented: Vec<&String> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes without an OpenAPI operation: {undocumented:?}"
    );
    let unrouted: Vec<&String> = documented.difference(&routed).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler_of_its_method() {
    let app = TestApp::spawn().await;
    let document: Value = serde_json::from_str(&porteiro::http::openapi::document_json()).unwrap();

    for (path, operations) in document["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{organization_id}", &app.org.to_string())
            .replace("{key}", "00000000-0000-4000-8000-000000000000")
            .replace("{id}", "999")
            .replace("{sid}", "0");
        for method in operations.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .client
                .request(method.clone(), app.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            // The fallback's 404 and a 405 are what a documented operation without a route gets.
            assert!(
                status != 405 && !(status == 404 && body == r#"{"detail":"Not found."}"#),
                "{method} {path}: {status} {body}"
            );
        }
    }
}
