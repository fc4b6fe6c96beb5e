//! The meeting of intel and store: intel objects written as store rows, and store
//! rows read back as intel for `show` and `why`.

use takedown_intel::builtin;
use takedown_intel::knowledge::{Lookup, LookupError, Record};
use takedown_store::{ImportBatch, ImportSummary, NewObject, Store, StoredObject};

/// Imports the built-in pack unless the store already holds this version of it.
/// Returns what the import changed, if it ran.
pub fn ensure_builtin(store: &mut Store) -> anyhow::Result<Option<ImportSummary>> {
    let marker = builtin::identity_id();
    let stamp = takedown_intel::timestamp::parse(builtin::PACK_STAMP).map(takedown_intel::timestamp::sortable);
    // The server's own copy: a member may hold a version of the same id, which says
    // nothing about whether the pack is here.
    if let Some(current) = store.owned_object(&marker, None)? {
        if Some(&current.modified) >= stamp.as_ref() {
            return Ok(None);
        }
    }
    let batch = ImportBatch {
        actor: "takedown".into(),
        org: None,
        files: vec![builtin::PACK_SOURCE.into()],
        objects: builtin::objects().iter().map(NewObject::from).collect(),
    };
    Ok(Some(store.import(&batch)?))
}

/// The store, read as intel.
pub struct StoreLookup<'a>(pub &'a Store);

fn record(o: StoredObject) -> Result<Record, LookupError> {
    let json =
        serde_json::from_str(&o.json).map_err(|e| LookupError(format!("stored object {} is not JSON: {e}", o.id)))?;
    Ok(Record { json, source: o.source, tlp: o.tlp })
}

fn records(objects: Vec<StoredObject>) -> Result<Vec<Record>, LookupError> {
    objects.into_iter().map(record).collect()
}

fn err(e: takedown_store::StoreError) -> LookupError {
    LookupError(e.to_string())
}

impl Lookup for StoreLookup<'_> {
    fn of_type(&self, type_: &str) -> Result<Vec<Record>, LookupError> {
        records(self.0.current_objects(Some(type_)).map_err(err)?)
    }
    fn get(&self, id: &str) -> Result<Option<Record>, LookupError> {
        self.0.object(id).map_err(err)?.map(record).transpose()
    }
    fn relationships(&self, id: &str, outgoing: bool) -> Result<Vec<Record>, LookupError> {
        records(self.0.relationships(id, outgoing).map_err(err)?)
    }
}
