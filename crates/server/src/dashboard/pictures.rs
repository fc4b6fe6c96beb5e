//! The dashboard's pictures, as SVG written on the server: the hosts of capture
//! findings (attacker → victim) and the cluster of suspicious accounts around the
//! known fakes (the seeds) the ranking started from. Every SVG element is written with
//! an end tag: inline in HTML, `<line>` without one would hold what follows it.

use maud::{html, Markup};
use std::collections::{BTreeMap, BTreeSet};
use takedown_model::{Evidence, Finding, Subject};

/// Attacker → victim edges from capture findings (`net.*`): the finding's host and
/// the peer in its packet evidence, oriented by the host's role.
pub fn host_edges(findings: &[Finding]) -> BTreeSet<(String, String)> {
    let mut edges = BTreeSet::new();
    for f in findings.iter().filter(|f| f.detector.starts_with("net.")) {
        let Subject::Endpoint { ip, .. } = &f.subject else { continue };
        for e in &f.evidence {
            if let Evidence::Packets { fields, .. } = e {
                let (Some(role), Some(peer)) = (fields.get("role"), fields.get("peer")) else { continue };
                if role == "attacker" {
                    edges.insert((ip.clone(), peer.clone()));
                } else {
                    edges.insert((peer.clone(), ip.clone()));
                }
            }
        }
    }
    edges
}

/// The hosts on a circle, edges as arrows, attackers in red.
pub fn host_graph_svg(edges: &BTreeSet<(String, String)>) -> Markup {
    let nodes: BTreeSet<&String> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    let attackers: BTreeSet<&String> = edges.iter().map(|(a, _)| a).collect();
    let n = nodes.len().max(1) as f64;
    let (w, h, r) = (640.0, 420.0, 160.0);
    let pos: BTreeMap<&String, (f64, f64)> = nodes
        .iter()
        .enumerate()
        .map(|(i, ip)| {
            let a = std::f64::consts::TAU * i as f64 / n;
            (*ip, (w / 2.0 + r * a.cos(), h / 2.0 + r * a.sin()))
        })
        .collect();
    html! {
        svg id="hostgraph" xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) viewBox={ "0 0 " (w) " " (h) } {
            defs {
                marker id="arrow" viewBox="0 0 10 10" refX="18" refY="5" markerWidth="6" markerHeight="6"
                    orient="auto" {
                    path d="M0,0L10,5L0,10z" fill="#555" {}
                }
            }
            @for (a, b) in edges {
                @let ((x1, y1), (x2, y2)) = (pos[a], pos[b]);
                line x1=(fixed(x1, 0)) y1=(fixed(y1, 0)) x2=(fixed(x2, 0)) y2=(fixed(y2, 0)) stroke="#555"
                    marker-end="url(#arrow)" {}
            }
            @for (ip, (x, y)) in &pos {
                circle cx=(fixed(*x, 0)) cy=(fixed(*y, 0)) r="9"
                    fill=(if attackers.contains(ip) { "#c0392b" } else { "#2c7fb8" }) {}
                text x=(fixed(x + 12.0, 0)) y=(fixed(y + 4.0, 0)) font-size="12" { (ip) }
            }
        }
    }
}

/// A ranked account's rank, score and the seed its path leads to.
pub type Ranking = (u64, f64, Option<String>);

/// What `takedown accounts rank|exposure --campaign` filed: ranked accounts with the
/// seed their path leads to, and people with the fakes they are connected to.
#[derive(Debug, Default, PartialEq)]
pub struct AccountCluster {
    /// Known fakes: the seeds, and accounts a finding judged or confirmed fake.
    pub seeds: BTreeSet<String>,
    /// Ranked account → (rank, score, the seed its path leads to).
    pub ranked: BTreeMap<String, Ranking>,
    /// Person → the fake accounts they are connected to.
    pub exposed: BTreeMap<String, Vec<String>>,
}

