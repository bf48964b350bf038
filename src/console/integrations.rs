//! Integrations: the list, creating one and rotating its secret (each shows the secret once, in
//! the answer to the POST itself), and revoking one after a confirmation step.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::i18n::Text;
use super::view::{self, Chrome, ConfirmPage, Frame, Notice, Refusals, SecretPage};
use super::web::{Posted, Signed, see_other};
use crate::auth::Auth;
use crate::auth::admin::OrgAdmin;
use crate::domain::Integration as IntegrationRecord;

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

impl From<&IntegrationRecord> for IntegrationRow {
    fn from(i: &IntegrationRecord) -> Self {
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

async fn chrome(signed: &Signed, admin: &OrgAdmin) -> Result<Chrome, Response> {
    Chrome::new(signed, admin, "integrations")
        .await
        .map_err(|e| view::failed(&signed.visit, e))
}

async fn render(
    signed: &Signed,
    admin: &OrgAdmin,
    status: StatusCode,
    notice: Option<Notice>,
    typed: (String, String),
) -> Result<Response, Response> {
    let chrome = chrome(signed, admin).await?;
    let list = admin
        .integrations()
        .await
        .map_err(|e| view::failed(&signed.visit, e))?;
    let page = IntegrationsPage {
        t: signed.t(),
        frame: Frame::new(&signed.visit),
        chrome,
        notice,
        rows: list.iter().map(IntegrationRow::from).collect(),
        name: typed.0,
        scopes: typed.1,
    };
    Ok(view::render_with(status, &page))
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
    State(auth): State<Arc<Auth>>,
    signed: Signed,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Response> {
    let admin = signed.admin(&auth).await?;
    let notice = Notice::from_done(signed.t(), query.get("done").map(String::as_str));
    render(&signed, &admin, StatusCode::OK, notice, Default::default()).await
}

/// `POST /console/integrations`: create one and show its secret, once.
pub async fn create(State(auth): State<Arc<Auth>>, posted: Posted) -> Result<Response, Response> {
    let signed = &posted.signed;
    let admin = signed.admin(&auth).await?;
    let t = signed.t();
    let name = posted.field("name");
    let scopes = posted
        .field("scopes")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match admin
        .create_integration(&name, std::slice::from_ref(&scopes))
        .await
    {
        Ok((record, secret)) => {
            let page = SecretPage {
                t,
                frame: Frame::new(&signed.visit),
                chrome: chrome(signed, &admin).await?,
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
        Err(e) => {
            let (status, text) = view::refusal(&signed.visit, e, refusals(t))?;
            render(signed, &admin, status, Notice::error(text), (name, scopes)).await
        }
    }
}

/// The integration `key` of this organization, for a confirmation page.
async fn find(signed: &Signed, admin: &OrgAdmin, key: &str) -> Result<IntegrationRecord, Response> {
    let list = admin
        .integrations()
        .await
        .map_err(|e| view::failed(&signed.visit, e))?;
    match list.into_iter().find(|i| i.consumer_key == key) {
        Some(found) => Ok(found),
        None => {
            let t = signed.t();
            let notice = Notice::error(t.integration_not_found);
            Err(render(
                signed,
                admin,
                StatusCode::NOT_FOUND,
                notice,
                Default::default(),
            )
            .await?)
        }
    }
}

async fn confirm(
    auth: &Arc<Auth>,
    signed: Signed,
    key: &str,
    rotate: bool,
) -> Result<Response, Response> {
    let admin = signed.admin(auth).await?;
    let found = find(&signed, &admin, key).await?;
    let t = signed.t();
    let page = ConfirmPage {
        t,
        frame: Frame::new(&signed.visit),
        chrome: chrome(&signed, &admin).await?,
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
    State(auth): State<Arc<Auth>>,
    signed: Signed,
    Path(key): Path<String>,
) -> Result<Response, Response> {
    confirm(&auth, signed, &key, true).await
}

/// `GET /console/integrations/{key}/revoke`: the confirmation step.
pub async fn confirm_revoke(
    State(auth): State<Arc<Auth>>,
    signed: Signed,
    Path(key): Path<String>,
) -> Result<Response, Response> {
    confirm(&auth, signed, &key, false).await
}

/// `POST /console/integrations/{key}/rotate`: a new secret, shown once.
pub async fn rotate(
    State(auth): State<Arc<Auth>>,
    Path(key): Path<String>,
    posted: Posted,
) -> Result<Response, Response> {
    let signed = &posted.signed;
    let admin = signed.admin(&auth).await?;
    let t = signed.t();
    match admin.rotate_integration_secret(&key).await {
        Ok(secret) => {
            let name = admin
                .integrations()
                .await
                .ok()
                .and_then(|list| list.into_iter().find(|i| i.consumer_key == key))
                .map(|i| i.name)
                .unwrap_or_default();
            let page = SecretPage {
                t,
                frame: Frame::new(&signed.visit),
                chrome: chrome(signed, &admin).await?,
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
        Err(e) => {
            let words = Refusals {
                invalid: t.integration_already_revoked,
                ..refusals(t)
            };
            let (status, text) = view::refusal(&signed.visit, e, words)?;
            render(
                signed,
                &admin,
                status,
                Notice::error(text),
                Default::default(),
            )
            .await
        }
    }
}

/// `POST /console/integrations/{key}/revoke`.
pub async fn revoke(
    State(auth): State<Arc<Auth>>,
    Path(key): Path<String>,
    posted: Posted,
) -> Result<Response, Response> {
    let signed = &posted.signed;
    let admin = signed.admin(&auth).await?;
    let t = signed.t();
    match admin.revoke_integration(&key).await {
        Ok(()) => Ok(see_other("/console/integrations?done=revoked")),
        Err(e) => {
            let words = Refusals {
                invalid: t.integration_already_revoked,
                ..refusals(t)
            };
            let (status, text) = view::refusal(&signed.visit, e, words)?;
            render(
                signed,
                &admin,
                status,
                Notice::error(text),
                Default::default(),
            )
            .await
        }
    }
}
