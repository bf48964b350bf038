//! Organization and user ids as paths carry them (`/api/v1/auth/token/{organization_id}`, the
//! admin API's and the console's `/users/{id}`): only a positive decimal that fits in 63 bits
//! is an id, and it reads back as itself.
//!
//! Input: the path segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use porteiro::domain::{OrgId, UserId};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(org) = text.parse::<OrgId>() {
        assert!(org.get() > 0);
        assert_eq!(org.to_string(), text.trim_start_matches('0'));
        assert_eq!(org.to_string().parse::<OrgId>(), Ok(org));
    }
    if let Ok(user) = text.parse::<UserId>() {
        assert!(user.get() > 0);
        assert_eq!(user.to_string().parse::<UserId>(), Ok(user));
    }
});
