//! `Accept-Language` as both readers take it: the API's (which picks the language of error
//! bodies) and the console's (which also reads the language cookie's tag).
//!
//! Input: the header value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use porteiro::console::i18n::Lang as ConsoleLang;
use porteiro::http::i18n::Lang as ApiLang;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let api = ApiLang::negotiate(Some(&text));
    assert!(["en", "pt-BR", "es"].contains(&api.tag()));
    let console = ConsoleLang::negotiate(&text);
    assert!(ConsoleLang::ALL.contains(&console));
    if let Some(lang) = ConsoleLang::from_tag(&text) {
        assert_eq!(ConsoleLang::from_tag(lang.code()), Some(lang));
    }
});
