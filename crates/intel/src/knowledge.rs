//! Questions asked of the intel: who is this group (`show`), and why is this value
//! the group's (`why`). Answers are built from STIX objects and relationships, and
//! every link names its source and confidence.

use crate::{names, pattern};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use takedown_model::Tlp;

/// A stored object with where it came from.
#[derive(Debug, Clone)]
pub struct Record {
    pub json: Map<String, Value>,
    pub source: String,
    pub tlp: Option<Tlp>,
}

impl Record {
    fn str(&self, key: &str) -> Option<&str> {
        self.json.get(key).and_then(Value::as_str)
    }
    pub fn id(&self) -> &str {
        self.str("id").unwrap_or("")
    }
    pub fn type_(&self) -> &str {
        self.str("type").unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.str("name").unwrap_or("")
    }
    fn confidence(&self) -> Option<u64> {
        self.json.get("confidence").and_then(Value::as_u64)
    }
    /// STIX `aliases`, and ATT&CK's `x_mitre_aliases` for software.
    fn aliases(&self) -> Vec<String> {
        let mut out = Vec::new();
        for key in ["aliases", "x_mitre_aliases"] {
            if let Some(Value::Array(a)) = self.json.get(key) {
                out.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
            }
        }
        out
    }
    fn is_called(&self, name: &str) -> bool {
        let name = name.trim();
        self.name().eq_ignore_ascii_case(name) || self.aliases().iter().any(|a| a.eq_ignore_ascii_case(name))
    }
    pub fn revoked_or_deprecated(&self) -> bool {
        self.json.get("revoked").and_then(Value::as_bool).unwrap_or(false)
            || self.json.get("x_mitre_deprecated").and_then(Value::as_bool).unwrap_or(false)
    }
    /// The ATT&CK id (`G0032`, `S0366`, `T1210`) if the object carries one.
    fn attack_id(&self) -> Option<String> {
        self.json.get("external_references")?.as_array()?.iter().find_map(|r| {
            (r.get("source_name")?.as_str()? == "mitre-attack")
                .then(|| r.get("external_id")?.as_str().map(str::to_string))?
        })
    }
}

/// Failure to read the intel behind a [`Lookup`].
#[derive(Debug, thiserror::Error)]
#[error("reading intel: {0}")]
pub struct LookupError(pub String);

/// Where knowledge reads objects from: the store, or memory in tests.
pub trait Lookup {
    /// Current objects of one type.
    fn of_type(&self, type_: &str) -> Result<Vec<Record>, LookupError>;
    /// The current version of one object.
    fn get(&self, id: &str) -> Result<Option<Record>, LookupError>;
    /// Current relationships (and sightings) from (`outgoing`) or to an object.
    fn relationships(&self, id: &str, outgoing: bool) -> Result<Vec<Record>, LookupError>;
}

/// Objects in memory.
#[derive(Debug, Default)]
pub struct MemoryLookup {
    objects: BTreeMap<String, Record>,
}

impl MemoryLookup {
    pub fn new(objects: impl IntoIterator<Item = crate::IntelObject>) -> MemoryLookup {
        let mut out = MemoryLookup::default();
        for o in objects {
            let record = Record { json: o.json, source: o.source, tlp: o.tlp };
            let newer = out.objects.get(&o.id).is_none_or(|old| old.str("modified") <= record.str("modified"));
            if newer {
                out.objects.insert(o.id, record);
            }
        }
        out
    }
}

impl Lookup for MemoryLookup {
    fn of_type(&self, type_: &str) -> Result<Vec<Record>, LookupError> {
        Ok(self.objects.values().filter(|r| r.type_() == type_).cloned().collect())
    }
    fn get(&self, id: &str) -> Result<Option<Record>, LookupError> {
        Ok(self.objects.get(id).cloned())
    }
    fn relationships(&self, id: &str, outgoing: bool) -> Result<Vec<Record>, LookupError> {
        let key = if outgoing { "source_ref" } else { "target_ref" };
        Ok(self.objects.values().filter(|r| r.str(key) == Some(id)).cloned().collect())
    }
}

/// One end of a link, as people read it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Entity {
    #[serde(rename = "type")]
    pub type_: String,
    pub id: String,
    pub name: String,
    /// The ATT&CK id, when the object has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack_id: Option<String>,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u64>,
}

