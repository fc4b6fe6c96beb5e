//! Sending notices to an SMTP relay: plain, STARTTLS when offered, STARTTLS
//! required, or TLS from the start, with certificates verified. Each notice is
//! sent step by step over a connection of its own, so that a failure after the
//! message was handed over (the relay may have it) is told apart from one before.

use crate::notice::{Delivery, Mailer};
use crate::ActError;
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, MailBodyParameter, MailParameter};
use lettre::Message;

/// How the connection to the SMTP relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpTls {
    /// STARTTLS when the relay offers it, with its certificate verified; plain
    /// when it does not offer it (what a relay on a trusted network or on this
    /// host usually needs, like Postfix's `smtp_tls_security_level = may`).
    #[default]
    Auto,
    /// Plain SMTP, never encrypted.
    None,
    /// STARTTLS required: a relay that does not offer it is not sent to.
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

impl SmtpTls {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::Auto => "starttls when offered",
            SmtpTls::None => "plain",
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
        }
    }
}

/// An SMTP relay, reached in plain text, with STARTTLS or over TLS. Certificates
/// are checked against the system's trust store and any extra CA or certificate
/// given. Each notice goes over a connection of its own, step by step, so that a
/// failure after the message was handed over is told apart from one before.
pub struct Smtp {
    host: String,
    port: u16,
    tls: SmtpTls,
    params: Option<TlsParameters>,
    hello: ClientId,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").field("host", &self.host).field("port", &self.port).field("tls", &self.tls).finish()
    }
}

const SMTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl Smtp {
    /// `extra_roots`: PEM certificates (a private CA, or the relay's own
    /// certificate) to trust besides the system's.
    pub fn new(host: &str, port: u16, tls: SmtpTls, extra_roots: Option<&[u8]>) -> Result<Smtp, ActError> {
        let params = if tls == SmtpTls::None {
            None
        } else {
            let mut params = TlsParameters::builder(host.to_string());
            if let Some(pem) = extra_roots {
                let cert = Certificate::from_pem(pem)
                    .map_err(|e| ActError::Input(format!("the extra CA or certificate is not PEM: {e}")))?;
                params = params.add_root_certificate(cert);
            }
            Some(
                params
                    .build_rustls()
                    .map_err(|e| ActError::Input(format!("cannot set up TLS for {host}:{port}: {e}")))?,
            )
        };
        Ok(Smtp { host: host.to_string(), port, tls, params, hello: ClientId::default() })
    }

    /// Connects, says EHLO and protects the connection as asked.
    fn connect(&self) -> Result<SmtpConnection, lettre::transport::smtp::Error> {
        let wrapper = if self.tls == SmtpTls::Tls { self.params.as_ref() } else { None };
        let mut conn =
            SmtpConnection::connect((self.host.as_str(), self.port), Some(SMTP_TIMEOUT), &self.hello, wrapper, None)?;
        match (self.tls, &self.params) {
            (SmtpTls::Auto, Some(p)) if conn.can_starttls() => conn.starttls(p, &self.hello)?,
            (SmtpTls::StartTls, Some(p)) => conn.starttls(p, &self.hello)?,
            _ => {}
        }
        Ok(conn)
    }
}

/// Errors that trying again will not mend: the relay's answer 5xx, a certificate
/// that does not verify, a relay without the STARTTLS that was required. With
/// what to change, where the error alone does not say.
fn classify(e: &lettre::transport::smtp::Error) -> Delivery {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("certificate") || e.is_tls() {
        Delivery::Permanent(format!(
            "{text} (the relay's certificate does not verify for this name: give its CA or certificate with --smtp-ca FILE)"
        ))
    } else if lower.contains("starttls is not supported") {
        Delivery::Permanent(format!(
            "{text} (STARTTLS was required and the relay does not offer it; nothing was sent in clear)"
        ))
    } else if lower.contains("starttls") && e.is_permanent() {
        Delivery::Permanent(format!("{text} (the relay requires STARTTLS: use --smtp-tls starttls or auto)"))
    } else if e.is_permanent() {
        Delivery::Permanent(text)
    } else {
        Delivery::Transient(text)
    }
}

impl Mailer for Smtp {
    fn describe(&self) -> String {
        format!("SMTP {}:{} ({})", self.host, self.port, self.tls.as_str())
    }
    fn deliver(&self, message: &Message, _key: &str) -> Delivery {
        let mut conn = match self.connect() {
            Ok(c) => c,
            Err(e) => return classify(&e),
        };
        let envelope = message.envelope();
        let body = message.formatted();
        // As lettre's own send: ask for 8BITMIME / SMTPUTF8 only where needed.
        let mut options = Vec::new();
        let non_ascii = |a: &lettre::Address| !a.to_string().is_ascii();
        if envelope.from().is_some_and(non_ascii) || envelope.to().iter().any(non_ascii) {
            options.push(MailParameter::SmtpUtfEight);
        }
        if !body.is_ascii() {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        // Until the message is handed over, any failure means the relay does not have it.
        let before = conn.command(Mail::new(envelope.from().cloned(), options)).and_then(|_| {
            for to in envelope.to() {
                conn.command(Rcpt::new(to.clone(), vec![]))?;
            }
            conn.command(Data)
        });
        if let Err(e) = before {
            conn.abort();
            return classify(&e);
        }
        match conn.message(&body) {
            Ok(resp) => {
                let _ = conn.quit();
                Delivery::Delivered(format!("{} {}", resp.code(), resp.message().collect::<Vec<_>>().join(" ")))
            }
            // The relay answered, and refused: it does not have the message.
            Err(e) if e.is_permanent() || e.is_transient() => classify(&e),
            Err(e) => Delivery::Uncertain(format!("{e}, after the message was sent")),
        }
    }
}
