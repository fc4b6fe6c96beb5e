//! Reading a STIX bundle as a stream: objects are checked in chunks while the parser
//! is still reading, so that a large feed (ATT&CK is 34 MB of JSON) can be stored
//! while it is read. The file is still judged whole: any problem rejects it, and the
//! caller (which stores in one transaction) rolls back what it was handed.

use crate::error::{clip, excerpt, IntelError, EXCERPT_CHARS};
use crate::stix::{is_stix_id, IntelObject};
use rayon::prelude::*;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::path::Path;

/// Objects checked together: large enough to keep both cores busy, small enough
/// that storing starts early.
const CHUNK: usize = 2048;

/// Objects reported per rejected bundle: enough to see the pattern of a damaged
/// file without flooding the terminal.
const MAX_PROBLEMS_SHOWN: usize = 20;

/// Parses and checks a bundle, handing checked objects to `emit` in order, a chunk
/// at a time. Once a problem is found nothing more is emitted, but the rest of the
/// file is still checked so that the error lists every problem. Returns the number
/// of objects emitted.
pub fn stream(
    path: &Path,
    bytes: &[u8],
    source: &str,
    emit: &mut (dyn FnMut(Vec<IntelObject>) + Send),
) -> Result<usize, IntelError> {
    // Two stages: this thread parses, a second checks (on every core) and emits, so
    // that parsing never waits for checking.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(2);
    let (head, checker) = std::thread::scope(|s| {
        let checker = s.spawn(move || {
            let mut checker = Checker { source, problems: Vec::new(), emitted: 0, emit };
            for chunk in rx {
                checker.check(chunk);
            }
            (checker.problems, checker.emitted)
        });
        let mut parser = Parser { tx, bundle_spec: None, pending: Vec::new() };
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let head = BundleSeed { parser: &mut parser }.deserialize(&mut de).and_then(|head| de.end().map(|()| head));
        parser.flush();
        drop(parser);
        let checker = checker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (head, checker)
    });
    let (problems, emitted) = checker;
    let head = match head {
        Ok(head) => head,
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            return Err(IntelError::NotABundle {
                path: path.to_path_buf(),
                reason: "the file holds JSON but not an object; a bundle is {\"type\": \"bundle\", ...}".into(),
            })
        }
        Err(e) => {
            return Err(IntelError::Json {
                path: path.to_path_buf(),
                line: e.line(),
                column: e.column(),
                message: e.to_string().split(" at line").next().unwrap_or("").to_string(),
            })
        }
    };
    let mut bundle_problems = Vec::new();
    match head.type_.as_ref().map(|v| v.as_str()) {
        Some(Some("bundle")) => {}
        Some(Some(other)) => bundle_problems.push(format!(
            "its \"type\" is {}, not \"bundle\" (a single object must be wrapped in a bundle)",
            excerpt(other)
        )),
        _ => bundle_problems.push("it has no \"type\": \"bundle\"".to_string()),
    }
    match head.id.as_ref().map(|v| v.as_str()) {
        Some(Some(id)) if id.starts_with("bundle--") && is_stix_id(id) => {}
        Some(Some(id)) => bundle_problems.push(format!("its id {} is not bundle--UUID", excerpt(id))),
        _ => bundle_problems.push("it has no \"id\"".to_string()),
    }
    if head.objects_not_a_list {
        bundle_problems.push("its \"objects\" is not a list".into());
    }
    let shown = problems.len().min(MAX_PROBLEMS_SHOWN);
    let mut listing = problems[..shown].join("\n");
    if problems.len() > shown {
        listing.push_str(&format!("\n  ... and {} more", problems.len() - shown));
    }
    if !bundle_problems.is_empty() {
        let mut reason = bundle_problems.join("; ");
        if !problems.is_empty() {
            reason.push_str(&format!("; its objects have problems too:\n{listing}"));
        }
        return Err(IntelError::NotABundle { path: path.to_path_buf(), reason });
    }
    if !problems.is_empty() {
        return Err(IntelError::InvalidObjects { path: path.to_path_buf(), count: problems.len(), problems: listing });
    }
    Ok(emitted)
}

