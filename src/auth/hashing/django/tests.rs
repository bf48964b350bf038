//! Hashes made by Django 5.2 itself (argon2-cffi 25.1, bcrypt 5.0) at low cost, for the password
//! below; the SHA-1 ones, whose hashers Django 5.1 removed, as Django 5.0 made them.

use super::*;

const PASSWORD: &str = "correct horse battery staple ✓";

const VECTORS: &[(&str, &str)] = &[
    (
        "pbkdf2_sha256",
        "pbkdf2_sha256$1000$GxiKXsTFCtnUMRzvwZnRpt$NliBepwHR4/LK1Cjy2XMvjpGn1KKzJ9waiu9CS9W2k0=",
    ),
    (
        "pbkdf2_sha1",
        "pbkdf2_sha1$1000$aUkfHNAHcmTyGQsUZLaBhd$ELd46JvF7bvouKh75mSA0l2Zx5U=",
    ),
    (
        "argon2",
        "argon2$argon2id$v=19$m=256,t=1,p=2$c09Id0VNaDlYRTlLRHVSMA$cMACBAJTo0X1yRO7BVHWB7FREFUeszZTPgYtZg0wfcY",
    ),
    (
        "argon2",
        "argon2$argon2i$v=19$m=256,t=1,p=2$RXA3bGJlUDBoTTFnZ3dlMQ$+bRre4bor7UHgIpMemnmX5pKpHFV4u+SY1Z7dqv5YAo",
    ),
    (
        "bcrypt_sha256",
        "bcrypt_sha256$$2b$04$9mA0zU8lW7j.UoVsfVUzAugINhM7CiYvnrGUTqBiEGAZ3xCCt32GC",
    ),
    (
        "bcrypt",
        "bcrypt$$2b$04$Jwd2jUmKiroaO3hQhR3NKOqRr5.q3Ffb1hHl9K.7zVuG.bEzCO7gq",
    ),
    (
        "scrypt",
        "scrypt$1024$Pi8VFHY0Ak0nBq3XmYMHcn$8$2$quSi+BXA5ARIRxWBe/Vlxp6FuM4cUdvdO9UHJ6xoRxHoT1nBOxUaj90wy4Wb6vnIM+7HE1UY78lPaWewMuQWvQ==",
    ),
    (
        "md5",
        "md5$Q5CmbHRYbOu4cWa4JMQGxn$f8373e795fb166dd161ab886916d3c47",
    ),
    ("unsalted_md5", "md5$$3b1a5a8bde890fa3d1395107ec60b902"),
    (
        "sha1",
        "sha1$saltysalt$3af058c8eb572757959165547b4948e9e762ef6c",
    ),
    (
        "unsalted_sha1",
        "sha1$$54fe23c9d95d5c71fa37ce57392e3bb0080a068e",
    ),
];

fn check(password: &str, stored: &str) -> Option<bool> {
    verify(password.as_bytes(), stored, &mut Vec::new())
}

#[test]
fn every_format_verifies_djangos_own_hash_of_the_password_and_no_other() {
    for (algorithm, stored) in VECTORS {
        assert_eq!(check(PASSWORD, stored), Some(true), "{algorithm}");
        assert_eq!(
            check("correct horse battery staple", stored),
            Some(false),
            "{algorithm}"
        );
        assert_eq!(
            check(&format!("{PASSWORD} "), stored),
            Some(false),
            "{algorithm}"
        );
    }
}

#[test]
fn every_format_is_classified_with_its_djangos_algorithm_name_and_strength() {
    for (algorithm, stored) in VECTORS {
        let DjangoPassword::Hash {
            algorithm: found,
            weak,
            stored: kept,
        } = classify(stored).unwrap()
        else {
            panic!("{algorithm} classified as unusable");
        };
        assert_eq!(found, *algorithm);
        assert_eq!(kept, *stored);
        assert_eq!(
            weak,
            algorithm.contains("md5")
                || algorithm.contains("sha1") && !algorithm.starts_with("pbkdf2")
        );
    }
}

#[test]
fn a_bare_unsalted_md5_is_stored_with_djangos_prefix_and_still_verifies() {
    let classified = classify("3b1a5a8bde890fa3d1395107ec60b902").unwrap();
    let DjangoPassword::Hash {
        stored,
        algorithm,
        weak,
    } = classified
    else {
        panic!("unusable");
    };
    assert_eq!(stored, "md5$$3b1a5a8bde890fa3d1395107ec60b902");
    assert_eq!((algorithm, weak), ("unsalted_md5", true));
    assert_eq!(
        check(PASSWORD, "3b1a5a8bde890fa3d1395107ec60b902"),
        Some(true)
    );
}

#[test]
fn an_unusable_password_is_classified_so_and_matches_nothing() {
    let unusable = "!Kq3vNn2XrPjGx6c8yW0dLmTbZf1hAeRuVoYsCiJ";
    assert_eq!(classify(unusable), Ok(DjangoPassword::Unusable));
    assert_eq!(check("", unusable), None);
    assert_eq!(check(unusable, unusable), None);
}

#[test]
fn what_django_would_not_verify_is_refused_with_a_reason_that_does_not_quote_it() {
    let refused = [
        ("crypt$$abN0vDhgTlzTM", "crypt(3) hashes are not supported"),
        ("sha512$abc$def", "unknown Django hash algorithm `sha512`"),
        ("no-dollar-here", "not a Django password hash"),
        ("", "not a Django password hash"),
        (
            "pbkdf2_sha256$many$salt$hash",
            "the iteration count is not a number",
        ),
        ("pbkdf2_sha256$0$salt$hash", "iteration count 0"),
        (
            "pbkdf2_sha256$99999999$salt$hash",
            "iteration count 99999999",
        ),
        ("pbkdf2_sha256$1000$salt", "malformed pbkdf2_sha256 hash"),
        (
            "bcrypt$$2b$31$Jwd2jUmKiroaO3hQhR3NKOqRr5.q3Ffb1hHl9K.7zVuG.bEzCO7gq",
            "cost 31",
        ),
        ("bcrypt$$2b$04$short", "malformed bcrypt hash"),
        (
            "argon2$argon2id$v=19$m=1048576,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "argon2 cost above",
        ),
        ("argon2$garbage", "malformed argon2 hash"),
        ("scrypt$1000$salt$8$1$hash", "not a power of two"),
        ("scrypt$1048576$salt$8$1$hash", "more than 256 MiB"),
        ("scrypt$16384$salt$8", "malformed scrypt hash"),
        ("md5$salt$nothex", "expected 32 hex digits"),
        ("sha1$$0123", "expected 40 hex digits"),
    ];
    for (stored, reason) in refused {
        let error = classify(stored).unwrap_err();
        assert!(error.contains(reason), "{stored}: {error}");
        assert_eq!(check(PASSWORD, stored), None, "{stored}");
    }
}

#[test]
fn djangos_default_pbkdf2_iterations_verify() {
    // Django 5.2's default count, made by Django for "correct horse battery staple ✓".
    let stored =
        "pbkdf2_sha256$1000000$9DMlOyN1n2ipAbm0t7kUSq$YAU/HMz6TDO5CqLaHdkQaw2zuzrvVJr31nczrpIT5UU=";
    assert_eq!(check(PASSWORD, stored), Some(true));
}
