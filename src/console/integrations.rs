//! Integrations: the list, creating one and rotating its secret (each shows the secret once, in
//! the answer to the POST itself), and revoking one after a confirmation step.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;

use super::error::{ConsoleError, Refusals, refusal};
use super::extract::{Admin, Form};
use super::i18n::Text;
use super::view::{self, Chrome, ConfirmPage, Frame, Notice, SecretPage};
use super::web::see_other;
use crate::auth::admin::AdminError;
use crate::domain::Integration;

pub struct IntegrationRow {
    pub consumer_key: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created: String,
    pub created_iso: String,
    /// Shown and machine-readable forms.
    pub last_used: Option<(String, String)>,
    pub revoked: bool,
}

impl From<&Integration> for IntegrationRow {
    fn from(i: &Integration) -> Self {
        IntegrationRow {
            consumer_key: i.consumer_key.clone(),
            name: i.name.clone(),
            scopes: i.scopes.items().to_vec(),
            created: view::utc(i.created_at),
            created_iso: view::iso(i.created_at),
            last_used: i.last_used_at.map(|at| (view::utc(at), view::iso(at))),
            revoked: i.revoked_at.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "integrations.html", config = "src/console/askama.toml")]
struct IntegrationsPage {
    t: &'static Text,
    frame: Frame,
    chrome: Chrome,
    notice: Option<Notice>,
    rows: Vec<IntegrationRow>,
    /// What was typed into the creation form, after a refusal.
    name: String,
    scopes: String,
}

async fn render(
    admin: &Admin,
    status: StatusCode,
    notice: Option<Notice>,
    typed: (String, String),
) -> Result<Response, ConsoleError> {
    let chrome = Chrome::new(admin, "integrations").await?;
    let list = admin.integrations().await?;
    let page = IntegrationsPage {
        t: admin.t(),
        frame: Frame::new(admin.visit()),
        chrome,
        notice,
        rows: list.iter().map(IntegrationRow::from).collect(),
        name: typed.0,
        scopes: typed.1,
    };
    Ok(view::render_with(status, &page))
}

/// The list again with the refusal of an action, keeping what was typed into the creation form.
async fn refused(
    admin: &Admin,
    e: AdminError,
    words: Refusals,
    typed: (String, String),
) -> ConsoleError {
    let (status, text) = match refusal(e, words) {
        Ok(refused) => refused,
        Err(failure) => return failure,
    };
    match render(admin, status, Notice::error(text), typed).await {
        Ok(page) => ConsoleError::refused(page),
        Err(failure) => failure,
    }
}

fn refusals(t: &'static Text) -> Refusals {
    Refusals {
        invalid: t.invalid_integration,
        not_found: t.integration_not_found,
        duplicate: t.internal_error,
        forbidden: t.lost_access,
    }
}

/// `GET /console/integrations`.
pub async fn page(
    admin: Admin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let notice = Notice::from_done(admin.t(), query.get("done").map(String::as_str));
    render(&admin, StatusCode::OK, notice, Default::default()).await
}

/// `POST /console/integrations`: create one and show its secret, once.
pub async fn create(Form(admin, fields): Form<Admin>) -> Result<Response, ConsoleError> {
    let t = admin.t();
    let name = fields.get("name");
    let scopes = fields
        .get("scopes")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let created = admin
        .create_integration(&name, std::slice::from_ref(&scopes))
        .await;
    let (record, secret) = match created {
        Ok(created) => created,
        Err(e) => return Err(refused(&admin, e, refusals(t), (name, scopes)).await),
    };
    let page = SecretPage {
        t,
        frame: Frame::new(admin.visit()),
        chrome: Chrome::new(&admin, "integrations").await?,
        notice: None,
        title: t.integration_created,
        facts: vec![
            (t.name, record.name.clone()),
            (t.consumer_key, record.consumer_key.clone()),
        ],
        secret_label: t.secret_key,
        secret: secret.expose().to_owned(),
        warning: t.secret_warning,
        back_href: "/console/integrations",
        back_label: t.secret_copied_back,
    };
    Ok(view::render_with(StatusCode::CREATED, &page))
}

/// The integration `key` of this organization, for a confirmation page.
async fn find(admin: &Admin, key: &str) -> Result<Integration, ConsoleError> {
    let list = admin.integrations().await?;
    match list.into_iter().find(|i| i.consumer_key == key) {
        Some(found) => Ok(found),
        None => {
            let notice = Notice::error(admin.t().integration_not_found);
            let page = render(admin, StatusCode::NOT_FOUND, notice, Default::default()).await?;
            Err(ConsoleError::refused(page))
        }
    }
}

async fn confirm(admin: Admin, key: &str, rotate: bool) -> Result<Response, ConsoleError> {
    let found = find(&admin, key).await?;
    let t = admin.t();
    let page = ConfirmPage {
        t,
        frame: Frame::new(admin.visit()),
        chrome: Chrome::new(&admin, "integrations").await?,
        notice: None,
        title: if rotate {
            t.confirm_rotate_title
        } else {
            t.confirm_revoke_title
        },
        text: if rotate {
            t.confirm_rotate_text
        } else {
            t.confirm_revoke_text
        },
        facts: vec![
            (t.name, found.name),
            (t.consumer_key, found.consumer_key.clone()),
        ],
        action: format!(
            "/console/integrations/{}/{}",
            found.consumer_key,
            if rotate { "rotate" } else { "revoke" }
        ),
        button: if rotate { t.rotate_secret } else { t.revoke },
        cancel_href: "/console/integrations",
    };
    Ok(view::render(&page))
}

/// `GET /console/integrations/{key}/rotate`: the confirmation step.
pub async fn confirm_rotate(
    admin: Admin,
    Path(key): Path<String>,
) -> Result<Response, ConsoleError> {
    confirm(admin, &key, true).await
}

/// `GET /console/integrations/{key}/revoke`: the confirmation step.
pub async fn confirm_revoke(
    admin: Admin,
    Path(key): Path<String>,
) -> Result<Response, ConsoleError> {
    confirm(admin, &key, false).await
}

/// What a rotation or revocation is told when refused.
fn revocation_refusals(t: &'static Text) -> Refusals {
    Refusals {
        invalid: t.integration_already_revoked,
        ..refusals(t)
    }
}

/// `POST /console/integrations/{key}/rotate`: a new secret, shown once.
pub async fn rotate(
    Path(key): Path<String>,
    Form(admin, _): Form<Admin>,
) -> Result<Response, ConsoleError> {
    let t = admin.t();
    let secret = match admin.rotate_integration_secret(&key).await {
        Ok(secret) => secret,
        Err(e) => {
            let words = revocation_refusals(t);
            return Err(refused(&admin, e, words, Default::default()).await);
        }
    };
    let name = admin
        .integrations()
        .await
        .ok()
        .and_then(|list| list.into_iter().find(|i| i.consumer_key == key))
        .map(|i| i.name)
        .unwrap_or_default();
    let page = SecretPage {
        t,
        frame: Frame::new(admin.visit()),
        chrome: Chrome::new(&admin, "integrations").await?,
        notice: None,
        title: t.secret_rotated,
        facts: vec![(t.name, name), (t.consumer_key, key)],
        secret_label: t.secret_key,
        secret: secret.expose().to_owned(),
        warning: t.secret_warning,
        back_href: "/console/integrations",
        back_label: t.secret_copied_back,
    };
    Ok(view::render(&page))
}

/// `POST /console/integrations/{key}/revoke`.
pub async fn revoke(
    Path(key): Path<String>,
    Form(admin, _): Form<Admin>,
) -> Result<Response, ConsoleError> {
    match admin.revoke_integration(&key).await {
        Ok(()) => Ok(see_other("/console/integrations?done=revoked")),
        Err(e) => {
            let words = revocation_refusals(admin.t());
            Err(refused(&admin, e, words, Default::default()).await)
        }
    }
}
