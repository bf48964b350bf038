//! The languages Porteiro speaks — Portuguese (Brazil), English and Spanish — and the one way a
//! request's language is chosen from `Accept-Language`. Both surfaces use it: the API to word its
//! error messages (`http::i18n`), the console to pick its strings (`console::i18n`); each keeps its
//! own texts.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;

/// A language Porteiro speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    PtBr,
    En,
    Es,
}

impl Lang {
    /// Every language, in the order the console's switcher shows them.
    pub const ALL: [Lang; 3] = [Lang::PtBr, Lang::En, Lang::Es];

    /// The language of a client that names none Porteiro speaks: the API's messages are English
    /// byte for byte unless a client asks otherwise.
    pub const DEFAULT: Lang = Lang::En;

    /// The BCP 47 tag: `Content-Language`, the console's `<html lang>` and its cookie's value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::PtBr => "pt-BR",
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The language's name in itself, as a language switcher shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::PtBr => "Português (Brasil)",
            Lang::En => "English",
            Lang::Es => "Español",
        }
    }

    /// The language of a tag as the console's cookie or switcher link holds it, by its primary
    /// subtag: any Portuguese is Brazilian, any Spanish is `es`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("pt") {
            Some(Lang::PtBr)
        } else if primary.eq_ignore_ascii_case("es") {
            Some(Lang::Es)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language a request's `Accept-Language` prefers (see [`Lang::negotiate`]); the
    /// default when it has none.
    pub fn preferred(headers: &HeaderMap) -> Lang {
        headers
            .get(ACCEPT_LANGUAGE)
            .map_or(Lang::DEFAULT, |value| Lang::negotiate(value.as_bytes()))
    }

    /// The language an `Accept-Language` value prefers, after RFC 9110 §12.5.4: the highest
    /// weight wins, a tie goes to the entry written first, `q=0` means "not acceptable" and is
    /// never chosen, a range matches by its primary subtag (`pt-PT` → pt-BR, `es-AR` → es), `*`
    /// matches the default, and a malformed entry is skipped. With nothing acceptable, the
    /// default.
    ///
    /// One pass over the bytes, without allocating: a hostile header costs its length.
    pub fn negotiate(accept_language: &[u8]) -> Lang {
        let mut best: Option<(u16, Lang)> = None;
        for entry in accept_language.split(|&b| b == b',') {
            let Some((lang, weight)) = parse_entry(entry) else {
                continue;
            };
            // Strictly greater, so that of equal weights the earlier entry stays.
            if weight > 0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map_or(Lang::DEFAULT, |(_, lang)| lang)
    }
}

/// One list entry, `language-range [ OWS ";" OWS "q=" qvalue ]`: the language it names and its
/// weight in thousandths. `None` for an empty or malformed entry, or a language not spoken here.
fn parse_entry(entry: &[u8]) -> Option<(Lang, u16)> {
    let entry = entry.trim_ascii();
    let (range, weight) = match entry.iter().position(|&b| b == b';') {
        Some(at) => (entry[..at].trim_ascii(), weight(&entry[at + 1..])?),
        None => (entry, 1000),
    };
    if range == b"*" {
        return Some((Lang::DEFAULT, weight));
    }
    if !is_language_range(range) {
        return None;
    }
    // A well-formed range is ASCII, hence UTF-8.
    let lang = Lang::from_tag(std::str::from_utf8(range).ok()?)?;
    Some((lang, weight))
}

/// RFC 4647's basic language range other than `*`: `1*8ALPHA *("-" 1*8alphanum)`.
fn is_language_range(range: &[u8]) -> bool {
    let mut subtags = range.split(|&b| b == b'-');
    let primary_ok = subtags
        .next()
        .is_some_and(|s| (1..=8).contains(&s.len()) && s.iter().all(u8::is_ascii_alphabetic));
    primary_ok
        && subtags.all(|s| (1..=8).contains(&s.len()) && s.iter().all(u8::is_ascii_alphanumeric))
}

/// The weight after an entry's `;`: `OWS "q=" qvalue` (the `q` in either case), in thousandths.
/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`; anything else is malformed.
fn weight(param: &[u8]) -> Option<u16> {
    let value = param
        .trim_ascii()
        .strip_prefix(b"q=")
        .or_else(|| param.trim_ascii().strip_prefix(b"Q="))?;
    let (whole, fraction) = match value.iter().position(|&b| b == b'.') {
        Some(at) => (&value[..at], &value[at + 1..]),
        None => (value, &b""[..]),
    };
    if fraction.len() > 3 || !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let thousandths = fraction
        .iter()
        .chain(std::iter::repeat(&b'0'))
        .take(3)
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    match whole {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negotiate(header: &str) -> Lang {
        Lang::negotiate(header.as_bytes())
    }

    #[test]
    fn ranges_match_by_primary_subtag_and_the_rest_is_the_default() {
        assert_eq!(negotiate("pt-BR,pt;q=0.9,en;q=0.8"), Lang::PtBr);
        assert_eq!(negotiate("pt"), Lang::PtBr);
        assert_eq!(negotiate("pt-PT"), Lang::PtBr);
        assert_eq!(negotiate("PT-br"), Lang::PtBr);
        assert_eq!(negotiate("es-AR, en;q=0.5"), Lang::Es);
        assert_eq!(negotiate("es-419"), Lang::Es);
        assert_eq!(negotiate("fr-FR, es;q=0.5"), Lang::Es);
        assert_eq!(negotiate("de-DE, fr;q=0.9"), Lang::En);
        assert_eq!(negotiate(""), Lang::En);
        assert_eq!(Lang::preferred(&HeaderMap::new()), Lang::En);
    }

    #[test]
    fn the_highest_weight_wins_and_ties_go_to_the_earlier_entry() {
        assert_eq!(negotiate("en;q=0.4, es;q=0.8"), Lang::Es);
        assert_eq!(negotiate("en;q=0.9, es;q=0.4"), Lang::En);
        assert_eq!(negotiate("fr, en;q=0.9, es;q=0.9"), Lang::En);
        assert_eq!(negotiate("es;q=0.5, pt;q=0.500"), Lang::Es);
        assert_eq!(negotiate("pt;q=0.5,es;q=0.5"), Lang::PtBr);
        assert_eq!(negotiate("es;q=0.001, pt;q=0.002"), Lang::PtBr);
        assert_eq!(negotiate("es;q=1.000, pt"), Lang::Es);
    }

    #[test]
    fn a_zero_weight_is_never_chosen() {
        assert_eq!(negotiate("es;q=0, pt;q=0.1"), Lang::PtBr);
        assert_eq!(negotiate("pt;q=0"), Lang::En);
        assert_eq!(negotiate("es;q=0.000"), Lang::En);
        assert_eq!(negotiate("*;q=0, es;q=0"), Lang::En);
    }

    #[test]
    fn a_star_matches_the_default() {
        assert_eq!(negotiate("*, pt;q=0.5"), Lang::En);
        assert_eq!(negotiate("*;q=0.1, pt;q=0.5"), Lang::PtBr);
    }

    #[test]
    fn malformed_entries_are_skipped() {
        // Weights outside the grammar: not a number, above 1, more than three decimals, signs,
        // exponents, spaces after `q=`, a second parameter.
        for bad in [
            "pt;q=abc",
            "pt;q=2",
            "pt;q=1.5",
            "pt;q=0.0001",
            "pt;q=-1",
            "pt;q=+0.5",
            "pt;q=1e-3",
            "pt;q=inf",
            "pt;q=NaN",
            "pt;q=",
            "pt;q= 0.9",
            "pt;q =0.9",
            "pt;x=1;q=0.9",
            "pt;q=0.9;q=0.9",
            "pt;",
            "pt_BR",
            "pt-",
            "pt--BR",
            "portugues",
            "p1",
            "pt-BRAZILIAN",
        ] {
            assert_eq!(negotiate(&format!("{bad}, es;q=0.1")), Lang::Es, "{bad}");
        }
        assert_eq!(negotiate("pt;Q=0, es;q=0.1"), Lang::Es);
        assert_eq!(negotiate(" pt ; q=0.2 ,\tes;q=0.1"), Lang::PtBr);
        assert_eq!(negotiate(",,pt,,"), Lang::PtBr);
        assert_eq!(Lang::negotiate(b"\xff\xfe, es"), Lang::Es);
    }

    #[test]
    fn a_hostile_header_is_read_in_one_pass() {
        let long = "x-y;q=0.5,".repeat(900) + "es";
        assert!(long.len() > 8 * 1024);
        assert_eq!(negotiate(&long), Lang::Es);
        assert_eq!(negotiate(&",".repeat(8 * 1024)), Lang::En);
        assert_eq!(negotiate(&"p".repeat(8 * 1024)), Lang::En);
    }

    #[test]
    fn tags_of_the_switcher_and_cookie_name_their_language() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.code()), Some(lang));
        }
        assert_eq!(Lang::from_tag("de"), None);
    }
}
