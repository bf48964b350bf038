//! `user import --from-django` with hand-written dumpdata files: memberships, which field is the
//! username, duplicates, and `--update`. (Users made by Django itself: `django.rs`.)

use super::*;

/// Made by Django 5.2 (PBKDF2 at 1,000 iterations, to keep the tests quick) for [`DJANGO_PASSWORD`].
const DJANGO_HASH: &str =
    "pbkdf2_sha256$1000$GxiKXsTFCtnUMRzvwZnRpt$NliBepwHR4/LK1Cjy2XMvjpGn1KKzJ9waiu9CS9W2k0=";
const DJANGO_PASSWORD: &str = "correct horse battery staple ✓";
/// The same, for [`CHANGED_PASSWORD`].
const CHANGED_HASH: &str =
    "pbkdf2_sha256$1000$p7GzQe1nVwXbKc0rTyUi3o$Yt5ft100CJaSF8CRfuSzRSUVdECob7EqHukl99gV0sw=";
const CHANGED_PASSWORD: &str = "Changed-in-Django-2";

/// A dumpdata file in the workspace of `(username, email, password hash)` users.
fn dumpdata(porteiro: &Porteiro, name: &str, users: &[(&str, &str, &str)]) -> String {
    let records: Vec<Value> = users
        .iter()
        .enumerate()
        .map(|(i, (username, email, password))| {
            json!({"model": "auth.user", "pk": i + 1, "fields": {
                "password": password, "username": username, "email": email,
                "is_active": true, "is_staff": false, "is_superuser": false,
            }})
        })
        .collect();
    let path = porteiro.dir.path().join(name);
    std::fs::write(&path, Value::Array(records).to_string()).unwrap();
    path.display().to_string()
}

fn roles(porteiro: &Porteiro, org: i64) -> Vec<(String, String)> {
    let members = porteiro.members(org);
    let mut roles: Vec<(String, String)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let text = |key: &str| m[key].as_str().unwrap().to_owned();
            (text("username"), text("role"))
        })
        .collect();
    roles.sort();
    roles
}

