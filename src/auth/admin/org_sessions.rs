//! An organization's sessions and activity as its owners and admins see them: the open sessions,
//! ending one or all of a member's, and the audit log.

use super::{AdminError, OrgAdmin, OwnerAction};
use crate::auth::audit::{Kind, event};
use crate::domain::{AuditEvent, AuditFilter, OpenSession, SessionCursor};
use crate::domain::{Role, UserId};
use crate::store::EndReason;

impl OrgAdmin {
    pub async fn sessions(&self) -> Result<Vec<OpenSession>, AdminError> {
        Ok(self.auth.store.open_sessions(self.org, self.now()).await?)
    }

    /// At most `limit` open sessions, newest first, started before `before`.
    pub async fn sessions_page(
        &self,
        before: Option<&SessionCursor>,
        limit: i64,
    ) -> Result<Vec<OpenSession>, AdminError> {
        let store = &self.auth.store;
        Ok(store
            .open_sessions_page(self.org, self.now(), before, limit)
            .await?)
    }

    pub async fn end_session(&self, sid: &str) -> Result<(), AdminError> {
        let now = self.now();
        let Some(session) = self.auth.store.open_session(self.org, sid, now).await? else {
            return Err(AdminError::UnknownSession);
        };
        if session.kind == "user" {
            self.may_end_sessions_of(&session.who).await?;
        }
        if self
            .auth
            .store
            .end_org_session(self.org, sid, now, EndReason::EndedByAdmin)
            .await?
        {
            self.auth.remember_ended(vec![sid.to_owned()]);
            self.record(Kind::SessionEnded, &session.who).await?;
        }
        Ok(())
    }

    /// An admin may end their own sessions and those of members and admins; an owner's only
    /// when they are an owner too.
    async fn may_end_sessions_of(&self, username: &str) -> Result<(), AdminError> {
        let owner = self
            .member_named(username)
            .await?
            .is_some_and(|m| m.role == Role::Owner.as_str());
        if owner && self.role != Role::Owner {
            return Err(AdminError::OwnersOnly(OwnerAction::EndOwnerSessions));
        }
        Ok(())
    }

    /// Ends every open session of one member in this organization.
    pub async fn end_user_sessions(&self, user_id: i64) -> Result<usize, AdminError> {
        let member = self
            .member(user_id)
            .await?
            .ok_or(AdminError::UnknownMember(user_id))?;
        self.may_end_sessions_of(&member.username).await?;
        let ended = self
            .auth
            .store
            .end_user_sessions(
                UserId::from_db(user_id),
                Some(self.org),
                self.now(),
                EndReason::EndedByAdmin,
            )
            .await?;
        let count = ended.len();
        self.auth.remember_ended(ended);
        if count > 0 {
            self.record(Kind::SessionEnded, &member.username).await?;
        }
        Ok(count)
    }

    pub async fn activity(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<(i64, AuditEvent)>, AdminError> {
        Ok(self.auth.store.audit_events(self.org, filter).await?)
    }

    async fn record(&self, kind: Kind, subject: &str) -> Result<(), AdminError> {
        let e = event(
            Some(self.org),
            self.now(),
            kind,
            Some(&self.actor.name),
            Some(subject),
            self.actor.client,
        );
        self.auth.store.insert_audit_events(&[e]).await?;
        Ok(())
    }
}
