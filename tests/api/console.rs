//! The admin console over HTTP, through a small cookie jar: signing in and out, every page and
//! action, CSRF, roles and organizations, the idle timeout, languages and cookie attributes.

use porteiro::domain::Role;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp};

const OWNER: &str = "owner@example.com.br";
const ADMIN: &str = "admin@example.com.br";

/// What a browser would keep of one response.
struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }

    /// The value of the input with this id, unescaped.
    fn input(&self, id: &str) -> String {
        let start = self
            .body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no input {id} in {}", self.body));
        attribute(&self.body[start..], "value")
    }

    /// Every `<code>` text of the page, unescaped.
    fn codes(&self) -> Vec<String> {
        self.body
            .split("<code")
            .skip(1)
            .filter_map(|s| {
                let s = &s[s.find('>')? + 1..];
                Some(unescape(&s[..s.find("</code>")?]))
            })
            .collect()
    }

    /// The event kinds listed on an activity page.
    fn event_kinds(&self) -> Vec<String> {
        self.body
            .split("class=\"event event-")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].to_owned())
            .collect()
    }
}

fn attribute(html: &str, name: &str) -> String {
    let marker = format!("{name}=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    let end = start + html[start..].find('"').unwrap();
    unescape(&html[start..end])
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A browser with a cookie jar and the last CSRF token it saw in a form.
struct Browser<'a> {
    app: &'a TestApp,
    cookies: Vec<(String, String)>,
    csrf: Option<String>,
    headers: Vec<(&'static str, String)>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            cookies: Vec::new(),
            csrf: None,
            headers: Vec::new(),
        }
    }

    fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let mut request = request;
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            request = request.header("Cookie", jar.join("; "));
        }
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for cookie in headers.get_all("set-cookie").iter() {
            let cookie = cookie.to_str().unwrap();
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !attributes.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        let body = response.text().await.unwrap();
        if body.contains("name=\"csrf\"") {
            let at = body.find("name=\"csrf\"").unwrap();
            self.csrf = Some(attribute(&body[at..], "value"));
        }
        Page {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self.app.client.get(self.app.url(path));
        self.send(request).await
    }

    /// Posts a form exactly as given.
    async fn post_raw(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.app.client.post(self.app.url(path)).form(form);
        self.send(request).await
    }

    /// Posts a form with the CSRF token of the last page.
    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone().expect("a page with a form came first");
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post_raw(path, &fields).await
    }

    /// Follows a redirect.
    async fn follow(&mut self, page: &Page) -> Page {
        assert_eq!(page.status, 303, "not a redirect: {}", page.body);
        let location = page.location().to_owned();
        self.get(&location).await
    }

    async fn try_sign_in(&mut self, username: &str, password: &str) -> Page {
        let form = self.get("/console/").await;
        assert_eq!(form.status, 200);
        self.post(
            "/console/sign-in",
            &[("username", username), ("password", password)],
        )
        .await
    }

    async fn sign_in(&mut self, username: &str) -> Page {
        let page = self.try_sign_in(username, PASSWORD).await;
        assert_eq!(page.status, 303, "sign-in failed: {}", page.body);
        assert_eq!(page.location(), "/console/settings");
        self.follow(&page).await
    }
}

/// The test app with an owner and an admin in its organization, besides its member.
async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    app.create_user(app.org, OWNER, PASSWORD, Role::Owner).await;
    app.create_user(app.org, ADMIN, PASSWORD, Role::Admin).await;
    app
}

/// Gives `username` a role in `org`, as the operator would.
async fn grant(app: &TestApp, username: &str, org: porteiro::domain::OrgId, role: Role) {
    let username = porteiro::domain::Username::parse(username).unwrap();
    porteiro::auth::admin::grant(
        &app.auth.store,
        &porteiro::auth::admin::Actor::cli(),
        &username,
        org,
        role,
        app.now(),
    )
    .await
    .unwrap();
}

async fn org_name(app: &TestApp) -> String {
    app.auth
        .store
        .find_org(app.org)
        .await
        .unwrap()
        .unwrap()
        .name
}

