//! Integer identifiers of organizations and users.

use std::fmt;
use std::str::FromStr;

use super::ParseError;

macro_rules! positive_id {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The id of ", $what, ": a positive integer that fits in 63 bits.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl $name {
            /// Wraps an id read from the database, where it is known to be positive.
            pub fn from_db(id: i64) -> Self {
                Self(id)
            }

            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = ParseError;

            /// Accepts decimal digits only (no sign, no spaces), as a URL path converter would.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let invalid = || ParseError(format!("{} is not a valid {} id", s, $what));
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid());
                }
                match s.parse::<i64>() {
                    Ok(n) if n > 0 => Ok(Self(n)),
                    _ => Err(invalid()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

positive_id!(OrgId, "organization");
positive_id!(UserId, "user");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_id_accepts_positive_decimal_integers() {
        assert_eq!("1".parse::<OrgId>().unwrap().get(), 1);
        assert_eq!("007".parse::<OrgId>().unwrap().get(), 7);
        assert_eq!(
            "9223372036854775807".parse::<OrgId>().unwrap().get(),
            i64::MAX
        );
    }

    #[test]
    fn org_id_rejects_zero_signs_overflow_and_garbage() {
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            " 1",
            "1.0",
            "abc",
            "9223372036854775808",
            "99999999999999999999",
        ] {
            assert!(bad.parse::<OrgId>().is_err(), "{bad:?} should be rejected");
        }
    }
}
