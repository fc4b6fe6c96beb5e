//! Warning the people the group reached: one plain message per person per
//! campaign, with what happened, what is known and not known, and what to do. No
//! link that asks for credentials — a warning that looks like phishing teaches the
//! wrong lesson.

use crate::{ActError, Retry};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, MailBodyParameter, MailParameter};
use lettre::Message;
use std::path::PathBuf;
use takedown_store::Store;

/// What the message says beyond the person's address.
#[derive(Debug, Clone)]
pub struct NoticeContext {
    /// Who is writing: the organisation's name.
    pub organisation: String,
    /// The From address.
    pub from: String,
    /// The accounts the person connected with that were run by the group.
    pub accounts: Vec<String>,
}

/// The text and HTML parts of a notice.
pub fn render(ctx: &NoticeContext) -> (String, String, String) {
    let subject = format!("Security notice from {}: accounts you were in contact with were fake", ctx.organisation);
    let accounts = if ctx.accounts.is_empty() {
        "accounts that we have since found to be fake".to_string()
    } else {
        ctx.accounts.join(", ")
    };
    let paragraphs = [
        format!(
            "What happened: you were in contact with {accounts}. These accounts were run by an attack group \
             (known as ZINC or Lazarus) that uses fake profiles to approach people and send them malicious files or links. \
             We have disabled the accounts."
        ),
        "What we know: that you connected with or received messages from these accounts. \
         What we do not know: whether you opened anything they sent, or whether any of your accounts or devices were affected. \
         This message is a precaution, not a finding against you."
            .to_string(),
        "What to do:".to_string(),
    ];
    let advice = [
        "Change your password, typing the address of the site yourself rather than following a link; use a different password on every site.",
        "Turn on two-step verification (a code from an app or a security key) for your account.",
        "Review the recent sign-ins and connected devices and apps in your account settings, and remove any you do not recognise.",
        "Be wary of messages, files and links from the accounts named above, and from anyone who contacts you about them.",
    ];
    let closing = "This message contains no links and we will never ask you for your password. \
                   If you have questions, reply to this message.";
    let mut text = String::new();
    for p in &paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
    }
    for a in &advice {
        text.push_str("  - ");
        text.push_str(a);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(closing);
    text.push_str(&format!("\n\n{}\n", ctx.organisation));
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut html = String::from("<!DOCTYPE html><html><body>\n");
    for p in &paragraphs {
        html.push_str(&format!("<p>{}</p>\n", esc(p)));
    }
    html.push_str("<ul>\n");
    for a in &advice {
        html.push_str(&format!("<li>{}</li>\n", esc(a)));
    }
    html.push_str(&format!("</ul>\n<p>{}</p>\n<p>{}</p>\n</body></html>\n", esc(closing), esc(&ctx.organisation)));
    (subject, text, html)
}

/// Builds the message. Its Message-ID is derived from the idempotency key, so that
/// a copy that somehow went twice is recognisable as the same notice.
pub fn message(ctx: &NoticeContext, to: &str, key: &str) -> Result<Message, ActError> {
    let (subject, text, html) = render(ctx);
    let from: Mailbox =
        ctx.from.parse().map_err(|e| ActError::Input(format!("the From address {:?} is not valid: {e}", ctx.from)))?;
    let to: Mailbox = to.parse().map_err(|e| ActError::Input(format!("the address {to:?} is not valid: {e}")))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{}@takedown.notice>", &key[..key.len().min(32)])))
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
        )
        .map_err(|e| ActError::Input(format!("cannot build the notice: {e}")))
}

/// The answer of one delivery attempt.
#[derive(Debug)]
pub enum Delivery {
    Delivered(String),
    /// Worth trying again (connection refused, 4xx).
    Transient(String),
    /// Not worth trying again (5xx: the address does not exist).
    Permanent(String),
    /// The message was handed over and the relay's answer was lost: it may have
    /// been delivered. Never tried again, so that nobody gets the notice twice.
    Uncertain(String),
}

/// Where notices go.
pub trait Mailer {
    fn describe(&self) -> String;
    fn deliver(&self, message: &Message, key: &str) -> Delivery;
}

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

/// A directory of `.eml` files, one per notice, for dry runs and for review.
#[derive(Debug)]
pub struct FileOutbox {
    pub dir: PathBuf,
}

