//! Sweep files and file what was found: the ruleset from the store's indicators and
//! any rule or IOC files given, the sweep itself, each hit tied to the groups and
//! malware the intel names, the findings filed under a campaign, and the files moved
//! into the vault when asked.

use crate::intel::StoreLookup;
use crate::AppError;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use takedown_intel::{builtin, ids, knowledge, read};
use takedown_model::{Evidence, Finding, StringMatch, Subject};
use takedown_store::Store;
use takedown_sweep::vault::Vault;
use takedown_sweep::{Hit, HitKind, Progress, RulesetBuilder, Source, Summary, SweepOptions, Taken};

/// What to sweep and where the results go.
#[derive(Debug, Clone, Default)]
pub struct SweepRequest {
    pub options: SweepOptions,
    /// YARA rule files, or directories of them, besides the store's indicators.
    pub rules: Vec<PathBuf>,
    /// IOC files or STIX bundles whose indicators are added.
    pub iocs: Vec<PathBuf>,
    /// Largest rule or IOC file read, for every kind; `None` for each kind's default.
    pub max_intel_size: Option<u64>,
    /// Leave the built-in pack's indicators out.
    pub no_builtin: bool,
    /// File the findings under this campaign.
    pub campaign: Option<String>,
    /// Move every file with a finding into this vault (victims' data excepted).
    pub quarantine_to: Option<PathBuf>,
    /// Where compiled rule sets are cached.
    pub cache_dir: Option<PathBuf>,
}

/// What the ruleset was built from, for the report.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Loaded {
    pub yara_files: usize,
    pub hashes: usize,
    pub names: usize,
    pub path_patterns: usize,
    pub registry_keys: usize,
    pub services: usize,
    pub passed_over: usize,
}

impl Loaded {
    fn count(&mut self, taken: Taken) {
        match taken {
            Taken::Yara => self.yara_files += 1,
            Taken::Hash => self.hashes += 1,
            Taken::Name => self.names += 1,
            Taken::PathPattern => self.path_patterns += 1,
            Taken::RegistryKey => self.registry_keys += 1,
            Taken::Service => self.services += 1,
            Taken::PassedOver => self.passed_over += 1,
        }
    }
}

/// A file moved into the vault.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Quarantined {
    pub path: String,
    pub id: String,
}

/// What a sweep found and did.
#[derive(Debug)]
pub struct SweepOutcome {
    pub hits: Vec<Hit>,
    pub summary: Summary,
    pub loaded: Loaded,
    /// New findings filed under the campaign, if one was given.
    pub stored: Option<usize>,
    pub quarantined: Vec<Quarantined>,
    /// Files that could not be quarantined, each with why.
    pub not_quarantined: Vec<(String, String)>,
    /// Stored indicators left out of this sweep, each with why.
    pub left_out: Vec<String>,
}

/// Sweeps as `request` says, as `user`; `progress` counts as it goes.
pub fn sweep(store: &Store, request: &SweepRequest, user: &str, progress: &Progress) -> Result<SweepOutcome, AppError> {
    if let Some(name) = &request.campaign {
        crate::require_campaign(store, name)?;
    }
    let (builder, loaded, left_out) = load_rules(store, request)?;
    let ruleset = builder.build()?;
    let (mut hits, summary) = takedown_sweep::sweep(&ruleset, &request.options, progress)?;
    tie_to_intel(store, &mut hits)?;
    let stored = match &request.campaign {
        Some(name) => Some(store.record_findings(name, &to_findings(name, &hits), user)?),
        None => None,
    };
    let (quarantined, not_quarantined) = match &request.quarantine_to {
        Some(dir) if !hits.is_empty() => quarantine_hits(store, user, &hits, dir)?,
        _ => (Vec::new(), Vec::new()),
    };
    Ok(SweepOutcome { hits, summary, loaded, stored, quarantined, not_quarantined, left_out })
}