impl Entity {
    fn of(r: &Record) -> Entity {
        Entity {
            type_: r.type_().to_string(),
            id: r.id().to_string(),
            name: display_name(r),
            attack_id: r.attack_id(),
            source: r.source.clone(),
            confidence: r.confidence(),
        }
    }
}

fn display_name(r: &Record) -> String {
    if !r.name().is_empty() {
        return r.name().to_string();
    }
    r.str("pattern").map(|p| shorten(p, 80)).unwrap_or_else(|| r.id().to_string())
}

fn shorten(s: &str, max: usize) -> String {
    let first = s.lines().next().unwrap_or("");
    if first.chars().count() <= max && first.len() == s.len() {
        first.to_string()
    } else {
        format!("{}…", first.chars().take(max).collect::<String>())
    }
}

/// An indicator and what it detects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorView {
    pub id: String,
    pub name: String,
    /// `md5`, `domain`, `yara`, ... (see `takedown_model::IndicatorKind`).
    pub kind: String,
    pub value: String,
    pub source: String,
    pub confidence: Option<u64>,
    /// What it indicates (a malware name), when it indicates through malware.
    pub via: Option<String>,
}

/// Everything known about a group (or a malware family), merged across sources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub name: String,
    /// `intrusion-set`, `threat-actor`, `malware` or `tool`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Every object this profile merges (one per source).
    pub objects: Vec<Entity>,
    pub aliases: BTreeSet<String>,
    pub description: Option<String>,
    /// Malware and tools the group uses (for a malware: the groups using it).
    pub related: Vec<Entity>,
    pub techniques: Vec<Entity>,
    pub indicators: Vec<IndicatorView>,
}

/// How an indicator ties to a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chain {
    pub indicator: Entity,
    /// Why the value matched this indicator.
    pub matched: String,
    /// Each link: relation, the object it reaches, and the relationship's own
    /// source and confidence.
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub relation: String,
    pub to: Entity,
    pub relationship_source: String,
    pub relationship_confidence: Option<u64>,
    /// Further links from `to` (a malware's users).
    pub then: Vec<Link>,
}

const ACTOR_TYPES: [&str; 2] = ["intrusion-set", "threat-actor"];
const SOFTWARE_TYPES: [&str; 2] = ["malware", "tool"];

/// Finds a group or malware family by id, name or alias, and gathers what is known.
/// Several objects (one per source) are merged when they share a name or alias.
pub fn profile(lookup: &dyn Lookup, query: &str) -> Result<Option<Profile>, LookupError> {
    let mut matches = Vec::new();
    if let Some(r) = lookup.get(query.trim())? {
        let name = r.name().to_string();
        matches.push(r);
        // Merge with the same entity from other sources.
        return profile_of(lookup, &name, matches).map(Some);
    }
    for t in ACTOR_TYPES.into_iter().chain(SOFTWARE_TYPES) {
        matches.extend(lookup.of_type(t)?.into_iter().filter(|r| r.is_called(query) && !r.revoked_or_deprecated()));
        if matches.iter().any(|r| ACTOR_TYPES.contains(&r.type_())) {
            // A group answers before software of the same name.
            break;
        }
    }
    if matches.is_empty() {
        // A loose query ("Lazarus", "cobra") answers when it names one entity only.
        return match loose_matches(lookup, query)?.as_slice() {
            [one] => profile(lookup, one),
            _ => Ok(None),
        };
    }
    let kind = matches[0].type_().to_string();
    matches.retain(|r| same_kind(r.type_(), &kind));
    let name = matches.iter().find(|r| r.is_called(query)).map(|r| r.name().to_string()).unwrap_or_default();
    profile_of(lookup, &name, matches).map(Some)
}

/// Groups and software whose name or an alias contains the query's words as a run
/// ("cobra" → HIDDEN COBRA): for a query that names nothing exactly. Names, sorted.
pub fn loose_matches(lookup: &dyn Lookup, query: &str) -> Result<Vec<String>, LookupError> {
    let q = names::words(query);
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = BTreeSet::new();
    for t in ACTOR_TYPES.into_iter().chain(SOFTWARE_TYPES) {
        for r in lookup.of_type(t)? {
            if r.revoked_or_deprecated() {
                continue;
            }
            let aliases = r.aliases();
            let forms = names::forms(std::iter::once(r.name()).chain(aliases.iter().map(String::as_str)));
            if forms.iter().any(|f| names::find(std::slice::from_ref(&q), f).is_some()) {
                out.insert(r.name().to_string());
            }
        }
    }
    Ok(out.into_iter().collect())
}