/// The consumer key on a page that shows a new secret.
fn consumer_key(page: &Page) -> String {
    page.codes()
        .into_iter()
        .find(|c| c.len() == 36 && c.matches('-').count() == 4)
        .expect("a consumer key on the page")
}

// Signing in.

#[tokio::test]
async fn an_owner_signs_in_with_a_strict_http_only_session_cookie() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let page = browser.try_sign_in(OWNER, PASSWORD).await;

    assert_eq!(page.status, 303);
    let cookie = page.set_cookie("porteiro_console").unwrap();
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("; Path=/console"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let settings = browser.follow(&page).await;
    assert_eq!(settings.status, 200);
    assert!(settings.has("Acme") && settings.has(OWNER));
}

#[tokio::test]
async fn an_admin_signs_in() {
    let app = app().await;
    let page = Browser::new(&app).sign_in(ADMIN).await;
    assert_eq!(page.status, 200);
    assert!(page.has("<h1>Settings</h1>"));
}

#[tokio::test]
async fn a_member_is_told_plainly_that_they_have_no_access() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let page = browser.try_sign_in(&app.username, PASSWORD).await;

    assert_eq!(page.status, 403);
    assert!(page.has("no access to the console"));
    assert!(page.set_cookie("porteiro_console").is_none());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_message() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let wrong = browser.try_sign_in(OWNER, "not-the-password").await;
    let unknown = browser.try_sign_in("nobody@example.com.br", PASSWORD).await;

    for page in [&wrong, &unknown] {
        assert_eq!(page.status, 401);
        assert!(page.has("The username or password is incorrect."));
    }
    assert!(browser.cookie("porteiro_console").is_none());
}

#[tokio::test]
async fn five_failed_console_sign_ins_lock_the_account_for_the_api_too() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    for _ in 0..5 {
        assert_eq!(
            browser.try_sign_in(OWNER, "wrong-password").await.status,
            401
        );
    }

    let locked = browser.try_sign_in(OWNER, PASSWORD).await;
    assert_eq!(locked.status, 429);
    assert!(locked.has("Sign-in is locked"));
    assert!(locked.headers.contains_key("retry-after"));
    let api = app.login_as(app.org, OWNER, PASSWORD).await;
    assert_eq!(api.status(), 400, "the API shares the counter");
}

#[tokio::test]
async fn failed_api_logins_lock_the_console_too() {
    let app = app().await;
    for _ in 0..5 {
        assert_eq!(
            app.login_as(app.org, ADMIN, "wrong-password")
                .await
                .status(),
            401
        );
    }
    let page = Browser::new(&app).try_sign_in(ADMIN, PASSWORD).await;
    assert_eq!(page.status, 429);
}

#[tokio::test]
async fn the_sign_in_form_needs_its_double_submit_token() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.get("/console/").await;
    let csrf = browser.csrf.clone().unwrap();
    assert_eq!(browser.cookie("porteiro_csrf"), Some(csrf.as_str()));

    let form = [("username", OWNER), ("password", PASSWORD)];
    let without_field = browser.post_raw("/console/sign-in", &form).await;
    let wrong = [
        ("csrf", "0123456789abcdef0123456789abcdef"),
        form[0],
        form[1],
    ];
    let wrong_field = browser.post_raw("/console/sign-in", &wrong).await;
    browser.cookies.clear();
    let right = [("csrf", csrf.as_str()), form[0], form[1]];
    let without_cookie = browser.post_raw("/console/sign-in", &right).await;

    for page in [without_field, wrong_field, without_cookie] {
        assert_eq!(page.status, 403);
        assert!(page.set_cookie("porteiro_console").is_none());
    }
}

// Pages.

