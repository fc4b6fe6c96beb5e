//! Granular markings (STIX 2.1 §7.2.3): markings that apply to some of an object's
//! properties, named by selectors such as `description`, `labels.[1]` or
//! `external_references.[0].url`. Checked when an object comes in; applied when a
//! member reads: the properties under a TLP level the reader may not see are taken
//! out, or the whole object is withheld when what they cover cannot be taken out.

use serde_json::{Map, Value};
use takedown_model::Tlp;

/// One step of a selector: a property of an object, or an element of a list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Key(String),
    Index(usize),
}

/// `a.b.[1].c` as steps; `None` when it is not a selector. It starts at a property
/// of the object, never at the object itself.
fn parse(selector: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    for part in selector.split('.') {
        if let Some(inner) = part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            steps.push(Step::Index(inner.parse().ok()?));
        } else if !part.is_empty() && !part.contains(['[', ']']) {
            steps.push(Step::Key(part.to_string()));
        } else {
            return None;
        }
    }
    matches!(steps.first(), Some(Step::Key(_))).then_some(steps)
}

/// What `steps` selects in `obj`, if it is there.
fn resolve<'v>(obj: &'v Map<String, Value>, steps: &[Step]) -> Option<&'v Value> {
    let (Step::Key(first), rest) = steps.split_first()? else { return None };
    let mut at = obj.get(first)?;
    for step in rest {
        at = match (step, at) {
            (Step::Key(k), Value::Object(m)) => m.get(k)?,
            (Step::Index(i), Value::Array(items)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(at)
}

/// Checks an object's `granular_markings` (STIX 2.1 §7.2.3): a list of markings,
/// each with a non-empty list of selectors that name properties present in the
/// object, and either a `marking_ref` (a marking definition's id) or a `lang`.
pub fn check(obj: &Map<String, Value>, problems: &mut Vec<String>) {
    let Some(markings) = obj.get("granular_markings") else { return };
    let Some(markings) = markings.as_array() else {
        problems.push("granular_markings must be a list of markings".into());
        return;
    };
    for (i, marking) in markings.iter().enumerate() {
        let Some(marking) = marking.as_object() else {
            problems.push(format!("granular_markings[{i}] must be an object with selectors and a marking_ref"));
            continue;
        };
        match (marking.get("marking_ref"), marking.get("lang")) {
            (Some(Value::String(r)), None)
                if r.starts_with("marking-definition--") && crate::stix::is_stix_id(r) => {}
            (Some(r), None) => problems.push(format!(
                "granular_markings[{i}].marking_ref: {r} is not the id of a marking definition (marking-definition--UUID)"
            )),
            (None, Some(Value::String(_))) => {}
            (None, Some(l)) => problems.push(format!("granular_markings[{i}].lang: {l} must be a language tag")),
            (Some(_), Some(_)) => {
                problems.push(format!("granular_markings[{i}] has both marking_ref and lang; give one"))
            }
            (None, None) => problems.push(format!("granular_markings[{i}] has neither marking_ref nor lang")),
        }
        match marking.get("selectors") {
            Some(Value::Array(selectors)) if !selectors.is_empty() => {
                for s in selectors {
                    match s.as_str() {
                        Some(text) => match parse(text) {
                            Some(steps) if resolve(obj, &steps).is_some() => {}
                            Some(_) => problems.push(format!(
                                "granular_markings[{i}]: selector {} names nothing in the object",
                                crate::excerpt(text)
                            )),
                            None => problems.push(format!(
                                "granular_markings[{i}]: selector {} is not of the form property, \
                                 property.[index] or property.sub_property",
                                crate::excerpt(text)
                            )),
                        },
                        None => problems.push(format!("granular_markings[{i}]: selector {s} must be a string")),
                    }
                }
            }
            _ => problems.push(format!("granular_markings[{i}] needs a non-empty list of selectors")),
        }
    }
}

/// Properties an object cannot be shown without: the common ones of every STIX
/// object, the markings themselves (without them the rest would read as unmarked),
/// and what the object's type requires (STIX 2.1 §4–5).
fn required(type_: &str, obj: &Map<String, Value>, key: &str) -> bool {
    const COMMON: [&str; 7] =
        ["id", "type", "spec_version", "created", "modified", "object_marking_refs", "granular_markings"];
    if COMMON.contains(&key) {
        return true;
    }
    let of_type: &[&str] = match type_ {
        "indicator" => &["pattern", "pattern_type", "valid_from"],
        "relationship" => &["relationship_type", "source_ref", "target_ref"],
        "sighting" => &["sighting_of_ref"],
        "attack-pattern" | "campaign" | "course-of-action" | "identity" | "incident" | "infrastructure"
        | "intrusion-set" | "threat-actor" | "tool" | "vulnerability" => &["name"],
        "malware" if obj.get("is_family") == Some(&Value::Bool(true)) => &["name", "is_family"],
        "malware" => &["is_family"],
        "report" => &["name", "published", "object_refs"],
        "grouping" => &["context", "object_refs"],
        "note" => &["content", "object_refs"],
        "opinion" => &["opinion", "object_refs"],
        "observed-data" => &["first_observed", "last_observed", "number_observed"],
        "malware-analysis" => &["product"],
        "marking-definition" => &["definition_type", "definition"],
        _ => &[],
    };
    of_type.contains(&key)
}

/// What a reader is given of an object.
#[derive(Debug, Clone, PartialEq)]
pub enum Redaction {
    /// All of it: no granular marking hides anything from this reader.
    Whole,
    /// The object less the properties the reader may not see.
    Reduced(Map<String, Value>),
    /// Nothing: a hidden marking covers a property the object cannot do without.
    Withheld,
}

/// Applies `obj`'s granular TLP markings for a reader who may see the levels for
/// which `may_see` is true. Each hidden marking's selected properties are removed,
/// list elements from the highest index down, and the hidden markings dropped; the
/// selectors of the markings kept are renumbered to the list positions that remain,
/// so they still name what they named. Markings that are not TLP are kept as they
/// are: they restrict nothing here.
pub fn redact(obj: &Map<String, Value>, may_see: impl Fn(Tlp) -> bool) -> Redaction {
    let Some(Value::Array(markings)) = obj.get("granular_markings") else { return Redaction::Whole };
    let hidden = |m: &Value| {
        m.get("marking_ref").and_then(Value::as_str).and_then(Tlp::from_marking_id).is_some_and(|l| !may_see(l))
    };
    if !markings.iter().any(hidden) {
        return Redaction::Whole;
    }
    let selectors = |m: &Value| -> Vec<Vec<Step>> {
        m.get("selectors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(parse)
            .collect()
    };
    let mut removed: Vec<Vec<Step>> = markings.iter().filter(|m| hidden(m)).flat_map(selectors).collect();
    let type_ = obj.get("type").and_then(Value::as_str).unwrap_or("");
    if removed.iter().any(|steps| matches!(steps.first(), Some(Step::Key(k)) if required(type_, obj, k))) {
        return Redaction::Withheld;
    }
    // Highest first: a child before its parent, a later list element before an
    // earlier one, so each removal still finds what its selector named.
    removed.sort();
    removed.dedup();
    let mut out = obj.clone();
    for steps in removed.iter().rev() {
        remove(&mut out, steps);
    }
    let kept: Vec<Value> = markings
        .iter()
        .filter(|m| !hidden(m))
        .filter_map(|m| {
            let mut m = m.clone();
            let renumbered: Vec<Value> =
                selectors(&m).iter().filter_map(|s| renumber(s, &removed)).map(|s| Value::String(show(&s))).collect();
            if renumbered.is_empty() {
                return None;
            }
            m["selectors"] = Value::Array(renumbered);
            Some(m)
        })
        .collect();
    if kept.is_empty() {
        out.remove("granular_markings");
    } else {
        out.insert("granular_markings".into(), Value::Array(kept));
    }
    Redaction::Reduced(out)
}

fn remove(obj: &mut Map<String, Value>, steps: &[Step]) {
    let Some((last, parents)) = steps.split_last() else { return };
    let parent = match parents.split_first() {
        None => {
            if let Step::Key(k) = last {
                obj.remove(k);
            }
            return;
        }
        Some((Step::Key(first), rest)) => {
            let Some(mut at) = obj.get_mut(first) else { return };
            for step in rest {
                let next = match (step, at) {
                    (Step::Key(k), Value::Object(m)) => m.get_mut(k),
                    (Step::Index(i), Value::Array(items)) => items.get_mut(*i),
                    _ => None,
                };
                let Some(next) = next else { return };
                at = next;
            }
            at
        }
        Some((Step::Index(_), _)) => return,
    };
    match (last, parent) {
        (Step::Key(k), Value::Object(m)) => {
            m.remove(k);
        }
        (Step::Index(i), Value::Array(items)) if *i < items.len() => {
            items.remove(*i);
        }
        _ => {}
    }
}

/// Where a kept selector points once `removed` (original positions) are gone;
/// `None` if what it named went with them.
fn renumber(steps: &[Step], removed: &[Vec<Step>]) -> Option<Vec<Step>> {
    if removed.iter().any(|r| steps.starts_with(r)) {
        return None;
    }
    let mut out = steps.to_vec();
    for (depth, step) in steps.iter().enumerate() {
        if let Step::Index(at) = step {
            let before = removed
                .iter()
                .filter(|r| {
                    r.len() == depth + 1
                        && r[..depth] == steps[..depth]
                        && matches!(r[depth], Step::Index(i) if i < *at)
                })
                .count();
            out[depth] = Step::Index(at - before);
        }
    }
    Some(out)
}

fn show(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| match s {
            Step::Key(k) => k.clone(),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn report(granular: Value) -> Map<String, Value> {
        map(json!({
            "type": "report", "spec_version": "2.1", "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
            "created": "2017-01-01T00:00:00.000Z", "modified": "2017-01-01T00:00:00.000Z",
            "name": "r", "published": "2017-01-01T00:00:00.000Z",
            "object_refs": ["malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661"],
            "description": "secret", "labels": ["a", "b", "c", "d"],
            "external_references": [{"source_name": "x", "url": "https://x"}, {"source_name": "y"}],
            "granular_markings": granular,
        }))
    }

    const STATEMENT: &str = "marking-definition--a4a1f3d2-2c3a-4d3b-9d5e-0d1c2b3a4f5e";

    #[test]
    fn selectors_parse_and_must_name_something() {
        assert_eq!(
            parse("external_references.[0].url"),
            Some(vec![Step::Key("external_references".into()), Step::Index(0), Step::Key("url".into())])
        );
        for bad in ["", "[0]", "a..b", "a.[x]", "a.[]", "a[0]", "a.[-1]"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        let mut problems = Vec::new();
        check(
            &report(json!([
                {"selectors": ["labels.[3]", "external_references.[0].url"], "marking_ref": Tlp::Red.marking_id()},
                {"selectors": ["labels.[4]"], "marking_ref": Tlp::Red.marking_id()},
                {"selectors": [1], "marking_ref": "not-an-id"},
                {"selectors": [], "lang": "en"},
            ])),
            &mut problems,
        );
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("\"labels.[4]\" names nothing"), "{problems:?}");
        assert!(problems[1].contains("marking_ref"), "{problems:?}");
        assert!(problems[2].contains("must be a string"), "{problems:?}");
        assert!(problems[3].contains("non-empty list of selectors"), "{problems:?}");
    }

    #[test]
    fn hidden_fields_go_and_other_selectors_keep_their_meaning() {
        let obj = report(json!([
            {"selectors": ["description", "labels.[1]", "labels.[2]", "external_references.[0].url"],
             "marking_ref": Tlp::Red.marking_id()},
            {"selectors": ["labels.[3]", "labels.[0]"], "marking_ref": Tlp::Green.marking_id()},
            {"selectors": ["external_references.[1]"], "marking_ref": STATEMENT},
        ]));
        assert_eq!(redact(&obj, |_| true), Redaction::Whole);
        let Redaction::Reduced(out) = redact(&obj, |l| l != Tlp::Red) else { panic!("not reduced") };
        assert!(!out.contains_key("description"));
        assert_eq!(out["labels"], json!(["a", "d"]));
        assert_eq!(out["external_references"], json!([{"source_name": "x"}, {"source_name": "y"}]));
        assert_eq!(
            out["granular_markings"],
            json!([
                {"selectors": ["labels.[1]", "labels.[0]"], "marking_ref": Tlp::Green.marking_id()},
                {"selectors": ["external_references.[1]"], "marking_ref": STATEMENT},
            ])
        );
        // Each kept selector names the value it named before.
        assert_eq!(resolve(&out, &parse("labels.[1]").unwrap()), Some(&json!("d")));
    }

    #[test]
    fn a_selector_under_a_removed_one_goes_with_it() {
        let obj = report(json!([
            {"selectors": ["external_references.[0]"], "marking_ref": Tlp::Amber.marking_id()},
            {"selectors": ["external_references.[0].url", "external_references.[1]"], "marking_ref": STATEMENT},
            {"selectors": ["external_references.[0].source_name"], "marking_ref": STATEMENT},
        ]));
        let Redaction::Reduced(out) = redact(&obj, |l| l == Tlp::Green) else { panic!("not reduced") };
        assert_eq!(out["external_references"], json!([{"source_name": "y"}]));
        assert_eq!(
            out["granular_markings"],
            json!([{"selectors": ["external_references.[0]"], "marking_ref": STATEMENT}])
        );
    }

    #[test]
    fn a_required_property_withholds_the_object() {
        let obj = report(json!([{"selectors": ["object_refs.[0]"], "marking_ref": Tlp::Red.marking_id()}]));
        assert_eq!(redact(&obj, |l| l != Tlp::Red), Redaction::Withheld);
        let indicator = map(json!({
            "type": "indicator", "pattern": "[file:name = 'x']",
            "granular_markings": [{"selectors": ["pattern"], "marking_ref": Tlp::Amber.marking_id()}],
        }));
        assert_eq!(redact(&indicator, |l| l == Tlp::Green), Redaction::Withheld);
        assert_eq!(redact(&indicator, |_| true), Redaction::Whole);
    }
}
