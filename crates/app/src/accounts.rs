//! Accounts: rank a social graph from a few known fakes and real accounts, explain the
//! top of the ranking, list the real people the fakes reached, and file both under a
//! campaign.

use crate::AppError;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use takedown_accounts::attributes::Attributes;
use takedown_accounts::evidence::{self, AccountEvidence};
use takedown_accounts::exposure::{self, Exposed};
use takedown_accounts::{Graph, Method, Seeds};
use takedown_model::{Evidence, Finding, Subject};
use takedown_store::Store;

/// A ranking: every account's score, the accounts in rank order, and the evidence
/// for the top accounts that are not seeds.
#[derive(Debug, Clone)]
pub struct Ranking {
    pub method: Method,
    pub scores: Vec<f64>,
    pub order: Vec<u32>,
    pub top: Vec<AccountEvidence>,
}

/// Ranks `graph` from `seeds` and explains the first `top` accounts that are not seeds.
pub fn rank(graph: &Graph, seeds: &Seeds, method: Method, attributes: Option<&Attributes>, top: usize) -> Ranking {
    let scores = method.rank(graph, seeds);
    let order = takedown_accounts::order(graph, &scores);
    let labels = seeds.labels(graph.node_count());
    let top = evidence::explain(graph, &scores, &order, &seeds.fake, &labels, top, top, attributes);
    Ranking { method, scores, order, top }
}

/// Writes every account's score, highest first, to a temporary file beside `out` and
/// renames it, so that a failed run leaves no half-written scores.
pub fn write_scores(out: &Path, graph: &Graph, ranking: &Ranking) -> Result<(), AppError> {
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| AppError::Write { path, source }
    };
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(failed(dir))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        for &v in &ranking.order {
            writeln!(w, "{} {}", graph.id(v), ranking.scores[v as usize]).map_err(failed(out))?;
        }
        w.flush().map_err(failed(out))?;
    }
    tmp.persist(out).map_err(|e| AppError::Write { path: out.to_path_buf(), source: e.error })?;
    Ok(())
}

/// The real people connected to the fakes, most exposed first: by how many fakes
/// they befriended, or by the strength the scores give when there are scores.
pub fn exposed(graph: &Graph, fakes: &Seeds, scores: Option<&[f64]>) -> Vec<Exposed> {
    let mut fake = vec![false; graph.node_count()];
    for &f in &fakes.fake {
        fake[f as usize] = true;
    }
    match scores {
        Some(s) => exposure::exposed_ranked(graph, &fake, s),
        None => exposure::exposed(graph, &fake),
    }
}

/// Files the ranked accounts under `campaign`; returns how many were new.
pub fn file_ranking(store: &Store, campaign: &str, ranking: &Ranking, who: &str) -> Result<usize, AppError> {
    Ok(store.record_findings(campaign, &rank_findings(campaign, ranking.method, &ranking.top), who)?)
}

/// Files the exposed people under `campaign`; returns how many were new.
pub fn file_exposure(store: &Store, campaign: &str, list: &[Exposed], who: &str) -> Result<usize, AppError> {
    Ok(store.record_findings(campaign, &exposure_findings(campaign, list), who)?)
}

/// One finding per ranked account, with the graph signals that ranked it.
pub fn rank_findings(campaign: &str, method: Method, top: &[AccountEvidence]) -> Vec<Finding> {
    let now = chrono::Utc::now();
    top.iter()
        .map(|e| {
            let mut signals = BTreeMap::new();
            signals.insert("score".to_string(), e.score);
            signals.insert("rank".to_string(), e.rank as f64);
            signals.insert("degree".to_string(), e.degree as f64);
            signals.insert("fake_neighbours".to_string(), e.fake_neighbours as f64);
            signals.insert("fake_fraction".to_string(), e.fake_fraction);
            let mut evidence =
                vec![Evidence::Graph { signals, seeds: e.path_to_fake_seed.last().cloned().into_iter().collect() }];
            if !e.path_to_fake_seed.is_empty() {
                evidence.push(Evidence::Note {
                    text: format!("path to known fake: {}", e.path_to_fake_seed.join(" — ")),
                });
            }
            for s in &e.shared {
                evidence.push(Evidence::Note {
                    text: format!("shares {} {} with known fake(s) {}", s.column, s.value, s.fakes.join(", ")),
                });
            }
            Finding {
                id: takedown_intel::ids::stable_id("sighting", &format!("{campaign}|accounts.rank|{}", e.id)),
                campaign: Some(campaign.to_string()),
                subject: Subject::Account { platform: None, id: e.id.clone() },
                indicator: None,
                detector: format!("accounts.rank.{}", method.name()),
                summary: format!("account {} ranked {} as likely fake ({})", e.id, e.rank, method.name()),
                evidence,
                observed_at: now,
                tlp: None,
            }
        })
        .collect()
}

