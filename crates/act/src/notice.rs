//! Warning the people the group reached: one plain message per person per
//! campaign, with what happened, what is known and not known, and what to do. No
//! link that asks for credentials — a warning that looks like phishing teaches the
//! wrong lesson.

use crate::{ActError, Retry};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use std::path::PathBuf;
use takedown_model::{ActionKind, Subject};
use takedown_store::Store;

pub use crate::smtp::{Smtp, SmtpTls};

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

/// The fake accounts a campaign's notices name: the targets of its disable-account
/// actions, sorted, each once.
pub fn named_accounts(store: &Store, campaign: &str) -> Result<Vec<String>, ActError> {
    let mut out: Vec<String> = store
        .actions(campaign)?
        .into_iter()
        .filter(|s| s.action.kind == ActionKind::DisableAccount)
        .filter_map(|s| match s.action.target {
            Subject::Account { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
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