#[tokio::test]
async fn every_page_renders_for_an_admin() {
    let app = app().await;
    let (key, _) = app.create_integration(&["documents:read"]).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    let member = app.auth.store.list_members(app.org).await.unwrap();
    let member = member.iter().find(|m| m.username == app.username).unwrap();

    for path in [
        "/console/settings".to_owned(),
        "/console/integrations".to_owned(),
        "/console/users".to_owned(),
        "/console/sessions".to_owned(),
        "/console/activity".to_owned(),
        "/console/activity?kind=integration_created&who=cli".to_owned(),
        format!("/console/integrations/{key}/rotate"),
        format!("/console/integrations/{key}/revoke"),
        format!("/console/users/{}/remove", member.id),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.headers["cache-control"], "no-store", "{path}");
        assert!(page.has("<main"), "{path}");
        assert!(page.has("<nav class=\"tabs\""), "{path}");
    }
}

#[tokio::test]
async fn static_assets_are_served_by_the_binary() {
    let app = app().await;
    for (file, kind) in [
        ("console.css", "text/css"),
        ("console.js", "text/javascript"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let response = app.get(&format!("/console/static/{file}")).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
    }
    assert_eq!(app.get("/console/static/nope.css").await.status(), 404);
}

#[tokio::test]
async fn pages_forbid_framing_and_outside_resources() {
    let app = app().await;
    let page = Browser::new(&app).get("/console/").await;
    assert_eq!(page.headers["x-frame-options"], "DENY");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert!(
        !page.has("http://") && !page.has("https://"),
        "no external resource"
    );
}

// Settings.

#[tokio::test]
async fn an_owner_renames_the_organization() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;

    let page = browser
        .post("/console/settings", &[("name", "Acme Ltda")])
        .await;
    assert_eq!(page.location(), "/console/settings?done=renamed");
    let settings = browser.follow(&page).await;
    assert!(settings.has("The organization was renamed."));
    assert!(settings.has("value=\"Acme Ltda\""));
    assert_eq!(org_name(&app).await, "Acme Ltda");
}

#[tokio::test]
async fn an_admin_sees_the_name_read_only_and_cannot_rename() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let settings = browser.sign_in(ADMIN).await;
    assert!(!settings.has("name=\"name\""), "no name field for an admin");
    assert!(settings.has("Only owners can change"));
    assert!(
        settings.has(&format!("value=\"{}\"", app.org)),
        "the organization id"
    );

    let page = browser
        .post("/console/settings", &[("name", "Hijacked")])
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(org_name(&app).await, "Acme");
}

#[tokio::test]
async fn a_blank_name_is_refused_with_a_message() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;
    let page = browser.post("/console/settings", &[("name", "  ")]).await;
    assert_eq!(page.status, 400);
    assert!(page.has("1 to 200 printable characters"));
    assert_eq!(org_name(&app).await, "Acme");
}

// Integrations.

#[tokio::test]
async fn a_new_integration_shows_its_secret_once_and_the_secret_works() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let created = browser
        .post(
            "/console/integrations",
            &[
                ("name", "ERP sync"),
                ("scopes", "documents:read  documents:sign"),
            ],
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.headers["cache-control"], "no-store");
    assert!(created.has("will not be shown again"));
    let secret = created.input("secret-value");
    let key = consumer_key(&created);

    let list = browser.get("/console/integrations").await;
    assert!(list.has(&key) && list.has("ERP sync") && list.has("documents:sign"));
    assert!(!list.has(&secret), "the list never shows the secret");
    for path in [
        format!("/console/integrations/{key}/rotate"),
        "/console/activity".to_owned(),
    ] {
        assert!(!browser.get(&path).await.has(&secret));
    }
    let tokens = app.integration_tokens(&key, &secret).await;
    assert!(tokens["access_token"].is_string());
}

#[tokio::test]
async fn rotating_a_secret_shows_the_new_one_once_and_the_old_one_stops_working() {
    let app = app().await;
    let (key, old) = app.create_integration(&["documents:read"]).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let confirm = browser
        .get(&format!("/console/integrations/{key}/rotate"))
        .await;
    assert!(confirm.has("Rotate this integration"));
    let rotated = browser
        .post(&format!("/console/integrations/{key}/rotate"), &[])
        .await;
    assert_eq!(rotated.status, 200);
    assert_eq!(rotated.headers["cache-control"], "no-store");
    let new = rotated.input("secret-value");

    assert_ne!(new, old);
    assert_eq!(app.integration_login(&key, &old).await.status(), 400);
    app.integration_tokens(&key, &new).await;
    assert!(!browser.get("/console/integrations").await.has(&new));
}