fn same_kind(a: &str, b: &str) -> bool {
    a == b
        || (ACTOR_TYPES.contains(&a) && ACTOR_TYPES.contains(&b))
        || (SOFTWARE_TYPES.contains(&a) && SOFTWARE_TYPES.contains(&b))
}

fn profile_of(lookup: &dyn Lookup, name: &str, mut objects: Vec<Record>) -> Result<Profile, LookupError> {
    let type_ = objects.first().map(|r| r.type_().to_string()).unwrap_or_default();
    // Other sources' objects for the same entity: same type family and same name.
    let family: &[&str] = if ACTOR_TYPES.contains(&type_.as_str()) { &ACTOR_TYPES } else { &SOFTWARE_TYPES };
    for t in family {
        for r in lookup.of_type(t)? {
            if r.is_called(name) && !r.revoked_or_deprecated() && !objects.iter().any(|o| o.id() == r.id()) {
                objects.push(r);
            }
        }
    }
    objects.sort_by(|a, b| a.source.cmp(&b.source).then(a.id().cmp(b.id())));
    let mut aliases = BTreeSet::new();
    for r in &objects {
        aliases.extend(r.aliases().into_iter().filter(|a| !a.eq_ignore_ascii_case(name)));
    }
    let description = objects.iter().find_map(|r| r.str("description").map(str::to_string));
    let is_actor = ACTOR_TYPES.contains(&type_.as_str());
    let mut related = BTreeSet::new();
    let mut techniques = BTreeSet::new();
    let mut indicators = Vec::new();
    let mut software = Vec::new();
    for r in &objects {
        for rel in lookup.relationships(r.id(), true)? {
            let Some(target) = rel.str("target_ref").map(str::to_string) else { continue };
            let Some(t) = lookup.get(&target)? else { continue };
            if t.revoked_or_deprecated() {
                continue;
            }
            match (rel.str("relationship_type"), t.type_()) {
                (Some("uses"), "attack-pattern") => {
                    techniques.insert(Entity::of(&t));
                }
                (Some("uses"), ty) if is_actor && SOFTWARE_TYPES.contains(&ty) => {
                    let mut e = Entity::of(&t);
                    e.confidence = rel.confidence();
                    related.insert(e);
                    software.push(t);
                }
                _ => {}
            }
        }
        if !is_actor {
            for rel in lookup.relationships(r.id(), false)? {
                let Some(source) = rel.str("source_ref").map(str::to_string) else { continue };
                if rel.str("relationship_type") != Some("uses") {
                    continue;
                }
                if let Some(s) = lookup.get(&source)? {
                    if ACTOR_TYPES.contains(&s.type_()) && !s.revoked_or_deprecated() {
                        let mut e = Entity::of(&s);
                        e.confidence = rel.confidence();
                        related.insert(e);
                    }
                }
            }
        }
        indicators.extend(indicators_of(lookup, r, None)?);
    }
    for s in &software {
        indicators.extend(indicators_of(lookup, s, Some(s.name()))?);
        // The same malware from other sources carries indicators too.
        for t in SOFTWARE_TYPES {
            for other in lookup.of_type(t)? {
                if other.id() != s.id() && other.is_called(s.name()) {
                    indicators.extend(indicators_of(lookup, &other, Some(s.name()))?);
                }
            }
        }
    }
    indicators.sort_by(|a, b| (&a.via, &a.kind, &a.value, &a.id).cmp(&(&b.via, &b.kind, &b.value, &b.id)));
    indicators.dedup_by(|a, b| a.id == b.id);
    Ok(Profile {
        name: name.to_string(),
        type_,
        objects: objects.iter().map(Entity::of).collect(),
        aliases,
        description,
        related: related.into_iter().collect(),
        techniques: techniques.into_iter().collect(),
        indicators,
    })
}