impl AccountCluster {
    pub fn from_findings(findings: &[Finding]) -> AccountCluster {
        let mut c = AccountCluster::default();
        for f in findings.iter().filter(|f| f.detector.starts_with("accounts.")) {
            let graph = f.evidence.iter().find_map(|e| match e {
                Evidence::Graph { signals, seeds } => Some((signals, seeds)),
                _ => None,
            });
            match (&f.subject, graph) {
                (Subject::Account { id, .. }, Some((signals, seeds))) if f.detector.starts_with("accounts.rank") => {
                    let rank = signals.get("rank").copied().unwrap_or(f64::MAX).max(0.0) as u64;
                    let score = signals.get("score").copied().unwrap_or(0.0);
                    let seed = seeds.first().filter(|s| *s != id).cloned();
                    c.seeds.extend(seed.clone());
                    // The best rank wins when several methods ranked the account.
                    let e = c.ranked.entry(id.clone()).or_insert((rank, score, seed.clone()));
                    if rank < e.0 {
                        *e = (rank, score, seed);
                    }
                }
                (Subject::Person { id, .. }, Some((_, seeds))) => {
                    c.seeds.extend(seeds.iter().filter(|s| !c.ranked.contains_key(*s)).cloned());
                    c.exposed.entry(id.clone()).or_default().extend(seeds.iter().cloned());
                }
                (Subject::Account { id, .. }, _) => {
                    let d = f.detector.as_str();
                    if d.ends_with(".seed")
                        || d.ends_with(".fake")
                        || d.ends_with(".judged")
                        || d.ends_with(".confirmed")
                    {
                        c.seeds.insert(id.clone());
                    }
                }
                _ => {}
            }
        }
        // A ranked account named as a seed stays a seed in the picture.
        for s in &c.seeds {
            c.ranked.remove(s);
        }
        for fakes in c.exposed.values_mut() {
            fakes.sort();
            fakes.dedup();
        }
        c
    }

    pub fn is_empty(&self) -> bool {
        self.seeds.is_empty() && self.ranked.is_empty() && self.exposed.is_empty()
    }
}

/// At most this many ranked accounts and people are drawn; the rest are counted.
const MOST: usize = 36;

/// Rings: seeds in the middle, ranked accounts around them (the nearer the seed
/// they lead to, the nearer in angle), the people they reached outside.
pub fn accounts_svg(c: &AccountCluster) -> Markup {
    let seeds: Vec<&String> = c.seeds.iter().collect();
    // As tall as the outermost ring in use, plus room for labels and the legend.
    let outer = if !c.exposed.is_empty() {
        250.0
    } else if !c.ranked.is_empty() {
        170.0
    } else if seeds.len() > 1 {
        (30.0 + 8.0 * seeds.len() as f64).min(120.0)
    } else {
        0.0
    };
    let (w, h) = (760.0_f64, (2.0 * outer + 60.0).max(90.0));
    let (cx, cy) = (w / 2.0, h / 2.0);
    let seed_angle = |i: usize| std::f64::consts::TAU * i as f64 / seeds.len().max(1) as f64;
    let seed_index: BTreeMap<&String, usize> = seeds.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let mut pos: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    // Room for the seeds' labels: the ring grows with them.
    let r0 = if seeds.len() == 1 { 0.0 } else { (30.0 + 8.0 * seeds.len() as f64).min(120.0) };
    for (i, s) in seeds.iter().enumerate() {
        let a = seed_angle(i);
        pos.insert(s.as_str(), (cx + r0 * a.cos(), cy + r0 * a.sin()));
    }
    // Ranked accounts: best ranks first, ordered round the ring by their seed.
    let mut ranked: Vec<(&String, &Ranking)> = c.ranked.iter().collect();
    ranked.sort_by_key(|(id, (rank, _, _))| (*rank, (*id).clone()));
    let hidden_ranked = ranked.len().saturating_sub(MOST);
    ranked.truncate(MOST);
    // The ten best-ranked are labelled (ranks count the seeds too, so not rank ≤ 10).
    let labelled: BTreeSet<&str> = ranked.iter().take(10).map(|(id, _)| id.as_str()).collect();
    ranked.sort_by_key(|(id, (rank, _, seed))| {
        (seed.as_ref().and_then(|s| seed_index.get(s)).copied().unwrap_or(usize::MAX), *rank, (*id).clone())
    });
    let n = ranked.len().max(1) as f64;
    for (i, (id, _)) in ranked.iter().enumerate() {
        let a = std::f64::consts::TAU * i as f64 / n;
        pos.insert(id.as_str(), (cx + 170.0 * a.cos(), cy + 170.0 * a.sin()));
    }
    let mut people: Vec<(&String, &Vec<String>)> = c.exposed.iter().collect();
    people.sort_by_key(|(id, fakes)| (std::cmp::Reverse(fakes.len()), (*id).clone()));
    let hidden_people = people.len().saturating_sub(MOST);
    people.truncate(MOST);
    let n = people.len().max(1) as f64;
    for (i, (id, _)) in people.iter().enumerate() {
        let a = std::f64::consts::TAU * (i as f64 + 0.5) / n;
        pos.insert(id.as_str(), (cx + 250.0 * a.cos(), cy + 250.0 * a.sin()));
    }

    let line = |a: &str, b: &str, stroke: &str, opacity: &str, dash: Option<&str>| {
        let (Some((x1, y1)), Some((x2, y2))) = (pos.get(a), pos.get(b)) else { return html! {} };
        html! {
            line x1=(fixed(*x1, 0)) y1=(fixed(*y1, 0)) x2=(fixed(*x2, 0)) y2=(fixed(*y2, 0)) stroke=(stroke)
                stroke-opacity=(opacity) stroke-dasharray=[dash] {}
        }
    };
    let node = |id: &str, r: f64, fill: &str, title: String, label: bool| {
        let Some(&(x, y)) = pos.get(id) else { return html! {} };
        let anchor = if x < cx - 5.0 { "end" } else { "start" };
        let dx = if anchor == "end" { -(r + 3.0) } else { r + 3.0 };
        html! {
            g {
                title { (title) }
                circle cx=(fixed(x, 0)) cy=(fixed(y, 0)) r=(fixed(r, 1)) fill=(fill) stroke="#fff" {}
                @if label {
                    text x=(fixed(x + dx, 0)) y=(fixed(y + 4.0, 0)) text-anchor=(anchor) { (id) }
                }
            }
        }
    };
    let legend = [("#c0392b", "known fake (seed)"), ("#e67e22", "ranked likely fake"), ("#2c7fb8", "person reached")];
    html! {
        svg id="accountgraph" xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) viewBox={ "0 0 " (w) " " (h) }
            font-size="11" {
            @for (id, (_, _, seed)) in &ranked {
                @if let Some(s) = seed {
                    (line(id, s, "#e67e22", ".6", None))
                }
            }
            @for (id, fakes) in &people {
                @for f in fakes.iter() {
                    (line(id, f, "#2c7fb8", ".5", Some("4 3")))
                }
            }
            @for (id, fakes) in &people {
                (node(id, 5.0, "#2c7fb8", format!("{id}: connected to {} fake account(s)", fakes.len()), false))
            }
            @for (id, (rank, score, seed)) in &ranked {
                @let title = format!(
                    "{id}: ranked {rank}, score {score:.4}{}",
                    seed.as_deref().map(|s| format!(", path to known fake {s}")).unwrap_or_default()
                );
                // Every node has its details on hover.
                (node(id, 6.0, "#e67e22", title, labelled.contains(id.as_str())))
            }
            @for s in &seeds {
                (node(s, 9.0, "#c0392b", format!("{s}: known fake (seed)"), true))
            }
            @for (i, (fill, text)) in legend.iter().enumerate() {
                @let y = 16.0 + 16.0 * i as f64;
                circle cx="12" cy=(fixed(y, 0)) r="5" fill=(fill) {}
                text x="22" y=(fixed(y + 4.0, 0)) { (text) }
            }
            @if hidden_ranked + hidden_people > 0 {
                text x=(fixed(w - 8.0, 0)) y=(fixed(h - 8.0, 0)) text-anchor="end" {
                    "not drawn: " (hidden_ranked) " ranked account(s), " (hidden_people) " person(s)"
                }
            }
        }
    }
}

