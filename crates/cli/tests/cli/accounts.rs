//! `takedown accounts` through the binary: the contract forms on small hand-made
//! graphs, bad input, and the evaluation on the shared corpus.
#![allow(clippy::unwrap_used)]

use crate::common::{corpus_file, json, takedown};
use std::path::Path;

/// Two friend circles of six, real `r0..r5` and fake `f0..f5`, each a clique, joined by
/// two friendships r4–f0 and r5–f1; plus a fake `f6` befriending `r3` only.
fn graph(dir: &Path) -> std::path::PathBuf {
    let mut s = String::from("# two circles\n");
    for side in ["r", "f"] {
        for a in 0..6 {
            for b in a + 1..6 {
                s.push_str(&format!("{side}{a} {side}{b}\n"));
            }
        }
    }
    s.push_str("r4 f0\nr5 f1\nf6 f2\nf6 f3\nf6 r3\n");
    let p = dir.join("edges.txt");
    std::fs::write(&p, s).unwrap();
    p
}

fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn rank_writes_every_account_fakes_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let edges = graph(dir.path());
    let fake = write(dir.path(), "fake.txt", b"f5\n");
    let real = write(dir.path(), "real.txt", b"r0 r1\n");
    let out = dir.path().join("scores.txt");
    for method in ["triad", "sybilscar", "sybilrank"] {
        let r = takedown(
            &db,
            &[
                "accounts",
                "rank",
                "--edges",
                edges.to_str().unwrap(),
                "--fake-seeds",
                &fake,
                "--real-seeds",
                &real,
                "--scores",
                out.to_str().unwrap(),
                "--method",
                method,
            ],
        );
        assert_eq!(r.code, 0, "{method}: {}", r.stderr);
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<(&str, f64)> = text
            .lines()
            .map(|l| {
                let (id, s) = l.split_once(' ').unwrap();
                (id, s.parse().unwrap())
            })
            .collect();
        assert_eq!(lines.len(), 13, "{method}: one line per account");
        assert!(lines.windows(2).all(|w| w[0].1 >= w[1].1), "{method}: sorted, highest first");
        let score = |id: &str| lines.iter().find(|l| l.0 == id).unwrap().1;
        for f in ["f0", "f2", "f3", "f4"] {
            for r in ["r1", "r2", "r3"] {
                assert!(score(f) > score(r), "{method}: {f} {} vs {r} {}", score(f), score(r));
            }
        }
        assert!(r.stdout.contains("path to known fake"), "{}", r.stdout);
    }
}