fn load_rules(store: &Store, request: &SweepRequest) -> Result<(RulesetBuilder, Loaded, Vec<String>), AppError> {
    let mut builder = RulesetBuilder::new();
    builder.cache_dir(request.cache_dir.clone());
    let mut loaded = Loaded::default();
    let mut left_out = Vec::new();
    for object in store.current_objects(Some("indicator"))? {
        if request.no_builtin && object.source == builtin::PACK_SOURCE {
            continue;
        }
        let json: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&object.json)
            .map_err(|e| AppError::StoredObject { id: object.id.clone(), reason: e.to_string() })?;
        // A rule from a partner that would overflow the compiler's stack is left out,
        // not allowed to stop every sweep.
        if json.get("pattern_type").and_then(|t| t.as_str()) == Some("yara") {
            let text = json.get("pattern").and_then(|p| p.as_str()).unwrap_or_default();
            if let Err(e) = takedown_intel::yara::check_nesting(Path::new(&object.id), text) {
                left_out.push(format!("indicator {} ({}) left out of this sweep: {e}", object.id, object.source));
                continue;
            }
        }
        let taken = builder.add_indicator(&json).map_err(|e| AppError::StoredIndicator {
            id: object.id.clone(),
            source_name: object.source.clone(),
            reason: e.to_string(),
        })?;
        loaded.count(taken);
    }
    let limits = request.max_intel_size.map_or_else(read::Limits::default, read::Limits::all);
    let (files, _) = read::expand(&request.rules)?;
    for file in files {
        let text = read::read_yara(&file, &limits)?;
        let source = Source { indicator: None, name: file.display().to_string() };
        builder.add_yara(&file, &text, source)?;
        loaded.yara_files += 1;
    }
    for file in &request.iocs {
        let intel = read::read_file(file, &limits)?;
        for object in intel.objects.iter().filter(|o| o.type_ == "indicator") {
            loaded.count(builder.add_indicator(&object.json)?);
        }
    }
    Ok((builder, loaded, left_out))
}

/// Fills in the groups and malware the intel ties each hit's indicator to.
fn tie_to_intel(store: &Store, hits: &mut [Hit]) -> Result<(), AppError> {
    let lookup = StoreLookup(store);
    let mut cache: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for hit in hits.iter_mut() {
        let Some(id) = hit.indicator.clone() else { continue };
        if !cache.contains_key(&id) {
            let mut groups = BTreeSet::new();
            let mut malware = BTreeSet::new();
            for chain in knowledge::why(&lookup, &id)? {
                for link in &chain.links {
                    match link.to.type_.as_str() {
                        "intrusion-set" | "threat-actor" => {
                            groups.insert(link.to.name.clone());
                        }
                        "malware" | "tool" => {
                            malware.insert(link.to.name.clone());
                        }
                        _ => {}
                    }
                    groups.extend(link.then.iter().map(|l| l.to.name.clone()));
                }
            }
            cache.insert(id.clone(), (groups, malware));
        }
        if let Some((groups, malware)) = cache.get(&id) {
            hit.groups = groups.iter().cloned().collect();
            let mut all: BTreeSet<String> = hit.malware.drain(..).collect();
            all.extend(malware.iter().cloned());
            hit.malware = all.into_iter().collect();
        }
    }
    // Artefacts and rules that name their malware but no indicator: the groups
    // the intel says use that malware.
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for hit in hits.iter_mut().filter(|h| h.groups.is_empty() && !h.malware.is_empty()) {
        let mut groups = BTreeSet::new();
        for name in &hit.malware {
            if !users.contains_key(name) {
                let found = match knowledge::profile(&lookup, name)? {
                    Some(p) if p.type_ == "malware" || p.type_ == "tool" => p
                        .related
                        .iter()
                        .filter(|e| e.type_ == "intrusion-set" || e.type_ == "threat-actor")
                        .map(|e| e.name.clone())
                        .collect(),
                    _ => Vec::new(),
                };
                users.insert(name.clone(), found);
            }
            groups.extend(users.get(name).into_iter().flatten().cloned());
        }
        hit.groups = groups.into_iter().collect();
    }
    Ok(())
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty())
}

