//! The console's strings in each language Porteiro speaks ([`crate::i18n`]). Each language is one
//! [`Text`] value, so a string missing from one of them does not compile. The language comes from
//! the `porteiro_lang` cookie, else from `Accept-Language`, else the default (English).

mod en;
mod es;
mod pt_br;

use crate::i18n::Lang;

/// The console's strings in `lang`.
pub fn text(lang: Lang) -> &'static Text {
    match lang {
        Lang::PtBr => &pt_br::TEXT,
        Lang::En => &en::TEXT,
        Lang::Es => &es::TEXT,
    }
}

/// Every string the console shows, in one language.
pub struct Text {
    pub product: &'static str,
    pub skip_to_content: &'static str,
    pub sections: &'static str,
    pub language: &'static str,
    pub signed_in_as: &'static str,
    pub sign_out: &'static str,
    pub organization: &'static str,
    pub switch: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub cancel: &'static str,
    pub save: &'static str,
    pub actions: &'static str,
    pub never: &'static str,
    pub you: &'static str,
    pub status: &'static str,
    pub active: &'static str,
    pub revoked: &'static str,
    pub disabled: &'static str,
    pub name: &'static str,
    pub client_address: &'static str,
    pub started: &'static str,
    pub last_used: &'static str,
    pub created: &'static str,
    pub notice: &'static str,
    pub error: &'static str,

    // Signing in and out.
    pub sign_in_title: &'static str,
    pub sign_in_intro: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub wrong_credentials: &'static str,
    pub no_access: &'static str,
    /// `{minutes}` is replaced by the wait.
    pub locked_out: &'static str,
    pub session_expired: &'static str,
    pub signed_out: &'static str,
    pub lost_access: &'static str,
    pub form_expired: &'static str,
    pub unavailable: &'static str,
    pub internal_error: &'static str,
    pub not_found: &'static str,
    pub back_to_console: &'static str,

    // Navigation.
    pub nav_settings: &'static str,
    pub nav_integrations: &'static str,
    pub nav_users: &'static str,
    pub nav_sessions: &'static str,
    pub nav_activity: &'static str,

    // Settings.
    pub settings_title: &'static str,
    pub org_name: &'static str,
    pub org_id: &'static str,
    pub org_id_help: &'static str,
    pub your_role: &'static str,
    pub only_owners_rename: &'static str,
    pub renamed: &'static str,
    pub invalid_org_name: &'static str,
    pub org_name_taken: &'static str,

    // Integrations.
    pub integrations_title: &'static str,
    pub integrations_intro: &'static str,
    pub consumer_key: &'static str,
    pub scopes: &'static str,
    pub no_scopes: &'static str,
    pub no_integrations: &'static str,
    pub new_integration: &'static str,
    pub scopes_help: &'static str,
    pub create: &'static str,
    pub rotate_secret: &'static str,
    pub revoke: &'static str,
    pub secret_key: &'static str,
    pub integration_created: &'static str,
    pub secret_rotated: &'static str,
    pub secret_warning: &'static str,
    pub secret_copied_back: &'static str,
    pub confirm_revoke_title: &'static str,
    pub confirm_revoke_text: &'static str,
    pub confirm_rotate_title: &'static str,
    pub confirm_rotate_text: &'static str,
    pub integration_revoked: &'static str,
    pub integration_not_found: &'static str,
    pub integration_already_revoked: &'static str,
    pub invalid_integration: &'static str,

    // Users.
    pub users_title: &'static str,
    pub users_intro: &'static str,
    pub role: &'static str,
    pub role_owner: &'static str,
    pub role_admin: &'static str,
    pub role_member: &'static str,
    pub add_member: &'static str,
    pub add_member_help: &'static str,
    pub add: &'static str,
    pub change_role: &'static str,
    pub remove: &'static str,
    pub disable: &'static str,
    pub enable: &'static str,
    pub confirm_remove_title: &'static str,
    pub confirm_remove_text: &'static str,
    pub user_created: &'static str,
    pub password_warning: &'static str,
    pub password_copied_back: &'static str,
    pub member_added: &'static str,
    pub role_changed: &'static str,
    pub member_removed: &'static str,
    pub user_disabled: &'static str,
    pub user_enabled: &'static str,
    pub already_member: &'static str,
    pub not_addable: &'static str,
    pub invalid_username: &'static str,
    pub member_not_found: &'static str,
    pub cannot_change_member: &'static str,
    pub cannot_make_owner: &'static str,
    pub belongs_elsewhere: &'static str,

    // Sessions.
    pub sessions_title: &'static str,
    pub sessions_intro: &'static str,
    pub who: &'static str,
    pub kind: &'static str,
    pub kind_user: &'static str,
    pub kind_integration: &'static str,
    pub end_session: &'static str,
    pub end_all_of_user: &'static str,
    pub no_sessions: &'static str,
    pub session_ended: &'static str,
    pub user_sessions_ended: &'static str,
    pub session_not_found: &'static str,
    pub cannot_end_owner_sessions: &'static str,

    // Activity.
    pub activity_title: &'static str,
    pub activity_intro: &'static str,
    pub when: &'static str,
    pub event: &'static str,
    pub actor: &'static str,
    pub subject: &'static str,
    pub all_events: &'static str,
    pub user_or_integration: &'static str,
    pub filter: &'static str,
    pub clear_filter: &'static str,
    pub older: &'static str,
    pub newest: &'static str,
    /// The pager of the users and sessions lists: the next page, and back to the first.
    pub next_page: &'static str,
    pub first_page: &'static str,
    pub no_events: &'static str,
    pub events: [&'static str; 17],
}

impl Text {
    /// The name of an audit event kind; an unknown kind is shown as stored.
    pub fn event_name<'a>(&self, kind: &'a str) -> &'a str {
        crate::auth::audit::Kind::ALL
            .iter()
            .position(|k| k.as_str() == kind)
            .map_or(kind, |i| self.events[i])
    }

    pub fn role_name(&self, role: &str) -> &'static str {
        match role {
            "owner" => self.role_owner,
            "admin" => self.role_admin,
            "member" => self.role_member,
            _ => "?",
        }
    }

    pub fn locked_out_for(&self, retry_after_seconds: u64) -> String {
        let minutes = retry_after_seconds.div_ceil(60).max(1);
        self.locked_out.replace("{minutes}", &minutes.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_names_every_event_kind_and_keeps_the_placeholder() {
        for lang in Lang::ALL {
            let t = text(lang);
            assert!(t.events.iter().all(|e| !e.is_empty()));
            assert!(t.locked_out.contains("{minutes}"), "{}", lang.code());
            assert_eq!(t.event_name("login_failed"), t.events[1]);
        }
    }
}