/// One finding per exposed person, with the fakes that reached them.
pub fn exposure_findings(campaign: &str, list: &[Exposed]) -> Vec<Finding> {
    let now = chrono::Utc::now();
    list.iter()
        .map(|e| {
            let mut signals = BTreeMap::new();
            signals.insert("fake_friends".to_string(), e.fakes.len() as f64);
            signals.insert("fake_fraction".to_string(), e.fake_fraction);
            signals.insert("degree".to_string(), e.degree as f64);
            if let Some(t) = e.first_contact {
                signals.insert("first_contact".to_string(), t as f64);
            }
            Finding {
                id: takedown_intel::ids::stable_id("sighting", &format!("{campaign}|accounts.exposure|{}", e.id)),
                campaign: Some(campaign.to_string()),
                subject: Subject::Person { id: e.id.clone(), email: None },
                indicator: None,
                detector: "accounts.exposure".into(),
                summary: format!("{} is connected to {} fake account(s)", e.id, e.fakes.len()),
                evidence: vec![Evidence::Graph { signals, seeds: e.fakes.clone() }],
                observed_at: now,
                tlp: None,
            }
        })
        .collect()
}

/// The known fakes a ranking started from (partner intel), as findings.
pub fn seed_findings(campaign: &str, seeds: &[String]) -> Vec<Finding> {
    seeds
        .iter()
        .map(|id| Finding {
            id: takedown_intel::ids::stable_id("sighting", &format!("{campaign}|accounts.seed|{id}")),
            campaign: Some(campaign.to_string()),
            subject: Subject::Account { platform: None, id: id.clone() },
            indicator: None,
            detector: "accounts.seed".into(),
            summary: format!("{id} is a known fake profile (partner intel)"),
            evidence: Vec::new(),
            observed_at: chrono::Utc::now(),
            tlp: None,
        })
        .collect()
}

/// A ranked account an analyst looked at and judged fake: `how` says how it came
/// to be judged ("ranked fake and confirmed by an analyst"). Judged accounts are
/// what the plan proposes to disable.
pub fn judged_finding(campaign: &str, ranked: &Finding, how: &str) -> Finding {
    let key = takedown_store::subject_key(&ranked.subject);
    Finding {
        id: takedown_intel::ids::stable_id("sighting", &format!("{campaign}|accounts.judged|{key}")),
        detector: "accounts.judged".into(),
        summary: format!("{} {how}", key.trim_start_matches("account:")),
        evidence: Vec::new(),
        observed_at: chrono::Utc::now(),
        ..ranked.clone()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pairs(edges: &[(&str, &str)]) -> Vec<(String, String)> {
        edges.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn rank_explain_file_and_expose() {
        // Two fakes befriend each other and one real person, whose circle is real.
        let g = Graph::from_pairs(&pairs(&[
            ("f1", "f2"),
            ("f1", "f3"),
            ("f2", "f3"),
            ("f3", "p1"),
            ("p1", "p2"),
            ("p2", "p3"),
            ("p1", "p3"),
        ]))
        .unwrap();
        let seeds = Seeds::resolve(&g, &["f1".into()], &["p2".into()]).unwrap();
        let ranking = rank(&g, &seeds, Method::SybilRank, None, 3);
        assert_eq!(ranking.top[0].id, "f2", "{:?}", ranking.top);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("scores.txt");
        write_scores(&out, &g, &ranking).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), g.node_count());
        let fakes = Seeds::resolve(&g, &["f1".into(), "f2".into(), "f3".into()], &[]).unwrap();
        let list = exposed(&g, &fakes, None);
        assert_eq!(list.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["p1"]);
        let found = exposure_findings("c", &list);
        assert_eq!(found[0].detector, "accounts.exposure");
        assert_eq!(rank_findings("c", ranking.method, &ranking.top)[0].detector, "accounts.rank.sybilrank");
    }
}
