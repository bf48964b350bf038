//! `Accept-Language` as the API and the console both read it (one negotiation, RFC 9110), and the
//! console's language cookie's tag.
//!
//! Input: the header value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use porteiro::i18n::Lang;

fuzz_target!(|data: &[u8]| {
    let lang = Lang::negotiate(data);
    assert!(Lang::ALL.contains(&lang));
    let text = String::from_utf8_lossy(data);
    if let Some(lang) = Lang::from_tag(&text) {
        assert_eq!(Lang::from_tag(lang.code()), Some(lang));
    }
});
