//! The real people a group's fake accounts reached: who, with which fakes, since when,
//! and how strongly — the list that notifications are sent from.

use crate::graph::{Graph, Node};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Exposed {
    pub id: String,
    /// The fake accounts this person is connected to, sorted.
    pub fakes: Vec<String>,
    /// Share of this person's connections that are fake: how much of what they see
    /// the group controls.
    pub fake_fraction: f64,
    pub degree: usize,
    /// Earliest request time from the edge file's third column, if given.
    pub first_contact: Option<i64>,
    /// How many of the fakes sent the request (fourth column), if known.
    pub requests_from_fakes: Option<usize>,
    /// With a ranking ([`exposed_ranked`]): this person's margin below the fake cut
    /// times their fake friends' margins above it, from 0 up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strength: Option<f64>,
}

/// Everyone not in `fake` with at least one fake neighbour, most exposed first: more
/// fakes, then a larger fake share, then id.
pub fn exposed(graph: &Graph, fake: &[bool]) -> Vec<Exposed> {
    let mut out = Vec::new();
    for v in 0..graph.node_count() as Node {
        if fake[v as usize] {
            continue;
        }
        let range = graph.entry_range(v);
        let mut fakes = Vec::new();
        let mut first: Option<i64> = None;
        let mut from_fakes: Option<usize> = None;
        for (e, &u) in range.zip(graph.neighbours(v)) {
            if !fake[u as usize] {
                continue;
            }
            fakes.push(graph.id(u).to_string());
            if let Some(t) = graph.time(e) {
                first = Some(first.map_or(t, |f| f.min(t)));
            }
            if let Some(row_sent) = graph.row_sent(e) {
                *from_fakes.get_or_insert(0) += usize::from(!row_sent);
            }
        }
        if fakes.is_empty() {
            continue;
        }
        fakes.sort();
        let degree = graph.degree(v);
        out.push(Exposed {
            id: graph.id(v).to_string(),
            fake_fraction: fakes.len() as f64 / degree as f64,
            fakes,
            degree,
            first_contact: first,
            requests_from_fakes: from_fakes,
            strength: None,
        });
    }
    out.sort_by(|a, b| {
        b.fakes
            .len()
            .cmp(&a.fakes.len())
            .then(b.fake_fraction.total_cmp(&a.fake_fraction))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// [`exposed`] for fakes judged from a ranking, ordered by the strength of each
/// person's ties to them instead of their number.
///
/// A count alone puts first the fakes the ranking missed: they sit among many judged
/// fakes (their own group) and list as heavily "exposed". How far each account ranks
/// from the cut between judged fake and not says how sure that judgement is. With `q`
/// an account's ranking percentile (1 = most likely fake; method-independent, where
/// raw scores are not) and `c` the cut (the share of accounts judged fake, as a
/// percentile), a person's strength is their margin below the cut times the summed
/// margins of their judged-fake friends above it:
/// `(c − q_v)/c · Σ_u (q_u − c)/(1 − c)`. A fake the ranking just missed has almost
/// no margin and drops down the list whatever its number of fake friends. Measured
/// with `takedown accounts eval` (10 repetitions, triad), the share of victims among
/// the first listed went from 0.952 to 0.977 at g = 100 and did not change at larger g
/// (BENCHMARKS.md). Ties by count, fake share, then id.
pub fn exposed_ranked(graph: &Graph, fake: &[bool], scores: &[f64]) -> Vec<Exposed> {
    let n = graph.node_count();
    let mut q = vec![0.0f64; n];
    let order = crate::order(graph, scores);
    let last = n.saturating_sub(1).max(1) as f64;
    for (pos, &v) in order.iter().enumerate() {
        q[v as usize] = 1.0 - pos as f64 / last;
    }
    // The cut: the share of accounts judged fake, read as a percentile.
    let cut = 1.0 - fake.iter().filter(|&&f| f).count() as f64 / n.max(1) as f64;
    let below = |q: f64| ((cut - q) / cut.max(f64::EPSILON)).max(0.0);
    let above = |q: f64| ((q - cut) / (1.0 - cut).max(f64::EPSILON)).clamp(0.0, 1.0);
    let mut out = exposed(graph, fake);
    for e in &mut out {
        let Some(v) = graph.node(&e.id) else { continue };
        let ties: f64 = graph.neighbours(v).iter().filter(|&&u| fake[u as usize]).map(|&u| above(q[u as usize])).sum();
        e.strength = Some(below(q[v as usize]) * ties);
    }
    // `out` is already by count, fake share, then id: a stable sort keeps that for ties.
    out.sort_by(|a, b| b.strength.unwrap_or(0.0).total_cmp(&a.strength.unwrap_or(0.0)));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::Path;

    #[test]
    fn most_exposed_first_with_times() {
        let (g, _) = Graph::from_bytes(
            b"f1 alice 100 f1\nf2 alice 90 f2\nf1 bob 50 bob\nalice bob\nbob carol\nf3 carol 20\n",
            Path::new("e"),
        )
        .unwrap();
        let mut fake = vec![false; g.node_count()];
        fake[g.node("f1").unwrap() as usize] = true;
        fake[g.node("f2").unwrap() as usize] = true;
        fake[g.node("f3").unwrap() as usize] = true;
        let e = exposed(&g, &fake);
        assert_eq!(e.len(), 3);
        let carol = e.iter().find(|x| x.id == "carol").unwrap();
        assert_eq!(carol.requests_from_fakes, None, "sender not given");
        let e: Vec<_> = e.into_iter().filter(|x| x.id != "carol").collect();
        assert_eq!(e[0].id, "alice");
        assert_eq!(e[0].fakes, ["f1", "f2"]);
        assert_eq!(e[0].first_contact, Some(90));
        assert_eq!(e[0].requests_from_fakes, Some(2));
        assert_eq!(e[1].id, "bob");
        assert_eq!(e[1].requests_from_fakes, Some(0));
    }

    #[test]
    fn a_missed_fake_among_fakes_ranks_below_a_real_victim() {
        // f1, f2, f3 judged fake; m is a fake the ranking missed (scored just under
        // them) with three fake friends; alice is clearly real with one fake friend.
        let (g, _) = Graph::from_bytes(b"f1 m\nf2 m\nf3 m\nf1 alice\nalice bob\nbob carol\n", Path::new("e")).unwrap();
        let mut fake = vec![false; g.node_count()];
        let mut scores = vec![0.0; g.node_count()];
        for (id, s) in
            [("f1", 0.9), ("f2", 0.9), ("f3", 0.9), ("m", 0.8), ("alice", 0.1), ("bob", 0.05), ("carol", 0.0)]
        {
            scores[g.node(id).unwrap() as usize] = s;
        }
        for id in ["f1", "f2", "f3"] {
            fake[g.node(id).unwrap() as usize] = true;
        }
        assert_eq!(exposed(&g, &fake)[0].id, "m", "by count the missed fake comes first");
        let ranked = exposed_ranked(&g, &fake, &scores);
        assert_eq!(ranked.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["alice", "m"]);
        assert!(ranked[0].strength.unwrap() > ranked[1].strength.unwrap());
    }
}