#[test]
fn rank_json_has_evidence_and_campaign_files_findings() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let edges = graph(dir.path());
    let fake = write(dir.path(), "fake.txt", b"f5 f4\n");
    let real = write(dir.path(), "real.txt", b"r0\nr1\n");
    let csv = write(dir.path(), "acc.csv", b"id,created,signup_ip,device\nf5,2017-01-01,10.9.9.9,d1\nf2,2017-01-02,10.9.9.9,d7\nr2,2016-03-03,192.0.2.7,d3\n");
    let out = dir.path().join("s.txt");
    let base = [
        "accounts",
        "rank",
        "--edges",
        edges.to_str().unwrap(),
        "--fake-seeds",
        &fake,
        "--real-seeds",
        &real,
        "--scores",
        out.to_str().unwrap(),
        "--accounts",
        &csv,
        "--top",
        "4",
    ];
    let r = takedown(&db, &[&["--output-format", "json"], &base[..]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    let top = v["top"].as_array().unwrap();
    assert_eq!(top.len(), 4);
    assert!(top.iter().all(|e| e["id"].as_str().unwrap().starts_with('f')), "{top:?}");
    let f2 = top.iter().find(|e| e["id"] == "f2").unwrap();
    assert_eq!(f2["shared"][0]["column"], "signup_ip");
    assert_eq!(f2["shared"][0]["fakes"][0], "f5");
    assert!(f2["fake_fraction"].as_f64().unwrap() > 0.5);

    // Unknown campaign: error before anything is written.
    std::fs::remove_file(&out).unwrap();
    let r = takedown(&db, &[&base[..], &["--campaign", "nope"]].concat());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no campaign named"), "{}", r.stderr);
    assert!(!out.exists());

    let c = takedown(&db, &["campaign", "create", "op"]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    let r = takedown(&db, &[&base[..], &["--campaign", "op"]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("4 new findings"), "{}", r.stdout);
    let again = takedown(&db, &[&base[..], &["--campaign", "op"]].concat());
    assert!(again.stdout.contains("0 new findings"), "same ranking files nothing new: {}", again.stdout);
}

#[test]
fn exposure_lists_real_people_most_exposed_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let edges =
        write(dir.path(), "e.txt", b"f1 alice 100 f1\nf2 alice 90 f2\nf1 bob 50\nalice bob\nbob carol\nf1 f2\n");
    let fake = write(dir.path(), "fake.txt", b"f1 f2 ghost\n");
    let r = takedown(&db, &["accounts", "exposure", "--edges", &edges, "--fake", &fake, "--output-format", "json"]);
    assert_eq!(r.code, 1, "people were exposed: {}", r.stderr);
    assert!(r.stderr.contains("ghost"), "missing id reported: {}", r.stderr);
    let v = json(&r.stdout);
    let list = v["exposed"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], "alice");
    assert_eq!(list[0]["fakes"], serde_json::json!(["f1", "f2"]));
    assert_eq!(list[0]["first_contact"], 90);
    assert_eq!(list[1]["id"], "bob");
    assert_eq!(list[1]["fakes"], serde_json::json!(["f1"]));
}

#[test]
fn ids_from_the_files_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let edges = write(dir.path(), "e.txt", b"f1 \x1b[2Jalice\nf1 bob\n");
    let fake = write(dir.path(), "fake.txt", b"f1 \x1b]0;ghost\x07\n");
    let r = takedown(&db, &["accounts", "exposure", "--edges", &edges, "--fake", &fake]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stdout.contains('\x1b') && !r.stderr.contains('\x1b'), "{:?}{:?}", r.stdout, r.stderr);
    assert!(r.stdout.contains("\\u{1b}[2Jalice"), "{:?}", r.stdout);
    assert!(r.stderr.contains("\\u{1b}]0;ghost\\u{7}"), "{:?}", r.stderr);
}

#[test]
fn exposure_orders_by_strength_with_scores() {
    // f1..f3 confirmed fake; m a fake they missed, with three fake friends, scored just
    // under them; alice clearly real with one fake friend.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let edges = write(dir.path(), "e.txt", b"f1 m\nf2 m\nf3 m\nf1 alice\nalice bob\nbob carol\n");
    let fake = write(dir.path(), "fake.txt", b"f1 f2 f3\n");
    let base = ["accounts", "exposure", "--edges", &edges, "--fake", &fake, "--output-format", "json"];
    let by_count = json(&takedown(&db, &base).stdout);
    assert_eq!(by_count["order"], "count");
    assert_eq!(by_count["exposed"][0]["id"], "m");
    let scores = write(dir.path(), "s.txt", b"f1 0.9\nf2 0.9\nf3 0.9\nm 0.8\nalice 0.1\nbob 0.05\ncarol 0\n");
    let r = takedown(&db, &[&base[..], &["--scores", &scores]].concat());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = json(&r.stdout);
    assert_eq!(v["order"], "strength");
    let ids: Vec<&str> = v["exposed"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["alice", "m"]);
    assert!(v["exposed"][0]["strength"].as_f64().unwrap() > v["exposed"][1]["strength"].as_f64().unwrap());
    // Scores of another graph: an error naming an unscored account, exit 2.
    let partial = write(dir.path(), "p.txt", b"f1 0.9\nm 0.8\n");
    let r = takedown(&db, &[&base[..], &["--scores", &partial]].concat());
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("have no score"), "{}", r.stderr);
    let bad = write(dir.path(), "b.txt", b"f1 high\n");
    let r = takedown(&db, &[&base[..], &["--scores", &bad]].concat());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("b.txt:1"), "{}", r.stderr);
}