/// Parses and checks a whole bundle; any invalid object rejects the file.
pub fn parse(path: &Path, bytes: &[u8], source: &str) -> Result<Vec<IntelObject>, IntelError> {
    let mut out = Vec::new();
    stream(path, bytes, source, &mut |chunk| out.extend(chunk))?;
    Ok(out)
}

/// Objects read, with their index in the bundle and the bundle's `spec_version`.
struct Chunk {
    spec: Option<String>,
    objects: Vec<(usize, Value)>,
}

/// The parsing side: collects objects into chunks.
struct Parser {
    tx: std::sync::mpsc::SyncSender<Chunk>,
    /// The bundle's own `spec_version` (2.0 bundles have one), once seen.
    bundle_spec: Option<Value>,
    pending: Vec<(usize, Value)>,
}

impl Parser {
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let spec = self.bundle_spec.as_ref().and_then(Value::as_str).map(str::to_string);
        let objects = std::mem::take(&mut self.pending);
        // The checker lives until the parser is done; a failed send means it
        // panicked, which the caller re-raises.
        let _ = self.tx.send(Chunk { spec, objects });
    }
}

/// The checking side.
struct Checker<'a> {
    source: &'a str,
    problems: Vec<String>,
    emitted: usize,
    emit: &'a mut (dyn FnMut(Vec<IntelObject>) + Send),
}

impl Checker<'_> {
    /// Checks a chunk on every core, in order.
    fn check(&mut self, chunk: Chunk) {
        let spec = chunk.spec.as_deref();
        let source = self.source;
        let checked: Vec<Result<IntelObject, Vec<String>>> = chunk
            .objects
            .into_par_iter()
            .map(|(i, obj)| {
                // Ids and problems can quote the object's values, of any length: an
                // id is shown as it is only when it looks like one.
                let label = match obj.get("id").and_then(Value::as_str) {
                    Some(id) if id.len() <= EXCERPT_CHARS && !id.contains(char::is_control) => id.to_string(),
                    Some(id) => excerpt(id),
                    None => "no id".to_string(),
                };
                IntelObject::from_value(obj, spec, source)
                    .map_err(|ps| ps.into_iter().map(|p| format!("  object {i} ({label}): {}", clip(&p))).collect())
            })
            .collect();
        let mut good = Vec::with_capacity(checked.len());
        for c in checked {
            match c {
                Ok(o) => good.push(o),
                Err(ps) => self.problems.extend(ps),
            }
        }
        if self.problems.is_empty() {
            self.emitted += good.len();
            (self.emit)(good);
        }
    }
}

/// The bundle's own properties, as found.
#[derive(Default)]
struct Head {
    type_: Option<Value>,
    id: Option<Value>,
    objects_not_a_list: bool,
}

struct BundleSeed<'s> {
    parser: &'s mut Parser,
}

impl<'de> DeserializeSeed<'de> for BundleSeed<'_> {
    type Value = Head;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Head, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BundleSeed<'_> {
    type Value = Head;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a STIX bundle object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
        let mut head = Head::default();
        // Objects before the bundle's `spec_version` cannot be checked yet (a 2.0
        // bundle says its version only there): they wait until the end.
        let mut spec_seen = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => head.type_ = Some(map.next_value()?),
                "id" => head.id = Some(map.next_value()?),
                "spec_version" => {
                    self.parser.bundle_spec = Some(map.next_value()?);
                    spec_seen = true;
                }
                "objects" => {
                    let list = map.next_value_seed(ObjectsSeed { parser: self.parser, stream: spec_seen })?;
                    head.objects_not_a_list = !list;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(head)
    }
}

/// The `objects` list: read one object at a time, checked a chunk at a time.
/// Yields whether it was a list at all.
struct ObjectsSeed<'s> {
    parser: &'s mut Parser,
    stream: bool,
}