fn indicators_of(lookup: &dyn Lookup, target: &Record, via: Option<&str>) -> Result<Vec<IndicatorView>, LookupError> {
    let mut out = Vec::new();
    for rel in lookup.relationships(target.id(), false)? {
        if rel.str("relationship_type") != Some("indicates") {
            continue;
        }
        let Some(source) = rel.str("source_ref") else { continue };
        if let Some(ind) = lookup.get(source)? {
            if ind.type_() == "indicator" {
                out.push(indicator_view(&ind, via));
            }
        }
    }
    Ok(out)
}

/// The kind and value of an indicator as people read them.
pub fn indicator_kind_value(r: &Record) -> (String, String) {
    let pattern = r.str("pattern").unwrap_or("");
    match r.str("pattern_type").unwrap_or("stix") {
        "stix" => match pattern::parse(pattern).ok().and_then(|p| p.simple()) {
            Some((kind, value)) => (kind.as_str().to_string(), value),
            None => ("stix-pattern".into(), pattern.to_string()),
        },
        "yara" => {
            let rules: Vec<&str> = r
                .json
                .get("x_takedown_rules")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            ("yara".into(), if rules.is_empty() { shorten(pattern, 60) } else { rules.join(", ") })
        }
        "pcre" => ("path-pattern".into(), pattern.to_string()),
        other => (other.to_string(), shorten(pattern, 80)),
    }
}

fn indicator_view(r: &Record, via: Option<&str>) -> IndicatorView {
    let (kind, value) = indicator_kind_value(r);
    IndicatorView {
        id: r.id().to_string(),
        name: display_name(r),
        kind,
        value,
        source: r.source.clone(),
        confidence: r.confidence(),
        via: via.map(str::to_string),
    }
}

/// The observables a bare value could be, for matching against STIX patterns.
fn observables(value: &str) -> Vec<Value> {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    let file_name = v.rsplit(['\\', '/']).next().unwrap_or(v);
    let mut out = vec![
        json!({"type": "file", "name": file_name}),
        json!({"type": "domain-name", "value": lower.trim_end_matches('.')}),
        json!({"type": "ipv4-addr", "value": v}),
        json!({"type": "ipv6-addr", "value": lower}),
        json!({"type": "url", "value": v}),
        json!({"type": "mutex", "name": v}),
        json!({"type": "windows-registry-key", "key": v}),
        json!({"type": "user-account", "account_login": v, "user_id": v}),
        json!({"type": "process", "extensions": {"windows-service-ext": {"service_name": v}}}),
    ];
    if lower.bytes().all(|b| b.is_ascii_hexdigit()) {
        let algorithm = match lower.len() {
            32 => Some("MD5"),
            40 => Some("SHA-1"),
            64 => Some("SHA-256"),
            _ => None,
        };
        if let Some(a) = algorithm {
            out.push(json!({"type": "file", "hashes": {a: lower}}));
        }
    }
    out
}

/// Which indicators `value` matches (an indicator id, a hash, a domain, an address,
/// a file name or path, a mutex, a YARA rule name, ...) and how each ties to a group.
pub fn why(lookup: &dyn Lookup, value: &str) -> Result<Vec<Chain>, LookupError> {
    let mut hits: Vec<(Record, String)> = Vec::new();
    if let Some(r) = lookup.get(value.trim())? {
        if r.type_() == "indicator" {
            hits.push((r, "the indicator itself".into()));
        }
    }
    if hits.is_empty() {
        let candidates = observables(value);
        for r in lookup.of_type("indicator")? {
            if let Some(how) = indicator_matches(&r, value, &candidates) {
                hits.push((r, how));
            }
        }
    }
    let mut chains = Vec::new();
    let mut actors = None;
    for (ind, matched) in hits {
        let mut links = Vec::new();
        for rel in lookup.relationships(ind.id(), true)? {
            if rel.str("relationship_type") != Some("indicates") {
                continue;
            }
            let Some(target) = rel.str("target_ref") else { continue };
            let Some(t) = lookup.get(target)? else { continue };
            let then = if SOFTWARE_TYPES.contains(&t.type_()) { users_of(lookup, &t)? } else { Vec::new() };
            links.push(Link {
                relation: "indicates".into(),
                to: Entity::of(&t),
                relationship_source: rel.source.clone(),
                relationship_confidence: rel.confidence(),
                then,
            });
        }
        if links.is_empty() {
            if actors.is_none() {
                actors = Some(group_forms(lookup)?);
            }
            links = named_groups(&ind, actors.as_deref().unwrap_or_default());
        }
        chains.push(Chain { indicator: Entity::of(&ind), matched, links });
    }
    chains
        .sort_by(|a, b| b.indicator.confidence.cmp(&a.indicator.confidence).then(a.indicator.id.cmp(&b.indicator.id)));
    Ok(chains)
}

