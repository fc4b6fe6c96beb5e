//! The demo's capture step: a small capture written by our own pcap writer — an
//! EternalBlue-like exchange, a DoublePulsar ping, a kill-switch lookup and an
//! ordinary client — and the verdicts `takedown net` gives on it.

use crate::output::{OutputFormat, Style};
use crate::{outln, Context};
use anyhow::Context as _;

pub fn step(ctx: &Context, db: &std::path::Path, dir: &std::path::Path, campaign: &str) -> anyhow::Result<()> {
    let style = Style::stdout();
    let store = takedown_store::Store::open(db)?;
    let domains = takedown_app::capture::kill_switch_domains(&store)?;
    let domain = domains.first().cloned().unwrap_or_else(|| "www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com".into());
    let capture = dir.join("outbreak.pcap");
    let bytes = takedown_net::writer::demo_capture(&domain)?;
    std::fs::write(&capture, bytes).with_context(|| format!("cannot write {}", capture.display()))?;
    outln!(
        "{}",
        style.bold("Find on the wire: a capture of an attack on 192.0.2.10, built from the SMB specification")
    );
    outln!("{}", style.bold(&format!("$ takedown net --campaign {campaign} {}", capture.display())));
    let demo_ctx = Context { db: db.to_path_buf(), format: OutputFormat::Text, user: ctx.user.clone() };
    super::net::run(&demo_ctx, super::net::NetArgs::files(vec![capture], campaign))?;
    Ok(())
}
