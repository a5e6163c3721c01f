//! The SMTP transport: `HEIMDALL_SMTP_URL` and `HEIMDALL_SMTP_FROM`, and sending
//! one rendered mail.
//!
//! lettre reads the URL (`AsyncSmtpTransport::from_url`): `smtp://` (plain),
//! `smtp://…?tls=required` (STARTTLS required), `smtp://…?tls=opportunistic`,
//! `smtps://` (TLS from the first byte), the default ports 25, 587 and 465,
//! percent-encoded credentials and an EHLO name as the path. Heimdall maps only the
//! forms lettre has no spelling for; each is named where it is handled.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::{
        AsyncSmtpTransportBuilder,
        authentication::Credentials,
        client::{Tls, TlsParameters},
        extension::ClientId,
    },
};
use url::Url;

use super::templates::Rendered;
use crate::config::Config;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

type Smtp = AsyncSmtpTransport<Tokio1Executor>;

/// The configured SMTP transport and sender.
#[derive(Clone)]
pub struct Mailer {
    transport: Smtp,
    from: Mailbox,
}

impl Mailer {
    /// Builds the transport from `HEIMDALL_SMTP_URL` and `HEIMDALL_SMTP_FROM`; `None`
    /// when neither is set (no mail), an error when only one is or either is invalid.
    pub fn from_config(config: &Config) -> Result<Option<Self>, String> {
        // An empty variable counts as unset.
        let url = config
            .smtp_url
            .as_ref()
            .filter(|u| !u.expose().trim().is_empty());
        let from = config.smtp_from.as_ref().filter(|f| !f.trim().is_empty());
        let (url, from) = match (url, from) {
            (None, None) => return Ok(None),
            (Some(url), Some(from)) => (url, from),
            (Some(_), None) => {
                return Err("HEIMDALL_SMTP_URL is set but HEIMDALL_SMTP_FROM is not".into());
            }
            _ => return Err("HEIMDALL_SMTP_FROM is set but HEIMDALL_SMTP_URL is not".into()),
        };
        let from: Mailbox = from.trim().parse().map_err(|e| {
            format!("HEIMDALL_SMTP_FROM is not a mail address (e.g. 'Acme <no-reply@acme.example>'): {e}")
        })?;
        Ok(Some(Self {
            transport: builder(url.expose())?.timeout(Some(SMTP_TIMEOUT)).build(),
            from,
        }))
    }