impl Mailer for FileOutbox {
    fn describe(&self) -> String {
        format!("outbox {}", self.dir.display())
    }
    fn deliver(&self, message: &Message, key: &str) -> Delivery {
        let path = self.dir.join(format!("{key}.eml"));
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&self.dir)?;
            let tmp = self.dir.join(format!(".{key}.eml.part"));
            std::fs::write(&tmp, message.formatted())?;
            std::fs::rename(&tmp, &path)
        };
        match write() {
            Ok(()) => Delivery::Delivered(format!("written to {}", path.display())),
            Err(e) => Delivery::Permanent(format!("cannot write {}: {e}", path.display())),
        }
    }
}

/// Why a notice is not sent again although it is not known to be sent.
fn maybe_delivered(email: &str, message_id: &str) -> ActError {
    ActError::Connector(format!(
        "the notice to {email} may have been delivered (the relay's answer to it was lost), so it is not sent again; \
         look for Message-ID {message_id} in the relay's log"
    ))
}

/// How a notice came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Delivered now; the key and the server's answer.
    Now { key: String, detail: String },
    /// Sent before (by an earlier run): nothing was sent.
    Before { key: String },
}

/// Sends a person's notice once: claims the key in the store, delivers with retries
/// and backoff, records every attempt. A notice the store already has as sent is
/// not sent again.
#[allow(clippy::too_many_arguments)]
pub fn send_once(
    store: &Store,
    mailer: &dyn Mailer,
    campaign: &str,
    person: &str,
    email: &str,
    action_id: Option<&str>,
    ctx: &NoticeContext,
    retry: &Retry,
    who: &str,
) -> Result<Sent, ActError> {
    let notice = store.claim_notice(campaign, person, email, action_id, who)?;
    let key = notice.idempotency_key;
    if notice.state == "sent" {
        return Ok(Sent::Before { key });
    }
    // A failed notice with a Message-ID was handed to a relay whose answer was lost.
    if let (Some(id), "failed") = (&notice.message_id, notice.state.as_str()) {
        return Err(maybe_delivered(email, id));
    }
    let msg = message(ctx, email, &key)?;
    let mut last = String::new();
    for attempt in 1..=retry.attempts {
        let final_attempt = attempt == retry.attempts;
        match mailer.deliver(&msg, &key) {
            Delivery::Delivered(detail) => {
                let id = format!("<{}@takedown.notice>", &key[..key.len().min(32)]);
                store.record_delivery(&key, true, &detail, Some(&id), false, who)?;
                return Ok(Sent::Now { key, detail });
            }
            Delivery::Permanent(detail) => {
                store.record_delivery(&key, false, &detail, None, true, who)?;
                return Err(ActError::Connector(format!(
                    "{} refused the notice to {email}: {detail}",
                    mailer.describe()
                )));
            }
            Delivery::Uncertain(detail) => {
                let id = format!("<{}@takedown.notice>", &key[..key.len().min(32)]);
                store.record_delivery(&key, false, &detail, Some(&id), true, who)?;
                return Err(ActError::Connector(format!(
                    "{}: {detail}; {}",
                    mailer.describe(),
                    maybe_delivered(email, &id)
                )));
            }
            Delivery::Transient(detail) => {
                store.record_delivery(&key, false, &detail, None, final_attempt, who)?;
                last = detail;
                if !final_attempt {
                    std::thread::sleep(retry.delay(attempt));
                }
            }
        }
    }
    Err(ActError::Unreachable { what: format!("{} for {email}", mailer.describe()), attempts: retry.attempts, last })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_says_what_to_do_and_asks_for_nothing() {
        let ctx = NoticeContext {
            organisation: "Example Org".into(),
            from: "security@example.org".into(),
            accounts: vec!["@fake.researcher".into()],
        };
        let (subject, text, html) = render(&ctx);
        assert!(subject.contains("Example Org"));
        for needle in ["password", "two-step verification", "recent sign-ins", "@fake.researcher", "do not know"] {
            assert!(text.contains(needle), "text lacks {needle}");
        }
        assert!(!text.contains("http") && !html.contains("href"), "a notice must carry no links");
        let m = message(&ctx, "p@example.org", "abc").expect("builds");
        let raw = String::from_utf8_lossy(&m.formatted()).into_owned();
        assert!(raw.contains("multipart/alternative") && raw.contains("text/html") && raw.contains("text/plain"));
    }
}