#[test]
fn bad_input_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let out = dir.path().join("s.txt");
    let rank = |edges: &str, fake: &str, real: &str| {
        takedown(
            &db,
            &[
                "accounts",
                "rank",
                "--edges",
                edges,
                "--fake-seeds",
                fake,
                "--real-seeds",
                real,
                "--scores",
                out.to_str().unwrap(),
            ],
        )
    };
    let ok_edges = write(dir.path(), "ok.txt", b"a b\nb c\nc a\nc d\nd e\ne f\nf d\na a\nb a\n");
    let fake = write(dir.path(), "fake.txt", b"f zz\n");
    let real = write(dir.path(), "real.txt", b"a\n");

    // Self-loops, duplicates and unknown seed ids: warnings, not fatal.
    let r = rank(&ok_edges, &fake, &real);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("self-loop") && r.stderr.contains("line 8"), "{}", r.stderr);
    assert!(r.stderr.contains("duplicate"), "{}", r.stderr);
    assert!(r.stderr.contains("zz") && r.stderr.contains("not in the graph"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 6);
    std::fs::remove_file(&out).unwrap();

    // A seed in both lists.
    let both = write(dir.path(), "both.txt", b"a\n");
    let r = rank(&ok_edges, &both, &real);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("\"a\"") && r.stderr.contains("both"), "{}", r.stderr);
    assert!(!out.exists(), "nothing written");

    // Empty graph.
    let empty = write(dir.path(), "empty.txt", b"# nothing here\n\nx x\n");
    let r = rank(&empty, &fake, &real);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no edges"), "{}", r.stderr);

    // Non-UTF-8 line in the edges and in a seed file.
    let bin = write(dir.path(), "bin.txt", b"a b\nc \xff\xfe\n");
    let r = rank(&bin, &fake, &real);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bin.txt:2") && r.stderr.contains("UTF-8"), "{}", r.stderr);
    let bad_seed = write(dir.path(), "badseed.txt", b"f\n\xc3\x28\n");
    let r = rank(&ok_edges, &bad_seed, &real);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("badseed.txt:2"), "{}", r.stderr);

    // A line with one id.
    let one = write(dir.path(), "one.txt", b"a b\nlonely\n");
    let r = rank(&one, &fake, &real);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("one.txt:2") && r.stderr.contains("two account ids"), "{}", r.stderr);
    assert!(!r.stderr.contains("commas"), "{}", r.stderr);
    // A CSV export: the way out is named.
    let csv = write(dir.path(), "e.csv", b"src,dst\na,b\n");
    let r = rank(&csv, &fake, &real);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("e.csv:1") && r.stderr.contains("not commas"), "{}", r.stderr);

    // No real seed in the graph at all.
    let nobody_fake = write(dir.path(), "nf.txt", b"q1\n");
    let nobody_real = write(dir.path(), "nr.txt", b"q2\n");
    let r = rank(&ok_edges, &nobody_fake, &nobody_real);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no real seeds"), "{}", r.stderr);

    // Unknown method.
    let r = takedown(
        &db,
        &[
            "accounts",
            "rank",
            "--edges",
            &ok_edges,
            "--fake-seeds",
            &fake,
            "--real-seeds",
            &real,
            "--scores",
            out.to_str().unwrap(),
            "--method",
            "pagerank",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("sybilrank, sybilscar, triad"), "{}", r.stderr);
    assert!(!out.exists());
}

#[test]
fn eval_on_the_shared_corpus_beats_the_baselines() {
    let Some(edges) = corpus_file("graphs/ego-facebook/facebook_combined.txt") else { return };
    let Some(labelled) = corpus_file("graphs/sybil-facebook/graph.txt") else { return };
    let dir = tempfile::tempdir().unwrap();
    let r = takedown(
        &dir.path().join("t.db"),
        &[
            "--output-format",
            "json",
            "accounts",
            "eval",
            "--edges",
            edges.to_str().unwrap(),
            "--attack-edges",
            "10000",
            "--repetitions",
            "2",
            "--labelled",
            labelled.parent().unwrap().to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    let methods = v["settings"][0]["methods"].as_array().unwrap();
    let auc = |name: &str| methods.iter().find(|m| m["method"] == name).unwrap()["auc_mean"].as_f64().unwrap();
    assert!(auc("triad") > 0.97, "{v}");
    assert!(auc("triad") > auc("sybilscar") && auc("triad") > auc("sybilrank"), "{v}");
    let lab = v["labelled"].as_array().unwrap();
    let triad = lab.iter().find(|m| m[0] == "triad").unwrap()[1].as_f64().unwrap();
    assert!(triad > 0.9, "{v}");
}