/// Hits as findings. Ids follow from what was seen, so a second sweep of the same
/// files files nothing new.
pub fn to_findings(campaign: &str, hits: &[Hit]) -> Vec<Finding> {
    let host = host_name();
    let now = chrono::Utc::now();
    hits.iter()
        .map(|h| {
            // Filed whole, so that `takedown run` from any folder finds the file.
            let path = std::path::absolute(&h.path).map(|p| p.display().to_string()).unwrap_or_else(|_| h.path.clone());
            let location = match &h.member {
                Some(m) => format!("{path}!{m}"),
                None => path,
            };
            let rule = h.rule.clone().unwrap_or_default();
            // A registry entry: the key, and the value when one matched.
            let entry = h.key.as_ref().map(|key| match &h.value {
                Some(v) => format!("{key}\\{v}"),
                None => key.clone(),
            });
            let mut key = format!("{campaign}|{}|{location}|{rule}|{}|{}", h.kind.as_str(), h.matched, h.sha256);
            if let Some(entry) = &entry {
                key = format!("{key}|{entry}");
            }
            let evidence = match h.kind {
                HitKind::Yara => Evidence::Yara {
                    rule: rule.clone(),
                    namespace: h.rule_file.clone().unwrap_or_default(),
                    strings: h
                        .strings
                        .iter()
                        .map(|s| StringMatch { identifier: s.identifier.clone(), offset: s.offset, length: s.length })
                        .collect(),
                },
                HitKind::Hash => {
                    let (algorithm, value) = h.matched.split_once(' ').unwrap_or(("", &h.matched));
                    Evidence::Hash { algorithm: algorithm.into(), value: value.into() }
                }
                HitKind::Filename => Evidence::Name { pattern: h.matched.clone() },
                HitKind::Artefact => Evidence::Note { text: h.matched.clone() },
                HitKind::Registry => Evidence::Registry { matched: h.matched.clone(), data: h.data.clone() },
            };
            let sha256 = (!h.sha256.is_empty()).then(|| h.sha256.clone());
            let (subject, location) = match (&h.key, &entry) {
                (Some(key), Some(entry)) => {
                    let subject = Subject::Registry {
                        host: host.clone(),
                        hive: location.clone(),
                        key: key.clone(),
                        value: h.value.clone(),
                        sha256,
                    };
                    (subject, format!("{location} {entry}"))
                }
                _ => (Subject::File { host: host.clone(), path: location.clone(), sha256 }, location),
            };
            Finding {
                id: ids::stable_id("sighting", &key),
                campaign: Some(campaign.to_string()),
                subject,
                indicator: h.indicator.clone(),
                detector: format!("sweep.{}", h.kind.as_str()),
                summary: format!(
                    "{} {}: {}",
                    h.kind.as_str(),
                    if rule.is_empty() { &h.matched } else { &rule },
                    location
                ),
                evidence: vec![evidence],
                observed_at: now,
                tlp: None,
            }
        })
        .collect()
}

/// Artefacts that are the victims' own data: never moved.
fn is_victim_data(h: &Hit) -> bool {
    h.kind == HitKind::Artefact
        && matches!(h.rule.as_deref(), Some("wannacry-encrypted-file" | "wannacry-partial-file" | "data-loss"))
}

type Moved = (Vec<Quarantined>, Vec<(String, String)>);

/// Moves every file with a finding into the vault at `dir`, recording each step in
/// the audit trail; returns what was moved and the files that could not be, with why.
fn quarantine_hits(store: &Store, user: &str, hits: &[Hit], dir: &Path) -> Result<Moved, AppError> {
    let vault = Vault::open(dir)?;
    // By the file as the system names it: a path shown as text may not be one. Never
    // moved: the victims' own data, and registry hives (their entries are what is
    // cleaned; without the hive Windows does not start).
    let kept: BTreeSet<&Path> =
        hits.iter().filter(|h| is_victim_data(h) || h.kind == HitKind::Registry).map(|h| h.file.as_path()).collect();
    let mut by_file: BTreeMap<&Path, Vec<&Hit>> = BTreeMap::new();
    for h in hits.iter().filter(|h| !kept.contains(h.file.as_path())) {
        by_file.entry(h.file.as_path()).or_default().push(h);
    }
    let mut failed = Vec::new();
    let mut moved = Vec::new();
    for (file, why) in by_file {
        let path = why.first().map(|h| h.path.as_str()).unwrap_or_default();
        let reason = serde_json::to_value(&why).map_err(|e| AppError::Serialise(e.to_string()))?;
        match crate::vault::audited(store, user, |on_step| vault.quarantine(file, reason, on_step))? {
            Ok(item) => moved.push(Quarantined { path: path.to_string(), id: item.id }),
            Err(e) => failed.push((path.to_string(), e.to_string())),
        }
    }
    Ok((moved, failed))
}