    pub(super) async fn send(&self, mail: &Rendered) -> Result<(), String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("invalid recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Errors never repeat the URL: it may hold a password.
fn smtp_error(error: lettre::transport::smtp::Error) -> String {
    format!("HEIMDALL_SMTP_URL: {error}")
}

/// `HEIMDALL_SMTP_URL` in lettre's spelling. README's `smtp+starttls://` is lettre's
/// `smtp://…?tls=required`; any `tls` parameter it had is dropped, since the scheme
/// already asks for STARTTLS required.
fn lettre_url(text: &str) -> Result<Url, String> {
    let mut url =
        Url::parse(text.trim()).map_err(|e| format!("HEIMDALL_SMTP_URL is not a URL ({e})"))?;
    match url.scheme() {
        "smtp" | "smtps" => {}
        "smtp+starttls" => {
            let others: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(name, _)| name != "tls")
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            url.set_scheme("smtp")
                .map_err(|()| "HEIMDALL_SMTP_URL: cannot read the scheme".to_owned())?;
            url.query_pairs_mut()
                .clear()
                .extend_pairs(others)
                .append_pair("tls", "required");
        }
        other => {
            return Err(format!(
                "HEIMDALL_SMTP_URL: unsupported scheme '{other}' (use smtp://, smtp+starttls:// or smtps://)"
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("HEIMDALL_SMTP_URL has no host".into());
    }
    Ok(url)
}

fn decode(text: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| "HEIMDALL_SMTP_URL: credentials are not valid UTF-8".to_owned())
}

/// The transport builder of `HEIMDALL_SMTP_URL`.
fn builder(text: &str) -> Result<AsyncSmtpTransportBuilder, String> {
    let url = lettre_url(text)?;
    let mut builder = match url.host() {
        Some(url::Host::Ipv6(ip)) => ipv6_builder(&url, ip)?,
        _ => Smtp::from_url(url.as_str()).map_err(smtp_error)?,
    };
    // lettre authenticates only when the URL has a password; a user alone
    // (`smtp://user@host`) authenticates with an empty one, as Heimdall always has.
    if url.password().is_none() && !url.username().is_empty() {
        builder = builder.credentials(Credentials::new(decode(url.username())?, String::new()));
    }
    Ok(builder)
}

/// lettre hands the URL's host to the resolver as written, and an IPv6 literal
/// keeps its brackets there (`[::1]`, RFC 3986 §3.2.2), which no resolver accepts.
/// For such a host the transport is built on the bare address, with lettre's
/// meaning of the scheme, `tls=`, default ports, credentials and EHLO name.
fn ipv6_builder(url: &Url, ip: std::net::Ipv6Addr) -> Result<AsyncSmtpTransportBuilder, String> {
    let server = ip.to_string();
    let tls = || TlsParameters::new(server.clone()).map_err(smtp_error);
    let mode = url
        .query_pairs()
        .find(|(name, _)| name == "tls")
        .map(|(_, value)| value.into_owned());
    let (port, tls) = match (url.scheme(), mode.as_deref()) {
        ("smtps", _) => (465, Some(Tls::Wrapper(tls()?))),
        ("smtp", Some("required")) => (587, Some(Tls::Required(tls()?))),
        ("smtp", Some("opportunistic")) => (587, Some(Tls::Opportunistic(tls()?))),
        ("smtp", None) => (25, None),
        (_, mode) => {
            return Err(format!(
                "HEIMDALL_SMTP_URL: unknown tls parameter {mode:?} (use required or opportunistic)"
            ));
        }
    };
    let mut builder = Smtp::builder_dangerous(server).port(url.port().unwrap_or(port));
    if let Some(tls) = tls {
        builder = builder.tls(tls);
    }
    if let Some(password) = url.password() {
        builder = builder.credentials(Credentials::new(decode(url.username())?, decode(password)?));
    }
    let ehlo = url.path().trim_matches('/');
    if !ehlo.is_empty() {
        builder = builder.hello_name(ClientId::Domain(ehlo.to_owned()));
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_in_lettres_spelling() {
        let url = lettre_url("smtp+starttls://me%40x.io:p%3Ass@mail.example.com").unwrap();
        assert_eq!(
            url.as_str(),
            "smtp://me%40x.io:p%3Ass@mail.example.com?tls=required"
        );
        let url =
            lettre_url("smtp+starttls://mail.example.com:2587/ehlo.example?tls=opportunistic")
                .unwrap();
        assert_eq!(
            url.as_str(),
            "smtp://mail.example.com:2587/ehlo.example?tls=required"
        );
        for same in [
            "smtps://mail.example.com:2465",
            "smtp://127.0.0.1:2525",
            "smtp://u:p@[::1]:2525",
        ] {
            assert_eq!(lettre_url(same).unwrap().as_str(), same);
        }
        let err = lettre_url("http://user:secret@x").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
        assert!(lettre_url("smtp://").is_err());
        assert!(lettre_url("not a url").is_err());
    }

    #[test]
    fn every_accepted_form_builds_a_transport() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://user@127.0.0.1",
            "smtp+starttls://me%40x.io:p%3Ass@mail.example.com",
            "smtp+starttls://apikey:s3cr%40t@smtp.example.com:587",
            "smtps://user:pass@smtp.example.com",
            "smtp://mail.example.com?tls=required",
            "smtp://[::1]:1025",
            "smtps://u:p@[::1]",
        ] {
            assert!(builder(url).is_ok(), "{url}");
        }
        let err = builder("smtp://u:hunter2@[::1]?tls=bogus").err().unwrap();
        assert!(!err.contains("hunter2"), "{err}");
        let err = builder("smtp://u:hunter2@mail.example.com?tls=bogus")
            .err()
            .unwrap();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn smtp_configuration_is_both_or_neither() {
        let config = |url: Option<&str>, from: Option<&str>| Config {
            smtp_url: url.map(Into::into),
            smtp_from: from.map(Into::into),
            ..Config::default()
        };
        assert!(Mailer::from_config(&config(None, None)).unwrap().is_none());
        assert!(
            Mailer::from_config(&config(Some(" "), Some("")))
                .unwrap()
                .is_none()
        );
        assert!(
            Mailer::from_config(&config(Some("smtp://127.0.0.1:2525"), Some("a@b.io")))
                .unwrap()
                .is_some()
        );
        assert!(
            Mailer::from_config(&config(
                Some("smtp+starttls://u:p@mail.example.com"),
                Some("Acme <no-reply@acme.example>")
            ))
            .unwrap()
            .is_some()
        );
        for (url, from) in [
            (Some("smtp://127.0.0.1:2525"), None),
            (None, Some("a@b.io")),
            (Some("smtp://127.0.0.1:2525"), Some("not an address")),
            (Some("ftp://u:hunter2@x"), Some("a@b.io")),
        ] {
            let err = Mailer::from_config(&config(url, from)).err().unwrap();
            assert!(err.contains("HEIMDALL_SMTP"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}
