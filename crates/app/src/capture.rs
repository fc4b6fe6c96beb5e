//! Captures: read pcap/pcapng files into a verdict per host, and file the attack
//! roles (attacker, exploited, implanted, vulnerable) as findings under a campaign.

use crate::AppError;
use std::collections::BTreeSet;
use std::io::BufReader;
use std::path::PathBuf;
use takedown_intel::ids;
use takedown_model::{Evidence, Finding, Subject};
use takedown_net::{Analyzer, Options, Report};
use takedown_store::Store;

/// Reads every file before anything is filed: a bad file stops the run with nothing
/// half-written.
pub fn analyze_files(files: &[PathBuf], options: Options) -> Result<Report, AppError> {
    let mut analyzer = Analyzer::new(options);
    for path in files {
        let file = std::fs::File::open(path).map_err(|source| AppError::OpenCapture { path: path.clone(), source })?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(AppError::CaptureIsDirectory(path.clone()));
        }
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        analyzer.read(&name, BufReader::with_capacity(1 << 20, file))?;
    }
    Ok(analyzer.finish())
}

/// What the analyser needs from the intel: the kill-switch domains among the stored
/// indicators (the built-in pack marks them with `x_takedown_kill_switch`).
pub fn options(store: &Store) -> Result<Options, AppError> {
    Ok(Options { kill_switch_domains: kill_switch_domains(store)? })
}

/// The kill-switch domains, read from their indicators' STIX patterns, sorted.
pub fn kill_switch_domains(store: &Store) -> Result<Vec<String>, AppError> {
    let mut domains = BTreeSet::new();
    for object in store.current_objects(Some("indicator"))? {
        let json: serde_json::Value = serde_json::from_str(&object.json)
            .map_err(|e| AppError::StoredObject { id: object.id.clone(), reason: e.to_string() })?;
        if json.get("x_takedown_kill_switch").and_then(|v| v.as_bool()) != Some(true) {
            continue;
        }
        let Some(pattern) = json.get("pattern").and_then(|v| v.as_str()) else { continue };
        domains.extend(pattern_domains(pattern));
    }
    Ok(domains.into_iter().collect())
}

/// `[domain-name:value = 'a.example'] OR [domain-name:value = 'b.example']` → the names,
/// read with the intel crate's pattern parser; a pattern it refuses names none.
fn pattern_domains(pattern: &str) -> Vec<String> {
    use takedown_intel::pattern::{CompareOp, Constant, PathStep, Test};
    let Ok(parsed) = takedown_intel::pattern::parse(pattern) else { return Vec::new() };
    parsed
        .comparisons()
        .into_iter()
        .filter_map(|c| match (&c.path.object_type[..], &c.path.steps[..], c.negated, &c.test) {
            ("domain-name", [PathStep::Key(k)], false, Test::Compare(CompareOp::Eq, Constant::String(v)))
                if k == "value" =>
            {
                Some(v.trim_end_matches('.').to_ascii_lowercase())
            }
            _ => None,
        })
        .collect()
}

/// Files the report's attack roles under `campaign`; returns how many were new.
/// Ids follow from what was seen, so reading the same capture again files nothing.
pub fn file(store: &Store, campaign: &str, report: &Report, who: &str) -> Result<usize, AppError> {
    Ok(store.record_findings(campaign, &findings(campaign, report), who)?)
}

/// One finding per piece of evidence that gave a host a role.
pub fn findings(campaign: &str, report: &Report) -> Vec<Finding> {
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    for host in &report.hosts {
        for e in host.evidence.iter().filter(|e| e.role.is_some()) {
            let role = e.role.map_or("", |r| r.as_str());
            let key = format!("{campaign}|{}|{}|{}|{}|{:?}", host.ip, role, e.detector, e.file, e.packets);
            let mut fields = e.fields.clone();
            fields.insert("role".into(), role.into());
            if let Some(peer) = e.peer {
                fields.insert("peer".into(), peer.to_string());
            }
            out.push(Finding {
                id: ids::stable_id("sighting", &key),
                campaign: Some(campaign.to_string()),
                subject: Subject::Endpoint { ip: host.ip.to_string(), port: None },
                indicator: None,
                detector: format!("net.{}", e.detector),
                summary: format!("{} {}: {}", host.ip, role, e.summary),
                evidence: vec![Evidence::Packets { file: e.file.clone(), numbers: e.packets.clone(), fields }],
                observed_at: now,
                tlp: None,
            });
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn domains_from_patterns() {
        assert_eq!(
            pattern_domains("[domain-name:value = 'A.example'] OR [domain-name:value='b.example.']"),
            ["a.example", "b.example"]
        );
        assert!(pattern_domains("[file:name = 'x']").is_empty());
        assert!(pattern_domains("[domain-name:value != 'c.example']").is_empty());
        assert!(pattern_domains("not a pattern").is_empty());
    }

    #[test]
    fn the_demo_capture_files_its_roles_once() {
        let dir = tempfile::tempdir().unwrap();
        let capture = dir.path().join("demo.pcap");
        std::fs::write(&capture, takedown_net::writer::demo_capture("kill.example").unwrap()).unwrap();
        let options = Options { kill_switch_domains: vec!["kill.example".into()] };
        let report = analyze_files(&[capture], options).unwrap();
        let found = findings("c", &report);
        assert!(found.iter().any(|f| f.detector == "net.eternalblue"), "{found:?}");
        assert!(found.iter().all(|f| f.campaign.as_deref() == Some("c")));
        let again = findings("c", &report);
        let ids = |v: &[Finding]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&found), ids(&again), "ids follow from what was seen");
    }

    #[test]
    fn a_folder_is_not_a_capture() {
        let dir = tempfile::tempdir().unwrap();
        let err = analyze_files(&[dir.path().to_path_buf()], Options::default()).unwrap_err();
        assert!(matches!(err, AppError::CaptureIsDirectory(_)), "{err}");
    }
}