impl<'de> DeserializeSeed<'de> for ObjectsSeed<'_> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectsSeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of STIX objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut i = 0;
        while let Some(obj) = seq.next_element::<Value>()? {
            self.parser.pending.push((i, obj));
            i += 1;
            if self.stream && self.parser.pending.len() >= CHUNK {
                self.parser.flush();
            }
        }
        Ok(true)
    }
    // Anything else is "not a list", reported with the bundle's other problems.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const MALWARE: &str = r#"{"type":"malware","id":"malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661","created":"2017-05-31T21:32:03.807Z","modified":"2017-05-31T21:32:03.807Z","name":"WannaCry","labels":["ransomware"]}"#;

    fn bundle_of(n: usize, spec_first: bool) -> String {
        let objects: Vec<String> = (0..n)
            .map(|i| {
                MALWARE.replace("75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661", &format!("00000000-0000-4000-8000-{i:012}"))
            })
            .collect();
        let objects = objects.join(",");
        let id = r#""id":"bundle--0b1ec3f5-2c6d-4a51-b6bf-1b2d1e1f6c1f""#;
        if spec_first {
            format!(r#"{{"type":"bundle",{id},"spec_version":"2.0","objects":[{objects}]}}"#)
        } else {
            format!(r#"{{"objects":[{objects}],"type":"bundle",{id},"spec_version":"2.0"}}"#)
        }
    }

    #[test]
    fn chunks_arrive_in_order_and_are_upgraded() {
        let text = bundle_of(CHUNK + 5, true);
        let mut chunks = Vec::new();
        let n = stream(Path::new("b.json"), text.as_bytes(), "b.json", &mut |c| chunks.push(c)).unwrap();
        assert_eq!(n, CHUNK + 5);
        assert_eq!(chunks.len(), 2, "one full chunk while parsing, the rest at the end");
        let all: Vec<IntelObject> = chunks.into_iter().flatten().collect();
        assert!(all.windows(2).all(|w| w[0].id < w[1].id));
        assert!(all.iter().all(|o| o.spec_version == "2.0" && o.json["is_family"] == true));
    }

    #[test]
    fn spec_version_after_the_objects_still_upgrades() {
        let text = bundle_of(3, false);
        let all = parse(Path::new("b.json"), text.as_bytes(), "b.json").unwrap();
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|o| o.json["spec_version"] == "2.1"));
    }

    #[test]
    fn a_bad_object_stops_emitting_and_rejects() {
        let mut text = bundle_of(CHUNK * 2, true);
        // Break an object in the second chunk: the first chunk has been emitted by
        // then, which is why the caller stores in one transaction.
        let target = format!("00000000-0000-4000-8000-{:012}\",\"created\":\"2017", CHUNK + 7);
        text = text.replacen(&target, &target.replace("2017", "20x7"), 1);
        let mut emitted = 0;
        let err = stream(Path::new("b.json"), text.as_bytes(), "b.json", &mut |c| emitted += c.len()).unwrap_err();
        assert_eq!(emitted, CHUNK);
        let msg = err.to_string();
        assert!(msg.contains(&format!("object {}", CHUNK + 7)), "{msg}");
    }

    #[test]
    fn objects_not_a_list_and_not_an_object() {
        let err = parse(
            Path::new("b.json"),
            br#"{"type":"bundle","id":"bundle--0b1ec3f5-2c6d-4a51-b6bf-1b2d1e1f6c1f","objects":{"a":1}}"#,
            "b",
        )
        .unwrap_err();
        assert!(err.to_string().contains("\"objects\" is not a list"), "{err}");
        let err = parse(Path::new("b.json"), b"[1,2]", "b").unwrap_err();
        assert!(err.to_string().contains("not an object"), "{err}");
        let err = parse(Path::new("b.json"), b"{\"type\":\"bundle\",", "b").unwrap_err();
        assert!(matches!(err, IntelError::Json { line: 1, .. }), "{err}");
    }
}
