//! The admin console over HTTP, through a small cookie jar (`Browser`): signing in and out, every
//! page and action, CSRF, roles and organizations, the idle timeout, languages and cookie
//! attributes. This file holds the jar; each area's tests are in `console/`.

mod activity;
mod https_issuer;
mod integrations;
mod language;
mod pages;
mod proxy;
mod session;
mod sessions;
mod settings;
mod sign_in;
mod users;

use porteiro::domain::Role;
use reqwest::header::HeaderMap;

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
    porteiro::auth::admin::Administration::operator(app.auth.store())
        .grant(&username, org, role, app.now())
        .await
        .unwrap();
}

async fn org_name(app: &TestApp) -> String {
    app.auth
        .store()
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

async fn member_id(app: &TestApp, username: &str) -> Option<i64> {
    let members = app.auth.store().list_members(app.org).await.unwrap();
    members
        .iter()
        .find(|m| m.username == username)
        .map(|m| m.id)
}