#[tokio::test]
async fn revoking_after_the_confirmation_step_stops_the_integration() {
    let app = app().await;
    let (key, secret) = app.create_integration(&[]).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let confirm = browser
        .get(&format!("/console/integrations/{key}/revoke"))
        .await;
    assert!(confirm.has("Revoke this integration?"));
    assert_eq!(
        app.integration_login(&key, &secret).await.status(),
        200,
        "not yet"
    );
    let page = browser
        .post(&format!("/console/integrations/{key}/revoke"), &[])
        .await;
    assert_eq!(page.location(), "/console/integrations?done=revoked");
    let list = browser.follow(&page).await;
    assert!(list.has("The integration was revoked.") && list.has("badge-off"));
    assert_eq!(app.integration_login(&key, &secret).await.status(), 400);
}

#[tokio::test]
async fn another_organizations_admin_can_neither_see_nor_touch_this_organizations_integrations() {
    let app = app().await;
    let (key, secret) = app.create_integration(&[]).await;
    let other = app.create_org("Globex").await;
    app.create_user(other, "intruder@globex.com", PASSWORD, Role::Admin)
        .await;
    let mut browser = Browser::new(&app);
    let settings = browser.sign_in("intruder@globex.com").await;
    assert!(settings.has("Globex"));

    assert!(!browser.get("/console/integrations").await.has(&key));
    for action in ["rotate", "revoke"] {
        let path = format!("/console/integrations/{key}/{action}");
        assert_eq!(browser.get(&path).await.status, 404, "{path}");
        let page = browser.post(&path, &[]).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(!page.has(&key) || page.has("no such integration"));
    }
    app.integration_tokens(&key, &secret).await;
}

// Users.

async fn member_id(app: &TestApp, username: &str) -> Option<i64> {
    let members = app.auth.store.list_members(app.org).await.unwrap();
    members
        .iter()
        .find(|m| m.username == username)
        .map(|m| m.id)
}

