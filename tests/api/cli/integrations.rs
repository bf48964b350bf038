//! Integrations: create, list, rotate, revoke.

use super::*;

#[tokio::test]
async fn integration_create_prints_a_consumer_key_and_a_secret_key_that_obtain_tokens() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    let created = porteiro.create_integration(org, "Billing", &["invoices:read", "invoices:write"]);

    let keys = ["consumer_key", "name", "org_id", "scope", "secret_key"];
    assert_eq!(keys_of(&created), keys);
    assert_eq!(created["org_id"], org);
    assert_eq!(created["name"], "Billing");
    assert_eq!(created["scope"], json!(["invoices:read", "invoices:write"]));
    let server = porteiro.serve().await;
    let response = server.integration_auth(&created).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert!(tokens["access_token"].is_string(), "{tokens}");
}

#[test]
fn integration_list_shows_every_integration_of_the_organization_and_never_a_secret() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let billing = porteiro.create_integration(org, "Billing", &[]);
    let reports = porteiro.create_integration(org, "Reports", &["read"]);

    let outcome = porteiro.run(&format!("integration list --org {org} --json"));

    let list = outcome.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    for (listed, created) in list.iter().zip([&billing, &reports]) {
        assert_eq!(listed["consumer_key"], created["consumer_key"]);
        assert_eq!(listed["name"], created["name"]);
        assert_eq!(listed["scope"], created["scope"]);
        assert!(listed.get("secret_key").is_none(), "{listed}");
        let secret = created["secret_key"].as_str().unwrap();
        assert!(!outcome.stdout.contains(secret), "{outcome:?}");
    }
}

#[tokio::test]
async fn integration_rotate_secret_replaces_the_secret_key() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let old = porteiro.create_integration(org, "Billing", &[]);
    let key = old["consumer_key"].as_str().unwrap();

    let new = porteiro.json(&format!("integration rotate-secret {key} --json"));

    assert_eq!(keys_of(&new), ["consumer_key", "secret_key"]);
    assert_eq!(new["consumer_key"], key);
    assert_ne!(new["secret_key"], old["secret_key"]);
    let server = porteiro.serve().await;
    assert_eq!(server.integration_auth(&old).await.status(), 400);
    assert_eq!(server.integration_auth(&new).await.status(), 200);
}

#[tokio::test]
async fn integration_revoke_makes_post_auth_refuse_the_integration() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let created = porteiro.create_integration(org, "Billing", &[]);
    let key = created["consumer_key"].as_str().unwrap();

    let revoked = porteiro.json(&format!("integration revoke {key} --json"));

    assert_eq!(revoked, json!({"consumer_key": key, "revoked": true}));
    let server = porteiro.serve().await;
    assert_eq!(server.integration_auth(&created).await.status(), 400);
}

#[test]
fn integration_commands_with_an_unknown_org_or_key_or_bad_input_exit_2_and_write_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let unknown = "00000000-0000-4000-8000-000000000000";
    let name = "--name Billing";

    for line in [
        format!("integration create --org 999 {name}"),
        format!("integration create --org {org} {name} --scope bad\\scope"),
        format!("integration revoke {unknown}"),
        format!("integration rotate-secret {unknown}"),
        "integration revoke not-a-uuid".to_owned(),
        "integration rotate-secret not-a-uuid".to_owned(),
        "integration list --org 999".to_owned(),
    ] {
        porteiro.run(&line).assert_refused();
    }
    let blank_name = ["integration", "create", "--org", "1", "--name", " "];
    porteiro.run_args(&blank_name, "").assert_refused();
    assert_eq!(
        porteiro.json(&format!("integration list --org {org} --json")),
        json!([])
    );
}

#[test]
fn integration_revoke_of_a_revoked_integration_exits_2() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let key = porteiro.create_integration(org, "Billing", &[])["consumer_key"].clone();
    let revoke = format!("integration revoke {}", key.as_str().unwrap());
    assert!(porteiro.run(&revoke).status.success());

    porteiro.run(&revoke).assert_refused();
}