/// A coordinate or size with `places` decimals: what the pictures need, no more.
fn fixed(v: f64, places: usize) -> String {
    format!("{v:.places$}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn finding(detector: &str, subject: Subject, seeds: &[&str], rank: f64) -> Finding {
        let signals = [("rank".to_string(), rank), ("score".to_string(), 0.5)].into_iter().collect();
        Finding {
            id: format!("sighting--{detector}"),
            campaign: None,
            subject,
            indicator: None,
            detector: detector.into(),
            summary: String::new(),
            evidence: vec![Evidence::Graph { signals, seeds: seeds.iter().map(|s| s.to_string()).collect() }],
            observed_at: chrono::Utc::now(),
            tlp: None,
        }
    }

    #[test]
    fn the_cluster_is_read_from_rank_and_exposure_findings() {
        let acct = |id: &str| Subject::Account { platform: None, id: id.into() };
        let findings = vec![
            finding("accounts.rank.sybilrank", acct("a1"), &["s1"], 1.0),
            finding("accounts.rank.ppr", acct("a1"), &["s1"], 3.0),
            finding("accounts.rank.sybilrank", acct("a2"), &[], 2.0),
            finding("accounts.exposure", Subject::Person { id: "p1".into(), email: None }, &["a1", "s2"], 0.0),
            finding("net.smb1", Subject::Endpoint { ip: "10.0.0.1".into(), port: None }, &[], 0.0),
        ];
        let c = AccountCluster::from_findings(&findings);
        assert_eq!(c.seeds.iter().map(String::as_str).collect::<Vec<_>>(), ["s1", "s2"]);
        assert_eq!(c.ranked["a1"], (1, 0.5, Some("s1".into())));
        assert_eq!(c.ranked["a2"].2, None);
        assert_eq!(c.exposed["p1"], ["a1", "s2"]);
        let svg = accounts_svg(&c).into_string();
        assert_eq!(svg.matches("<circle").count(), 2 + 2 + 1 + 3, "nodes and the legend");
        // a1 → s1, p1 → a1 and p1 → s2.
        assert_eq!(svg.matches("<line").count(), 3);
    }
}