#[tokio::test]
async fn a_memberships_file_puts_each_user_in_its_organizations_and_fails_those_it_omits() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    let file = dumpdata(
        &porteiro,
        "users.json",
        &[
            ("a@example.com", "", DJANGO_HASH),
            ("b@example.com", "", DJANGO_HASH),
            ("c@example.com", "", DJANGO_HASH),
        ],
    );
    let csv = porteiro.dir.path().join("memberships.csv");
    let lines = format!(
        "username,org_id,role\na@example.com,{acme},admin\nA@example.com,{globex},member\n\
         b@example.com,{globex},owner\n"
    );
    std::fs::write(&csv, lines).unwrap();

    let summary = porteiro.json(&format!(
        "user import --from-django {file} --memberships {} --json",
        csv.display()
    ));

    assert_eq!(
        (summary["imported"].clone(), summary["failed"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(summary["failures"][0]["username"], "c@example.com");
    assert_eq!(
        summary["failures"][0]["reason"],
        "no line in the memberships file"
    );
    let admin = ("a@example.com".to_owned(), "admin".to_owned());
    assert_eq!(roles(&porteiro, acme), [admin]);
    let member = ("a@example.com".to_owned(), "member".to_owned());
    let owner = ("b@example.com".to_owned(), "owner".to_owned());
    assert_eq!(roles(&porteiro, globex), [member, owner]);
}

#[tokio::test]
async fn a_memberships_file_naming_an_organization_that_does_not_exist_writes_nothing() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let file = dumpdata(
        &porteiro,
        "users.json",
        &[("a@example.com", "", DJANGO_HASH)],
    );
    let csv = porteiro.dir.path().join("memberships.csv");
    std::fs::write(
        &csv,
        format!("a@example.com,{acme},admin\na@example.com,99,member\n"),
    )
    .unwrap();

    let outcome = porteiro.run(&format!(
        "user import --from-django {file} --memberships {}",
        csv.display()
    ));

    outcome.assert_refused();
    assert_eq!(roles(&porteiro, acme), []);
}

#[tokio::test]
async fn usernames_that_are_not_addresses_fail_their_record_unless_the_email_field_is_taken() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let file = dumpdata(
        &porteiro,
        "users.json",
        &[("alice", "Alice@Example.com", DJANGO_HASH)],
    );

    let by_username = porteiro.json(&format!(
        "user import --from-django {file} --org {org} --json"
    ));
    let by_email = porteiro.json(&format!(
        "user import --from-django {file} --org {org} --username-field email --json"
    ));

    assert_eq!(by_username["failed"], 1);
    assert_eq!(by_username["failures"][0]["record"], "record 1 (pk 1)");
    assert_eq!(
        by_username["failures"][0]["reason"],
        r#""alice" is not an e-mail address"#
    );
    assert_eq!(by_email["imported"], 1);
    let server = porteiro.serve().await;
    let response = server
        .login(org, "alice@example.com", DJANGO_PASSWORD)
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn two_django_usernames_that_lower_case_alike_import_the_first_and_report_the_second() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let file = dumpdata(
        &porteiro,
        "users.json",
        &[
            ("bob@example.com", "", DJANGO_HASH),
            ("Bob@Example.com", "", CHANGED_HASH),
        ],
    );

    let summary = porteiro.json(&format!(
        "user import --from-django {file} --org {org} --json"
    ));

    assert_eq!(
        (summary["imported"].clone(), summary["failed"].clone()),
        (json!(1), json!(1))
    );
    let failure = &summary["failures"][0];
    assert_eq!(failure["record"], "record 2 (pk 2)");
    assert_eq!(failure["reason"], "the same username as record 1 (pk 1)");
    let server = porteiro.serve().await;
    let response = server.login(org, "bob@example.com", DJANGO_PASSWORD).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn update_brings_a_password_changed_in_django_over_until_the_user_logs_in_to_porteiro() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let before = dumpdata(
        &porteiro,
        "before.json",
        &[
            ("a@example.com", "", DJANGO_HASH),
            ("b@example.com", "", DJANGO_HASH),
        ],
    );
    let after = dumpdata(
        &porteiro,
        "after.json",
        &[
            ("a@example.com", "", CHANGED_HASH),
            ("b@example.com", "", CHANGED_HASH),
        ],
    );
    porteiro.json(&format!(
        "user import --from-django {before} --org {org} --json"
    ));
    let server = porteiro.serve().await;
    // b logs in to Porteiro: from now on Porteiro holds b's password.
    assert_eq!(
        server
            .login(org, "b@example.com", DJANGO_PASSWORD)
            .await
            .status(),
        200
    );

    let without = porteiro.json(&format!(
        "user import --from-django {after} --org {org} --json"
    ));
    let with = porteiro.json(&format!(
        "user import --from-django {after} --org {org} --update --json"
    ));

    assert_eq!(
        (without["skipped"].clone(), without["updated"].clone()),
        (json!(2), json!(0))
    );
    assert_eq!(
        (with["skipped"].clone(), with["updated"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        server
            .login(org, "a@example.com", DJANGO_PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(
        server
            .login(org, "a@example.com", CHANGED_PASSWORD)
            .await
            .status(),
        200
    );
    assert_eq!(
        server
            .login(org, "b@example.com", DJANGO_PASSWORD)
            .await
            .status(),
        200
    );
    assert_eq!(
        server
            .login(org, "b@example.com", CHANGED_PASSWORD)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn an_existing_account_of_another_organization_is_skipped_not_added() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    porteiro.create_user(globex, "taken@example.com", PASSWORD);
    let file = dumpdata(
        &porteiro,
        "users.json",
        &[("taken@example.com", "", DJANGO_HASH)],
    );

    let summary = porteiro.json(&format!(
        "user import --from-django {file} --org {acme} --update --json"
    ));

    assert_eq!(
        (summary["skipped"].clone(), summary["updated"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(roles(&porteiro, acme), []);
    let server = porteiro.serve().await;
    assert_eq!(
        server
            .login(globex, "taken@example.com", PASSWORD)
            .await
            .status(),
        200
    );
    assert_eq!(
        server
            .login(globex, "taken@example.com", DJANGO_PASSWORD)
            .await
            .status(),
        401
    );
}
