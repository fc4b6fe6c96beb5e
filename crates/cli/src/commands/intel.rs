//! `takedown intel import | export | show | why`

use crate::outln;
use crate::output::{escaped, print_json, Exit, OutputFormat, Style};
use crate::Context;
use anyhow::{bail, Context as _};
use clap::{Subcommand, ValueEnum};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use takedown_app::intel::{self, ensure_builtin, ImportRequest, Imported, StoreLookup};
use takedown_app::AppError;
use takedown_intel::export::{write_bundle, ExportItem};
use takedown_intel::knowledge::{self, Chain, Link, Profile};
use takedown_intel::read::{self, FileDone};
use takedown_intel::scope;
use takedown_model::Tlp;

#[derive(Debug, Subcommand)]
pub enum IntelCommand {
    /// Import STIX bundles (.json, .json.gz; 2.0 upgraded to 2.1), signature-base IOC
    /// files and YARA rule files. Directories are read recursively. All or nothing:
    /// if any file is rejected, nothing is imported.
    Import {
        /// Mark what has no TLP marking with this level; a stricter marking of the
        /// object's own is kept. clear, green, amber, amber+strict, red.
        #[arg(long, value_name = "LEVEL")]
        tlp: Option<Tlp>,
        /// The organisation that owns what is imported.
        #[arg(long, value_name = "NAME")]
        org: Option<String>,
        /// Largest intel file read, for every kind (bytes; K, M, G suffixes). Default:
        /// 16M for YARA rule files, 64M for IOC files, 256M for STIX bundles.
        #[arg(long, value_name = "BYTES", value_parser = crate::commands::sweep::parse_size)]
        max_intel_size: Option<u64>,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Write the store's intel as one STIX 2.1 bundle, with TLP 2.0 markings.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Stix21)]
        format: ExportFormat,
        /// Write here instead of standard output (written whole, then renamed).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Only this campaign's intel (its group and what is tied to it), as a STIX
        /// grouping marked with the campaign's TLP. Default: the whole store.
        #[arg(long, value_name = "NAME")]
        campaign: Option<String>,
    },
    /// What is known about a group or a malware family, by name, alias or STIX id.
    Show {
        #[arg(value_name = "NAME|ID")]
        name: String,
    },
    /// Why a value (hash, domain, address, file name or path, rule name, indicator
    /// id) points at a group: indicator → malware → group, with sources and confidence.
    Why {
        #[arg(value_name = "INDICATOR")]
        value: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// STIX 2.1 JSON bundle.
    Stix21,
}

pub fn run(ctx: &Context, cmd: IntelCommand) -> anyhow::Result<Exit> {
    match cmd {
        IntelCommand::Import { tlp, org, max_intel_size, files } => {
            let limits = max_intel_size.map_or_else(read::Limits::default, read::Limits::all);
            import(ctx, &ImportRequest { inputs: files, tlp, org, limits })
        }
        IntelCommand::Export { format: ExportFormat::Stix21, output, campaign } => {
            export(ctx, output.as_deref(), campaign.as_deref())
        }
        IntelCommand::Show { name } => show(ctx, &name),
        IntelCommand::Why { value } => why(ctx, &value),
    }
}

#[derive(Debug, Serialize)]
struct FileReport {
    path: String,
    kind: read::FileKind,
    objects: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rules: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped_lines: Vec<String>,
    /// Lines skipped in all; `skipped_lines` keeps only the first of them.
    #[serde(skip_serializing_if = "is_zero")]
    skipped_total: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl From<FileDone> for FileReport {
    fn from(f: FileDone) -> FileReport {
        FileReport {
            path: f.path.display().to_string(),
            kind: f.kind,
            objects: f.objects,
            rules: f.rules,
            skipped_lines: f.skipped,
            skipped_total: f.skipped_total,
        }
    }
}

fn import(ctx: &Context, request: &ImportRequest) -> anyhow::Result<Exit> {
    let mut store = ctx.open_store()?;
    let imported = match intel::import(&mut store, request, &ctx.user) {
        Ok(imported) => imported,
        Err(e) => {
            if let AppError::ImportRejected { rejected, .. } = &e {
                let style = Style::stderr();
                for e in rejected {
                    eprintln!("{} {e}", style.error("rejected:"));
                }
            }
            return Err(e.into());
        }
    };
    let Imported { files, passed_over, summary } = imported;
    let reports: Vec<FileReport> = files.into_iter().map(FileReport::from).collect();
    match ctx.format {
        OutputFormat::Text => {
            let style = Style::stdout();
            for r in &reports {
                let extra = if r.rules.is_empty() { String::new() } else { format!(", {} rule(s)", r.rules.len()) };
                outln!("{}  {} {} object(s){extra}", r.path, r.kind.as_str(), r.objects);
                for s in r.skipped_lines.iter().take(10) {
                    outln!("  {} {s}", style.warn("skipped"));
                }
                let shown = r.skipped_lines.len().min(10);
                if r.skipped_total > shown {
                    outln!("  {} {} more line(s)", style.warn("skipped"), r.skipped_total - shown);
                }
            }
            for p in &passed_over {
                outln!("{}  {}", p.display(), style.dim("passed over: not an intel file"));
            }
            let skipped: usize = reports.iter().map(|r| r.skipped_total).sum();
            outln!(
                "{} {} file(s): {} new, {} newer version(s), {} older version(s) kept as history, {} unchanged; {} line(s) skipped",
                style.bold("imported"),
                reports.len(),
                summary.new_objects,
                summary.new_versions,
                summary.older_versions,
                summary.unchanged,
                skipped
            );
            let types: Vec<String> = summary.by_type.iter().map(|(t, n)| format!("{t} {n}")).collect();
            outln!("  by type: {}", types.join(", "));
        }
        format => print_json(
            format,
            &serde_json::json!({
                "files": reports,
                "passed_over": passed_over,
                "summary": summary,
                "store": store.path(),
            }),
        )?,
    }
    Ok(Exit::Clean)
}

fn export(ctx: &Context, output: Option<&Path>, campaign: Option<&str>) -> anyhow::Result<Exit> {
    let mut store = ctx.open_store()?;
    ensure_builtin(&mut store)?;
    let items: Box<dyn Iterator<Item = ExportItem>> = match campaign {
        None => Box::new(store.current_objects(None)?.into_iter().map(|o| ExportItem { json: o.json, tlp: o.tlp })),
        Some(name) => Box::new(campaign_items(&store, name)?.into_iter()),
    };
    let stats = match output {
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let stats = write_bundle(&mut out, items)?;
            out.flush()?;
            stats
        }
        Some(path) => {
            // Written beside the target and renamed over it: a reader never sees half a bundle.
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write in {} (choose another -o)", dir.display()))?;
            let stats = {
                let mut out = std::io::BufWriter::new(tmp.as_file_mut());
                let stats = write_bundle(&mut out, items)?;
                out.flush()?;
                stats
            };
            tmp.as_file().sync_all()?;
            tmp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
            stats
        }
    };
    let target = output.map_or("stdout".to_string(), |p| p.display().to_string());
    store.append_audit(
        &ctx.user,
        "intel.export",
        &match campaign {
            Some(name) => format!("campaign {name} to {target}"),
            None => target,
        },
        &serde_json::to_string(&stats)?,
    )?;
    if output.is_some() {
        eprintln!("exported {} object(s) under {} TLP level(s)", stats.objects, stats.markings.len());
    }
    Ok(Exit::Clean)
}

/// A campaign's grouping first, then the objects it groups, in id order.
fn campaign_items(store: &takedown_store::Store, name: &str) -> anyhow::Result<Vec<ExportItem>> {
    let Some(campaign) = store.campaign(name)? else {
        bail!("no campaign called {name:?} (see `takedown campaign list`)");
    };
    let Some(actor) = &campaign.actor else {
        bail!(
            "campaign {name:?} names no group, so it has no intel of its own to share; export the whole store \
             (leave out --campaign) or open a campaign with --actor GROUP"
        );
    };
    let ids = scope::campaign_scope(&StoreLookup(store), actor)?;
    if ids.is_empty() {
        bail!("the group of campaign {name:?} ({actor}) is no longer in the store; import its intel again");
    }
    let mut items = vec![ExportItem { json: scope::grouping(&campaign, &ids).to_string(), tlp: Some(campaign.tlp) }];
    for id in &ids {
        if let Some(o) = store.object(id)? {
            items.push(ExportItem { json: o.json, tlp: o.tlp });
        }
    }
    Ok(items)
}

fn show(ctx: &Context, name: &str) -> anyhow::Result<Exit> {
    let mut store = ctx.open_store()?;
    ensure_builtin(&mut store)?;
    let lookup = StoreLookup(&store);
    let Some(profile) = knowledge::profile(&lookup, name)? else {
        let near = knowledge::loose_matches(&lookup, name)?;
        if near.len() > 1 {
            bail!("{name:?} could be any of: {} (name one of them)", near.join(", "));
        }
        bail!("no group or malware called {name:?} is known (import intel first, e.g. takedown intel import enterprise-attack.json)");
    };
    match ctx.format {
        OutputFormat::Text => print_profile(&profile)?,
        format => print_json(format, &profile)?,
    }
    Ok(Exit::Clean)
}

fn confidence(c: Option<u64>) -> String {
    c.map_or("confidence not stated".into(), |c| format!("confidence {c}"))
}

fn print_profile(p: &Profile) -> std::io::Result<()> {
    let style = Style::stdout();
    // Everything shown here comes from intel files and partners as it is.
    outln!("{}  ({})", style.bold(&escaped(&p.name)), escaped(&p.type_));
    if !p.aliases.is_empty() {
        outln!("  also known as: {}", escaped(&p.aliases.iter().cloned().collect::<Vec<_>>().join(", ")));
    }
    for o in &p.objects {
        let attack = o.attack_id.as_deref().map(|a| format!(" [{a}]")).unwrap_or_default();
        outln!("  source: {}  {}{}", escaped(&o.source), style.dim(&escaped(&o.id)), escaped(&attack));
    }
    if let Some(d) = &p.description {
        outln!();
        // Line breaks in the text are only spaces to wrap at; other control
        // characters are shown escaped.
        outln!("  {}", wrap(&escaped(&wrap(&strip_citations(d), usize::MAX, "")), 88, "  "));
    }
    let (title, related) = if p.type_ == "malware" || p.type_ == "tool" {
        ("Used by", &p.related)
    } else {
        ("Malware and tools", &p.related)
    };
    outln!();
    outln!("{} ({})", style.bold(title), related.len());
    for m in related {
        let attack = m.attack_id.as_deref().unwrap_or("");
        outln!(
            "  {:<28} {:<14} {:<6} {:<22} {}",
            escaped(&m.name),
            escaped(&m.type_),
            escaped(attack),
            confidence(m.confidence),
            style.dim(&escaped(&m.source))
        );
    }
    outln!();
    outln!("{} ({})", style.bold("Techniques"), p.techniques.len());
    for t in &p.techniques {
        outln!("  {:<10} {}", escaped(t.attack_id.as_deref().unwrap_or("-")), escaped(&t.name));
    }
    outln!();
    outln!("{} ({})", style.bold("Indicators"), p.indicators.len());
    for i in &p.indicators {
        let via = i.via.as_deref().map(|v| format!(" via {}", escaped(v))).unwrap_or_default();
        outln!(
            "  {:<13} {:<66} {:<22} {}{}",
            escaped(&i.kind),
            escaped(&truncate(&i.value, 66)),
            confidence(i.confidence),
            style.dim(&escaped(&i.source)),
            via
        );
    }
    Ok(())
}

/// ATT&CK descriptions carry `(Citation: ...)` markers meant for its website.
fn strip_citations(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("(Citation:") {
        out.push_str(&rest[..start]);
        match rest[start..].find(')') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for word in text.split_whitespace() {
        if line_len > 0 && line_len + 1 + word.len() > width {
            out.push('\n');
            out.push_str(indent);
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word.len();
    }
    out
}

fn why(ctx: &Context, value: &str) -> anyhow::Result<Exit> {
    let mut store = ctx.open_store()?;
    ensure_builtin(&mut store)?;
    let chains = knowledge::why(&StoreLookup(&store), value)?;
    match ctx.format {
        OutputFormat::Text => {
            if chains.is_empty() {
                outln!("{value}: no indicator matches");
            }
            for c in &chains {
                print_chain(value, c)?;
            }
        }
        OutputFormat::Json => print_json(ctx.format, &serde_json::json!({ "value": value, "chains": chains }))?,
        OutputFormat::Ndjson => {
            for c in &chains {
                print_json(ctx.format, c)?;
            }
        }
    }
    Ok(if chains.is_empty() { Exit::Clean } else { Exit::Findings })
}

fn print_chain(value: &str, c: &Chain) -> std::io::Result<()> {
    let style = Style::stdout();
    outln!("{} matches {}", style.bold(value), c.matched);
    outln!(
        "  indicator {:?}  {}  source: {}  {}",
        c.indicator.name,
        confidence(c.indicator.confidence),
        c.indicator.source,
        style.dim(&c.indicator.id)
    );
    if c.links.is_empty() {
        outln!("    (indicates nothing known)");
    }
    fn links(l: &[Link], depth: usize) -> std::io::Result<()> {
        let style = Style::stdout();
        let pad = "    ".repeat(depth);
        for link in l {
            outln!(
                "{pad}→ {} {} {:?}  (link: {}, source: {})  {}",
                link.relation,
                link.to.type_,
                link.to.name,
                confidence(link.relationship_confidence),
                link.relationship_source,
                style.dim(&link.to.id)
            );
            links(&link.then, depth + 1)?;
        }
        Ok(())
    }
    links(&c.links, 2)?;
    outln!();
    Ok(())
}

/// Counts of the stored intel, for the demo and for people.
pub fn counts(store: &takedown_store::Store) -> anyhow::Result<BTreeMap<String, u64>> {
    Ok(store.object_counts()?)
}
