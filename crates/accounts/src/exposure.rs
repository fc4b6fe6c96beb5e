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
    /// With a ranking ([`exposed_ranked`]): how likely this person is real times the
    /// summed likelihood that each of their listed friends is fake, from 0 up.
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
/// fakes (their own group) and list as heavily "exposed". Each person's place in the
/// ranking says how likely they are fake themselves, and each friend's place how
/// likely the friend is. With `q` an account's ranking percentile (1 = most likely
/// fake, 0 = least; method-independent, where raw scores are not), the strength is
/// `(1 − q_v) · Σ_{u judged fake} q_u`: the expected number of real-to-fake ties if the
/// percentiles were probabilities. Ties by count, fake share, then id.
pub fn exposed_ranked(graph: &Graph, fake: &[bool], scores: &[f64]) -> Vec<Exposed> {
    let n = graph.node_count();
    let mut q = vec![0.0f64; n];
    let order = crate::order(graph, scores);
    let last = n.saturating_sub(1).max(1) as f64;
    for (pos, &v) in order.iter().enumerate() {
        q[v as usize] = 1.0 - pos as f64 / last;
    }
    let mut out = exposed(graph, fake);
    for e in &mut out {
        let Some(v) = graph.node(&e.id) else { continue };
        let ties: f64 = graph.neighbours(v).iter().filter(|&&u| fake[u as usize]).map(|&u| q[u as usize]).sum();
        e.strength = Some((1.0 - q[v as usize]) * ties);
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
}
