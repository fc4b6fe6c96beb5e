//! The accounts step of `takedown demo`: a small generated network with a planted
//! group of fake profiles befriending real people; rank it, explain the top, and list
//! the people to warn.

use crate::output::Style;
use crate::{outln, Context};
use std::path::Path;
use takedown_accounts::eval::Rng;
use takedown_accounts::{evidence, exposure, Graph, Method, Seeds};
use takedown_model::Subject;

/// Real people in friend circles, fakes in one tight group.
const CIRCLES: usize = 8;
const CIRCLE: usize = 12;
const FAKES: usize = 10;
/// Each fake befriends this many real people, chosen at random.
const REACH: usize = 3;

/// The network: `person-NN` real, `profile-NN` fake; a fixed RNG seed so that the
/// demo reads the same every time.
pub fn network() -> (Vec<(String, String)>, Vec<String>) {
    let mut rng = Rng::new(2017);
    let mut pairs = Vec::new();
    let person = |i: usize| format!("person-{i:02}");
    let profile = |i: usize| format!("profile-{i:02}");
    for c in 0..CIRCLES {
        let base = c * CIRCLE;
        for a in 0..CIRCLE {
            for b in a + 1..CIRCLE {
                // Friend circles are dense but not complete.
                if rng.below(10) < 6 {
                    pairs.push((person(base + a), person(base + b)));
                }
            }
        }
        // Friendships between circles.
        for _ in 0..CIRCLE {
            let other = rng.below((CIRCLES * CIRCLE) as u64) as usize;
            pairs.push((person(base + rng.below(CIRCLE as u64) as usize), person(other)));
        }
    }
    for a in 0..FAKES {
        for b in a + 1..FAKES {
            if rng.below(10) < 7 {
                pairs.push((profile(a), profile(b)));
            }
        }
    }
    let mut targets = Vec::new();
    for f in 0..FAKES {
        for _ in 0..REACH {
            let t = person(rng.below((CIRCLES * CIRCLE) as u64) as usize);
            pairs.push((profile(f), t.clone()));
            targets.push(t);
        }
    }
    targets.sort();
    targets.dedup();
    (pairs, targets)
}

/// Ranks the network, files the known fakes, the ranking and the people they reached
/// under `campaign`, as `accounts rank --campaign` and `accounts exposure --campaign` do.
pub fn step(ctx: &Context, db: &Path, campaign: &str) -> anyhow::Result<()> {
    let style = Style::stdout();
    let (pairs, targets) = network();
    let g = Graph::from_pairs(&pairs)?;
    let fake_seeds = vec!["profile-00".to_string(), "profile-01".to_string()];
    // One known real person in each friend circle, as an investigator would pick them.
    let real_seeds: Vec<String> = (0..CIRCLES).map(|c| format!("person-{:02}", c * CIRCLE + 5)).collect();
    let seeds = Seeds::resolve(&g, &fake_seeds, &real_seeds)?;
    outln!("{}", style.bold(&format!("$ takedown accounts rank --campaign {campaign} --edges friends.txt --fake-seeds fake.txt --real-seeds real.txt --scores scores.txt")));
    outln!(
        "A generated network: {} people in {CIRCLES} friend circles and a planted group of {FAKES} fake profiles, \
         each befriending {REACH} people ({} accounts, {} friendships).",
        CIRCLES * CIRCLE,
        g.node_count(),
        g.edge_count()
    );
    outln!("Known fakes: {}; known real: {}.", fake_seeds.join(", "), real_seeds.join(", "));
    let scores = Method::Triad.rank(&g, &seeds);
    let order = takedown_accounts::order(&g, &scores);
    let labels = seeds.labels(g.node_count());
    // Judged fake: the accounts above the largest drop in score within the first
    // quarter of the ranking, where a group separates from the people it befriended.
    let ranked: Vec<f64> = order.iter().filter(|&&v| labels[v as usize] == 0).map(|&v| scores[v as usize]).collect();
    let judged = (1..ranked.len() / 4)
        .max_by(|&a, &b| (ranked[a - 1] - ranked[a]).total_cmp(&(ranked[b - 1] - ranked[b])).then(b.cmp(&a)))
        .unwrap_or(0);
    let top = evidence::explain(&g, &scores, &order, &seeds.fake, &labels, judged, judged + 3, None);
    for (i, e) in top.iter().enumerate() {
        let verdict = if i < judged { "judged fake" } else { "below the cut" };
        outln!(
            "  {:>2}. {:<11} {verdict}, score {:.3}; {} of {} friends fake; path {}",
            e.rank,
            e.id,
            e.score,
            e.fake_neighbours,
            e.degree,
            e.path_to_fake_seed.join(" — ")
        );
    }
    let mut fake = vec![false; g.node_count()];
    for &v in seeds.fake.iter().chain(order.iter().filter(|&&v| labels[v as usize] == 0).take(judged)) {
        fake[v as usize] = true;
    }
    let planted = top.iter().take(judged).filter(|e| e.id.starts_with("profile-")).count();
    outln!(
        "{judged} judged fake, {planted} of them among the {} planted fakes that were not known.",
        FAKES - fake_seeds.len()
    );
    outln!();
    outln!(
        "{}",
        style
            .bold(&format!("$ takedown accounts exposure --campaign {campaign} --edges friends.txt --fake judged.txt"))
    );
    let list = exposure::exposed(&g, &fake);
    outln!("People to warn, most exposed first:");
    for e in &list {
        outln!("  {:<10} befriended by {}", e.id, e.fakes.join(", "));
    }
    let reached = list.iter().filter(|e| targets.binary_search(&e.id).is_ok()).count();
    outln!("{reached} of the {} real people the group befriended are on the list.", targets.len());
    let store = takedown_store::Store::open(db)?;
    let mut findings = takedown_app::accounts::seed_findings(campaign, &fake_seeds);
    let ranked = takedown_app::accounts::rank_findings(campaign, Method::Triad, &top);
    // The analyst confirms the accounts above the cut: those are the ones to disable.
    findings.extend(
        ranked
            .iter()
            .take(judged)
            .map(|f| takedown_app::accounts::judged_finding(campaign, f, "ranked fake and confirmed by an analyst")),
    );
    findings.extend(ranked);
    let mut people = takedown_app::accounts::exposure_findings(campaign, &list);
    for f in &mut people {
        // A generated network has no addresses; the notices need one each.
        if let Subject::Person { id, email } = &mut f.subject {
            *email = Some(format!("{id}@example.org"));
        }
    }
    findings.extend(people);
    let n = store.record_findings(campaign, &findings, &ctx.user)?;
    outln!("{n} findings filed under the campaign {campaign}: known fakes, ranked accounts, people reached.");
    Ok(())
}