#[tokio::test]
async fn adding_an_existing_user_makes_them_a_member() {
    let app = app().await;
    let elsewhere = app.create_org("Globex").await;
    app.create_user(elsewhere, "ana@globex.com", PASSWORD, Role::Member)
        .await;
    grant(&app, ADMIN, elsewhere, Role::Admin).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let page = browser
        .post(
            "/console/users",
            &[("username", "ana@globex.com"), ("role", "member")],
        )
        .await;
    assert_eq!(page.location(), "/console/users?done=added");
    assert!(browser.follow(&page).await.has("ana@globex.com"));
    assert_eq!(
        app.login_as(app.org, "ana@globex.com", PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn adding_a_new_user_shows_a_generated_password_once_that_logs_in() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let page = browser
        .post(
            "/console/users",
            &[("username", "New@Example.com.br"), ("role", "admin")],
        )
        .await;
    assert_eq!(page.status, 201);
    assert_eq!(page.headers["cache-control"], "no-store");
    let password = page.input("secret-value");
    assert_eq!(password.len(), 20);
    assert!(!browser.get("/console/users").await.has(&password));
    let login = app.login_as(app.org, "new@example.com.br", &password).await;
    assert_eq!(login.status(), 200);
}

#[tokio::test]
async fn adding_a_member_twice_is_refused_plainly() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    let page = browser
        .post(
            "/console/users",
            &[("username", &app.username), ("role", "member")],
        )
        .await;
    assert_eq!(page.status, 409);
    assert!(page.has("already a member"));
}

#[tokio::test]
async fn an_admin_changes_a_members_role() {
    let app = app().await;
    let id = member_id(&app, &app.username).await.unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let page = browser
        .post(&format!("/console/users/{id}/role"), &[("role", "admin")])
        .await;
    assert_eq!(page.location(), "/console/users?done=role");
    let members = app.auth.store.list_members(app.org).await.unwrap();
    assert_eq!(members.iter().find(|m| m.id == id).unwrap().role, "admin");
}

#[tokio::test]
async fn an_admin_cannot_make_an_owner_nor_change_one() {
    let app = app().await;
    let member = member_id(&app, &app.username).await.unwrap();
    let owner = member_id(&app, OWNER).await.unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let promote = browser
        .post(
            &format!("/console/users/{member}/role"),
            &[("role", "owner")],
        )
        .await;
    assert_eq!(promote.status, 403);
    let demote = browser
        .post(
            &format!("/console/users/{owner}/role"),
            &[("role", "member")],
        )
        .await;
    assert_eq!(demote.status, 403);
    let members = app.auth.store.list_members(app.org).await.unwrap();
    assert_eq!(
        members.iter().find(|m| m.id == owner).unwrap().role,
        "owner"
    );
}

#[tokio::test]
async fn removing_a_member_ends_their_access_to_the_organization() {
    let app = app().await;
    let id = member_id(&app, &app.username).await.unwrap();
    let (refresh, _) = app.login().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let confirm = browser.get(&format!("/console/users/{id}/remove")).await;
    assert!(confirm.has(&app.username));
    let page = browser
        .post(&format!("/console/users/{id}/remove"), &[])
        .await;
    assert_eq!(page.location(), "/console/users?done=removed");
    assert_eq!(member_id(&app, &app.username).await, None);
    assert_eq!(app.refresh(&refresh).await.status(), 401);
}

#[tokio::test]
async fn disabling_a_user_refuses_their_logins_and_enabling_restores_them() {
    let app = app().await;
    let id = member_id(&app, &app.username).await.unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let page = browser
        .post(
            &format!("/console/users/{id}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(page.location(), "/console/users?done=disabled");
    assert!(browser.follow(&page).await.has("badge-off"));
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        401
    );

    browser
        .post(
            &format!("/console/users/{id}/active"),
            &[("active", "true")],
        )
        .await;
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn nobody_changes_their_own_membership() {
    let app = app().await;
    let me = member_id(&app, ADMIN).await.unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    let page = browser
        .post(
            &format!("/console/users/{me}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(page.has("You cannot change your own membership"));
}

// Sessions.

#[tokio::test]
async fn ending_one_session_stops_its_refresh_token() {
    let app = app().await;
    let (refresh, _) = app.login().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let sessions = browser.get("/console/sessions").await;
    assert!(sessions.has(&app.username) && sessions.has("127.0.0.1"));
    let action = sessions
        .body
        .split("action=\"/console/sessions/")
        .nth(1)
        .map(|s| format!("/console/sessions/{}", &s[..s.find('"').unwrap()]))
        .unwrap();
    let page = browser.post(&action, &[]).await;
    assert_eq!(page.location(), "/console/sessions?done=ended");
    assert_eq!(app.refresh(&refresh).await.status(), 401);
    assert!(!browser.get("/console/sessions").await.has(&app.username));
}

#[tokio::test]
async fn ending_all_of_a_users_sessions() {
    let app = app().await;
    let (first, _) = app.login().await;
    let (second, _) = app.login().await;
    let id = member_id(&app, &app.username).await.unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    let sessions = browser.get("/console/sessions").await;
    assert!(sessions.has(&format!("/console/users/{id}/sessions/end")));

    let page = browser
        .post(&format!("/console/users/{id}/sessions/end"), &[])
        .await;
    assert_eq!(page.location(), "/console/sessions?done=ended_all");
    assert_eq!(app.refresh(&first).await.status(), 401);
    assert_eq!(app.refresh(&second).await.status(), 401);
}

// Activity.

#[tokio::test]
async fn activity_is_newest_first_and_filters_by_kind_and_by_who() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;
    browser
        .post(
            "/console/integrations",
            &[("name", "First"), ("scopes", "")],
        )
        .await;
    browser
        .post("/console/settings", &[("name", "Acme Ltda")])
        .await;

    let all = browser.get("/console/activity").await;
    let kinds = all.event_kinds();
    let renamed = kinds
        .iter()
        .position(|k| k == "organization_renamed")
        .unwrap();
    let created = kinds
        .iter()
        .position(|k| k == "integration_created")
        .unwrap();
    assert!(renamed < created, "newest first: {kinds:?}");

    let filtered = browser
        .get("/console/activity?kind=integration_created")
        .await;
    assert_eq!(filtered.event_kinds(), ["integration_created"]);
    let by_cli = browser.get("/console/activity?who=cli").await;
    assert!(by_cli.event_kinds().iter().all(|k| k == "user_created"));
    assert!(!by_cli.event_kinds().is_empty());
}

#[tokio::test]
async fn activity_pages_with_before() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;
    for n in 0..52 {
        browser
            .post("/console/settings", &[("name", &format!("Acme {n}"))])
            .await;
    }
    let first = browser
        .get("/console/activity?kind=organization_renamed")
        .await;
    assert_eq!(first.event_kinds().len(), 50);
    assert!(first.has("Acme 51") && !first.has(">Acme 1<"));
    let older = first
        .body
        .split("rel=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .map(|s| unescape(&s[..s.find('"').unwrap()]))
        .unwrap();
    assert!(older.contains("before="), "{older}");
    let second = browser.get(&older).await;
    assert_eq!(second.event_kinds().len(), 2);
    assert!(second.has(">Acme 1<") && second.has(">Acme 0<"));
}

// CSRF and sessions.

#[tokio::test]
async fn a_form_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing() {
    let app = app().await;
    let (key, secret) = app.create_integration(&[]).await;
    let id = member_id(&app, &app.username).await.unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;

    let wrong = "0".repeat(32);
    let actions: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/console/settings".into(), vec![("name", "Changed")]),
        ("/console/integrations".into(), vec![("name", "Sneaky")]),
        (format!("/console/integrations/{key}/revoke"), vec![]),
        (format!("/console/integrations/{key}/rotate"), vec![]),
        ("/console/users".into(), vec![("username", "x@example.com")]),
        (
            format!("/console/users/{id}/active"),
            vec![("active", "false")],
        ),
        (format!("/console/users/{id}/remove"), vec![]),
        ("/console/sign-out".into(), vec![]),
    ];
    for (path, form) in &actions {
        let missing = browser.post_raw(path, form).await;
        let mut with_wrong = vec![("csrf", wrong.as_str())];
        with_wrong.extend_from_slice(form);
        let wrong = browser.post_raw(path, &with_wrong).await;
        assert_eq!(missing.status, 403, "{path}");
        assert_eq!(wrong.status, 403, "{path}");
    }

    assert_eq!(org_name(&app).await, "Acme");
    app.integration_tokens(&key, &secret).await;
    assert!(member_id(&app, &app.username).await.is_some());
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
    assert!(!browser.get("/console/integrations").await.has("Sneaky"));
    assert_eq!(
        browser.get("/console/settings").await.status,
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn without_a_session_every_page_and_form_leads_to_sign_in() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    for path in [
        "/console/settings",
        "/console/integrations",
        "/console/activity",
    ] {
        let page = browser.get(path).await;
        assert_eq!((page.status, page.location()), (303, "/console/"), "{path}");
    }
    let post = browser
        .post_raw("/console/settings", &[("csrf", "x"), ("name", "Nope")])
        .await;
    assert_eq!((post.status, post.location()), (303, "/console/"));
    assert_eq!(org_name(&app).await, "Acme");
}

#[tokio::test]
async fn after_thirty_idle_minutes_the_session_expires_with_a_note() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    app.clock.advance(29 * 60);
    assert_eq!(browser.get("/console/users").await.status, 200);
    app.clock.advance(29 * 60);
    assert_eq!(
        browser.get("/console/users").await.status,
        200,
        "kept alive"
    );

    app.clock.advance(31 * 60);
    let page = browser.get("/console/users").await;
    assert_eq!(page.location(), "/console/?note=expired");
    assert!(browser.cookie("porteiro_console").is_none());
    let sign_in = browser.follow(&page).await;
    assert!(sign_in.has("Your session expired"));
}

#[tokio::test]
async fn signing_out_ends_the_session_for_good() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    let token = browser.cookie("porteiro_console").unwrap().to_owned();

    let page = browser.post("/console/sign-out", &[]).await;
    assert_eq!(page.location(), "/console/?note=signed_out");
    assert!(
        page.set_cookie("porteiro_console")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(browser.follow(&page).await.has("You have signed out."));
    browser.set("porteiro_console", &token);
    assert_eq!(
        browser.get("/console/settings").await.location(),
        "/console/?note=expired"
    );
}

#[tokio::test]
async fn someone_who_administers_two_organizations_switches_between_them() {
    let app = app().await;
    let globex = app.create_org("Globex").await;
    grant(&app, ADMIN, globex, Role::Owner).await;
    let only_member = app.create_org("Initech").await;
    grant(&app, ADMIN, only_member, Role::Member).await;
    let mut browser = Browser::new(&app);
    let settings = browser.sign_in(ADMIN).await;
    assert!(settings.has("action=\"/console/switch\""));
    assert!(settings.has(">Globex<") && !settings.has(">Initech<"));

    let page = browser
        .post("/console/switch", &[("org", &globex.to_string())])
        .await;
    let settings = browser.follow(&page).await;
    assert!(settings.has(&format!("value=\"{globex}\"")), "Globex's id");
    assert!(settings.has("name=\"name\""), "an owner there");
    let refused = browser
        .post("/console/switch", &[("org", &only_member.to_string())])
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn an_administrator_demoted_meanwhile_is_signed_out() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    grant(&app, ADMIN, app.org, Role::Member).await;

    let page = browser.get("/console/integrations").await;
    assert_eq!(page.location(), "/console/?note=lost_access");
}

// Languages.

#[tokio::test]
async fn the_language_follows_accept_language() {
    let app = app().await;
    for (accept, lang, heading) in [
        ("pt-BR,pt;q=0.9", "pt-BR", "Entrar no console"),
        ("pt", "pt-BR", "Entrar no console"),
        ("es-MX,es;q=0.8", "es", "Iniciar sesión en la consola"),
        ("de-DE,fr;q=0.5", "en", "Sign in to the console"),
    ] {
        let page = Browser::new(&app)
            .with_header("Accept-Language", accept)
            .get("/console/")
            .await;
        assert!(page.has(&format!("<html lang=\"{lang}\">")), "{accept}");
        assert!(page.has(heading), "{accept}");
    }
}

#[tokio::test]
async fn the_switcher_sets_a_cookie_that_beats_accept_language() {
    let app = app().await;
    let mut browser = Browser::new(&app).with_header("Accept-Language", "pt-BR");
    let settings = browser.sign_in(ADMIN).await;
    assert!(settings.has("<h1>Configurações</h1>"));

    let page = browser
        .get("/console/lang?to=es&next=%2Fconsole%2Fsettings")
        .await;
    assert_eq!(page.location(), "/console/settings");
    let cookie = page.set_cookie("porteiro_lang").unwrap();
    assert!(cookie.starts_with("porteiro_lang=es;") && cookie.contains("Max-Age="));
    let settings = browser.follow(&page).await;
    assert!(settings.has("<html lang=\"es\">") && settings.has("<h1>Configuración</h1>"));
    let users = browser.get("/console/users").await;
    assert!(users.has("<h1>Usuarios</h1>"));
}

#[tokio::test]
async fn the_switcher_never_sends_anyone_to_another_site() {
    let app = app().await;
    let page = Browser::new(&app)
        .get("/console/lang?to=en&next=%2F%2Fevil.example%2F")
        .await;
    assert_eq!(page.location(), "/console/");
}

#[tokio::test]
async fn messages_of_actions_are_translated() {
    let app = app().await;
    let mut browser = Browser::new(&app).with_header("Accept-Language", "es");
    browser.sign_in(ADMIN).await;
    let page = browser.post("/console/settings", &[("name", "X")]).await;
    assert_eq!(page.status, 403);
    assert!(page.has("Solo los propietarios pueden cambiar"));
}

// Cookies behind a proxy.

#[tokio::test]
async fn behind_a_trusted_proxy_over_https_every_cookie_is_secure() {
    let app = TestApp::spawn_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    app.create_user(app.org, ADMIN, PASSWORD, Role::Admin).await;
    let mut browser = Browser::new(&app).with_header("X-Forwarded-Proto", "https");

    let form = browser.get("/console/").await;
    assert!(
        form.set_cookie("porteiro_csrf")
            .unwrap()
            .contains("; Secure")
    );
    let signed_in = browser.try_sign_in(ADMIN, PASSWORD).await;
    let cookie = signed_in.set_cookie("porteiro_console").unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    let mut plain = Browser::new(&app);
    let cookie = plain
        .try_sign_in(ADMIN, PASSWORD)
        .await
        .set_cookie("porteiro_console");
    assert!(
        !cookie.unwrap().contains("Secure"),
        "plain HTTP through the proxy"
    );
}

#[tokio::test]
async fn an_untrusted_peer_claiming_https_gets_no_secure_cookie() {
    let app = app().await;
    let mut browser = Browser::new(&app).with_header("X-Forwarded-Proto", "https");
    let page = browser.try_sign_in(ADMIN, PASSWORD).await;
    assert!(
        !page
            .set_cookie("porteiro_console")
            .unwrap()
            .contains("Secure")
    );
}

#[tokio::test]
async fn console_changes_show_in_the_admin_api_and_its_activity() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;
    browser
        .post("/console/settings", &[("name", "Acme Ltda")])
        .await;
    let login = app.login_as(app.org, OWNER, PASSWORD).await;
    let access = login.json::<Value>().await.unwrap()["access"]
        .as_str()
        .unwrap()
        .to_owned();
    let org: Value = app
        .client
        .get(app.url("/api/v1/admin/organization"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(org["name"], "Acme Ltda");
}

#[tokio::test]
async fn the_language_links_of_a_form_answer_lead_back_to_a_page() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let refused = browser.try_sign_in(ADMIN, "wrong-password").await;
    assert!(refused.has("/console/lang?to=es&#38;next=%2Fconsole%2F\""));
    browser.sign_in(ADMIN).await;
    let created = browser
        .post("/console/integrations", &[("name", "ERP"), ("scopes", "")])
        .await;
    assert!(created.has("next=%2Fconsole%2Fintegrations\""));
}

#[tokio::test]
async fn an_unknown_console_page_is_a_translated_404_page() {
    let app = app().await;
    let page = Browser::new(&app)
        .with_header("Accept-Language", "pt-BR")
        .get("/console/nowhere")
        .await;
    assert_eq!(page.status, 404);
    assert!(page.has("Esta página não existe."));
}

#[tokio::test]
async fn an_account_of_another_organization_is_not_added_without_the_operator() {
    let app = app().await;
    let elsewhere = app.create_org("Globex").await;
    app.create_user(elsewhere, "ana@globex.com", PASSWORD, Role::Member)
        .await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let page = browser
        .post(
            "/console/users",
            &[("username", "ana@globex.com"), ("role", "member")],
        )
        .await;
    assert_eq!(page.status, 409);
    assert!(page.has("Ask the operator"));
    assert_eq!(member_id(&app, "ana@globex.com").await, None);
}

#[tokio::test]
async fn an_admin_cannot_end_an_owners_sessions() {
    let app = app().await;
    let owner = member_id(&app, OWNER).await.unwrap();
    let login = app.login_as(app.org, OWNER, PASSWORD).await;
    let refresh = login.json::<Value>().await.unwrap()["refresh"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    browser.get("/console/sessions").await;

    let page = browser
        .post(&format!("/console/users/{owner}/sessions/end"), &[])
        .await;
    assert_eq!(page.status, 403);
    assert!(page.has("Only an owner can end"));
    assert_eq!(app.refresh(&refresh).await.status(), 200);
}
