//! Input validation shared by services.

use crate::error::{Error, Result};

/// Slugs that would collide with Heimdall's own top-level routes.
const RESERVED_SLUGS: &[&str] = &[
    "v1",
    "v2",
    "graphql",
    "healthz",
    "readyz",
    "metrics",
    "static",
    "assets",
    "api",
    "admin",
    "console",
    "login",
    "consent",
    "oauth",
    "well-known",
];

/// Whether `value` matches `^[a-z0-9][a-z0-9-]{1,62}$`.
pub fn is_slug_shaped(value: &str) -> bool {
    let bytes = value.as_bytes();
    (2..=63).contains(&bytes.len())
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// An app name (slug): `^[a-z0-9][a-z0-9-]{1,62}$`, not reserved.
pub fn slug(field: &str, value: &str) -> Result<()> {
    if !is_slug_shaped(value) {
        return Err(Error::invalid_field(
            field,
            "must be 2-63 characters of a-z, 0-9 and '-', starting with a letter or digit",
        ));
    }
    if RESERVED_SLUGS.contains(&value) {
        return Err(Error::invalid_field(
            field,
            format!("'{value}' is reserved"),
        ));
    }
    Ok(())
}

/// A human-readable single-line text: trimmed, 1..=max characters, no control characters.
pub fn display_text(field: &str, value: &str, max: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid_field(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(Error::invalid_field(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::invalid_field(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// An absolute `http(s)` URL.
pub fn http_url(field: &str, value: &str) -> Result<url::Url> {
    let url = url::Url::parse(value)
        .map_err(|_| Error::invalid_field(field, "must be an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::invalid_field(field, "must be an http or https URL"));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_field(
            field,
            "must not contain control characters",
        ));
    }
    Ok(url)
}

/// A web origin: `scheme://host[:port]`, nothing else.
pub fn origin(field: &str, value: &str) -> Result<String> {
    let url = http_url(field, value)?;
    let normalised = url.origin().ascii_serialization();
    if value.trim_end_matches('/') != normalised {
        return Err(Error::invalid_field(
            field,
            format!("'{value}' is not an origin (scheme://host[:port], no path)"),
        ));
    }
    Ok(normalised)
}

/// A role name: lowercase `[a-z0-9_-]`, 1-64 characters, starting with a letter or digit.
pub fn role_name(field: &str, value: &str) -> Result<()> {
    let bytes = value.as_bytes();
    let valid = (1..=64).contains(&bytes.len())
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'_');
    if valid {
        Ok(())
    } else {
        Err(Error::invalid_field(
            field,
            "must be 1-64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit",
        ))
    }
}

/// Normalises an email address for storage and lookup: trimmed, lowercased,
/// structurally valid, no control characters (NUL, CR, LF and the like are a 400 on
/// both databases rather than a PostgreSQL error).
pub fn email(field: &str, raw: &str) -> Result<String> {
    let invalid = |why: &str| Error::invalid_field(field, why.to_owned());
    // Checked before trimming: a trailing CRLF is an injection attempt, not padding.
    if raw.chars().any(char::is_control) {
        return Err(invalid("must not contain control characters"));
    }
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(invalid("is required"));
    }
    if trimmed.chars().count() > 254 {
        return Err(invalid("must be at most 254 characters"));
    }
    let lowered = trimmed.to_lowercase();
    let Some((local, domain)) = lowered.rsplit_once('@') else {
        return Err(invalid("is not an email address"));
    };
    let forbidden = |c: char| c.is_whitespace() || "@()<>[]\\,;:\"".contains(c);
    if local.is_empty()
        || local.chars().count() > 64
        || local.chars().any(forbidden)
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return Err(invalid("is not an email address"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if domain.chars().count() > 253
        || labels.len() < 2
        || labels.iter().any(|label| {
            label.is_empty()
                || label.chars().count() > 63
                || label.starts_with('-')
                || label.ends_with('-')
                || !label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
    {
        return Err(invalid("is not an email address"));
    }
    Ok(lowered)
}

/// An optional display name: trimmed, at most 200 characters, no control characters;
/// empty means none.
pub fn display_name(field: &str, value: Option<&str>) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) => display_text(field, name, 200).map(Some),
    }
}

/// How long a rotated-out secret keeps working: `grace_period_seconds` as given
/// (0 ends it at once, at most 7 days), 24 hours when omitted.
pub fn grace_period(seconds: Option<i64>) -> Result<chrono::Duration> {
    const DEFAULT: chrono::Duration = chrono::Duration::hours(24);
    const MAX: chrono::Duration = chrono::Duration::days(7);
    match seconds {
        None => Ok(DEFAULT),
        Some(s) if (0..=MAX.num_seconds()).contains(&s) => Ok(chrono::Duration::seconds(s)),
        Some(_) => Err(Error::invalid_field(
            "grace_period_seconds",
            format!("must be between 0 and {}", MAX.num_seconds()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["acme", "a1", "acme-corp", "0day"] {
            assert!(slug("name", ok).is_ok(), "{ok}");
        }
        for bad in [
            "a",
            "-acme",
            "Acme",
            "acme_corp",
            "acme corp",
            "",
            "v1",
            "graphql",
            &"a".repeat(64),
            "acmé",
        ] {
            assert!(slug("name", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("e", "  Alice@Example.COM ").unwrap(),
            "alice@example.com"
        );
        assert_eq!(
            email("e", "bob+tag@sub.example.co.uk").unwrap(),
            "bob+tag@sub.example.co.uk"
        );
        assert_eq!(email("e", "José@Exämple.com").unwrap(), "josé@exämple.com");
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a@exa mple.com",
            "a\u{0}@example.com",
            "a@example.com\r\nBcc: x@y.z",
            "a\n@example.com",
            "a@@example.com",
            ".a@example.com",
            "a..b@example.com",
            "a@-example.com",
            "a@example..com",
        ] {
            assert!(email("e", bad).is_err(), "{bad:?}");
        }
        assert!(email("e", &format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin("o", "https://app.example.com").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            origin("o", "http://localhost:3000").unwrap(),
            "http://localhost:3000"
        );
        assert!(origin("o", "https://app.example.com/path").is_err());
        assert!(origin("o", "ftp://x").is_err());
        assert!(origin("o", "*").is_err());
    }
}
