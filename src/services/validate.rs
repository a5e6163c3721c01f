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