/// A group and the word forms it answers to (see [`names::forms`]).
type GroupForms = (Record, Vec<Vec<String>>);

/// Every group, with the word forms it answers to.
fn group_forms(lookup: &dyn Lookup) -> Result<Vec<GroupForms>, LookupError> {
    let mut out = Vec::new();
    for t in ACTOR_TYPES {
        for r in lookup.of_type(t)? {
            if r.revoked_or_deprecated() {
                continue;
            }
            let aliases = r.aliases();
            let forms = names::forms(std::iter::once(r.name()).chain(aliases.iter().map(String::as_str)));
            out.push((r, forms));
        }
    }
    Ok(out)
}

/// Groups an indicator names in its own words, when it indicates nothing known:
/// IOC files say which report each line comes from ("Lazarus campaign against
/// researchers ..."). Weaker than a relationship, so the link says what it is and
/// carries no confidence.
fn named_groups(ind: &Record, groups: &[GroupForms]) -> Vec<Link> {
    let text = [ind.str("name"), ind.str("description")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let text = names::words(&text);
    let mut out = Vec::new();
    let mut named = BTreeSet::new();
    for (group, forms) in groups {
        // One link per group name: the same group from two sources says no more.
        if named.contains(group.name()) {
            continue;
        }
        if let Some(form) = names::find(forms, &text) {
            named.insert(group.name().to_string());
            out.push(Link {
                relation: format!("names \"{}\" in its text", form.join(" ")),
                to: Entity::of(group),
                relationship_source: ind.source.clone(),
                relationship_confidence: None,
                then: Vec::new(),
            });
        }
    }
    out
}

/// The groups that use a malware, across every source that knows the malware by
/// this name.
fn users_of(lookup: &dyn Lookup, malware: &Record) -> Result<Vec<Link>, LookupError> {
    let mut same = vec![malware.clone()];
    for t in SOFTWARE_TYPES {
        same.extend(lookup.of_type(t)?.into_iter().filter(|o| o.id() != malware.id() && o.is_called(malware.name())));
    }
    let mut out = Vec::new();
    for m in &same {
        for rel in lookup.relationships(m.id(), false)? {
            if rel.str("relationship_type") != Some("uses") {
                continue;
            }
            let Some(source) = rel.str("source_ref") else { continue };
            let Some(actor) = lookup.get(source)? else { continue };
            if !ACTOR_TYPES.contains(&actor.type_()) || actor.revoked_or_deprecated() {
                continue;
            }
            let relation = if m.id() == malware.id() {
                "used by".to_string()
            } else {
                format!("used by (via {} {})", m.name(), m.id())
            };
            out.push(Link {
                relation,
                to: Entity::of(&actor),
                relationship_source: rel.source.clone(),
                relationship_confidence: rel.confidence(),
                then: Vec::new(),
            });
        }
    }
    Ok(out)
}

fn indicator_matches(r: &Record, value: &str, candidates: &[Value]) -> Option<String> {
    let pattern = r.str("pattern")?;
    match r.str("pattern_type").unwrap_or("stix") {
        "stix" => {
            let p = pattern::parse(pattern).ok()?;
            candidates.iter().find(|c| p.matches(std::slice::from_ref(c))).map(|c| {
                let t = c.get("type").and_then(Value::as_str).unwrap_or("");
                format!("as a {t}: {pattern}")
            })
        }
        "pcre" => {
            let re = regex::Regex::new(pattern).ok()?;
            re.is_match(value.trim()).then(|| format!("path pattern {pattern}"))
        }
        "yara" => {
            let rules = r.json.get("x_takedown_rules")?.as_array()?;
            let wanted = value.trim().rsplit(':').next().unwrap_or(value);
            rules.iter().filter_map(Value::as_str).find(|n| *n == wanted).map(|n| format!("YARA rule {n}"))
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pack() -> MemoryLookup {
        MemoryLookup::new(crate::builtin::objects())
    }

    #[test]
    fn aliases_find_the_group() {
        let lookup = pack();
        for name in ["ZINC", "hidden cobra", "Diamond Sleet", "Lazarus Group"] {
            let p = profile(&lookup, name).unwrap().unwrap();
            assert_eq!(p.name, "Lazarus Group", "{name}");
            assert!(p.related.iter().any(|m| m.name == "WannaCry"));
            assert!(p.indicators.iter().any(|i| i.kind == "sha256"));
            assert!(p.aliases.contains("ZINC"));
        }
        assert!(profile(&lookup, "APT28").unwrap().is_none());
    }

    #[test]
    fn malware_profile_lists_its_users() {
        let p = profile(&pack(), "wcry").unwrap().unwrap();
        assert_eq!(p.name, "WannaCry");
        assert_eq!(p.related.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["Lazarus Group"]);
        assert!(p.techniques.iter().any(|t| t.attack_id.as_deref() == Some("T1210")));
    }

    #[test]
    fn why_a_hash_chains_to_the_group() {
        let chains = why(&pack(), "ED01EBFBC9EB5BBEA545AF4D01BF5F1071661840480439C6E5BABE8E080E41AA").unwrap();
        assert_eq!(chains.len(), 1);
        let c = &chains[0];
        assert_eq!(c.indicator.confidence, Some(95));
        assert_eq!(c.links[0].to.name, "WannaCry");
        assert_eq!(c.links[0].then[0].to.name, "Lazarus Group");
        assert_eq!(c.links[0].then[0].relationship_confidence, Some(85));
    }

    #[test]
    fn why_names_paths_domains_and_rules() {
        let lookup = pack();
        assert!(!why(&lookup, r"C:\Windows\tasksche.exe").unwrap().is_empty());
        assert!(!why(&lookup, "report.docx.WNCRY").unwrap().is_empty());
        assert!(!why(&lookup, "www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com").unwrap().is_empty());
        assert!(!why(&lookup, "takedown_WannaCry_Worm").unwrap().is_empty());
        assert!(!why(&lookup, r"Global\MsWinZonesCacheCounterMutexA").unwrap().is_empty());
        assert!(why(&lookup, "example.org").unwrap().is_empty());
    }

    #[test]
    fn loose_names_find_one_entity_or_none() {
        let lookup = pack();
        assert_eq!(profile(&lookup, "Lazarus").unwrap().unwrap().name, "Lazarus Group");
        assert_eq!(profile(&lookup, "cobra").unwrap().unwrap().name, "Lazarus Group");
        assert!(profile(&lookup, "zin").unwrap().is_none(), "words, not prefixes");
        assert_eq!(loose_matches(&lookup, "group").unwrap(), ["Lazarus Group"]);
    }

    #[test]
    fn an_ioc_line_that_names_a_group_says_so() {
        let ioc = crate::ioc::parse(
            "0ac5c8ad0c2ddef4d41724acac586ffabcc92ab9d4906a4fc4a1ff2ec2feec7c;Lazarus campaign against researchers\n\
             1cc60cb1e08779ff140dfbb4358a7c2587ba58ad2f1f23343b9efb51bb25aaed;Unrelated crimeware\n",
            crate::ioc::IocFileKind::Hash,
            "hash-iocs.txt",
            "2024-01-01T00:00:00.000Z",
        );
        let lookup = MemoryLookup::new(crate::builtin::objects().into_iter().chain(ioc.objects));
        let chains = why(&lookup, "0ac5c8ad0c2ddef4d41724acac586ffabcc92ab9d4906a4fc4a1ff2ec2feec7c").unwrap();
        let link = &chains[0].links[0];
        assert_eq!(link.to.name, "Lazarus Group");
        assert_eq!(link.relation, "names \"lazarus\" in its text");
        assert_eq!(link.relationship_confidence, None);
        let chains = why(&lookup, "1cc60cb1e08779ff140dfbb4358a7c2587ba58ad2f1f23343b9efb51bb25aaed").unwrap();
        assert!(chains[0].links.is_empty());
    }
}
