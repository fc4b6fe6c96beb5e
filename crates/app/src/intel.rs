//! The meeting of intel and store: intel files imported, the built-in pack written
//! into the store, and store rows read back as intel for `show`, `why` and the
//! sweep's ties to groups.

use crate::AppError;
use rayon::prelude::*;
use std::path::PathBuf;
use takedown_intel::builtin;
use takedown_intel::knowledge::{Lookup, LookupError, Record};
use takedown_intel::read::{self, FileDone, Streamed};
use takedown_intel::{IntelError, IntelObject};
use takedown_model::Tlp;
use takedown_store::{ImportBatch, ImportHeader, ImportSummary, StixRow, Store, StoredObject};

/// Imports the built-in pack unless the store already holds this version of it.
/// Returns what the import changed, if it ran.
pub fn ensure_builtin(store: &mut Store) -> Result<Option<ImportSummary>, AppError> {
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
        objects: builtin::objects().iter().map(IntelObject::to_row).collect(),
    };
    Ok(Some(store.import(&batch)?))
}

/// The store, read as intel.
#[derive(Debug)]
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

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// Files and directories (read recursively).
    pub inputs: Vec<PathBuf>,
    /// Mark what has no TLP marking with this level.
    pub tlp: Option<Tlp>,
    /// The organisation that owns what is imported; `None` for the server.
    pub org: Option<String>,
    pub limits: read::Limits,
}

/// What an import read and changed.
#[derive(Debug)]
pub struct Imported {
    /// Each file read, in the order they finished.
    pub files: Vec<FileDone>,
    /// Files in the directories given that are not intel files.
    pub passed_over: Vec<PathBuf>,
    pub summary: ImportSummary,
}

/// What the reading thread hands the writing one.
enum Piece {
    Rows(Vec<StixRow>),
    Done(FileDone),
    Rejected(IntelError),
}

/// Imports intel files, all or nothing, as `user`: if any file is rejected the
/// store is left as it was and every rejected file is in the error.
pub fn import(store: &mut Store, request: &ImportRequest, user: &str) -> Result<Imported, AppError> {
    let (files, passed_over) = read::expand(&request.inputs)?;
    if files.is_empty() {
        return Err(AppError::NoIntelFiles(request.inputs.clone()));
    }
    // An owner the server does not know would make the objects visible to no one.
    if let Some(name) = &request.org {
        if store.org(name)?.is_none() {
            return Err(AppError::NoOrg(name.clone()));
        }
    }
    let started = std::time::Instant::now();
    let header = ImportHeader {
        actor: user.to_string(),
        org: request.org.clone(),
        files: files.iter().map(|p| p.display().to_string()).collect(),
    };
    // Reading and storing overlap: one thread reads, parses and checks (on every
    // core), this one writes. The store keeps all of it in one transaction, so a file
    // rejected half-way leaves the store as it was.
    let mut done = Vec::new();
    let mut rejected = Vec::new();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Piece>(4);
    let tlp = request.tlp;
    let stored = std::thread::scope(|s| {
        s.spawn(|| {
            let tx = tx;
            read::stream_files(&files, &request.limits, &mut |streamed| {
                let piece = match streamed {
                    // Rows are made here, on the reading side, to keep the writer
                    // writing.
                    Streamed::Objects(objects) => Piece::Rows(
                        objects
                            .into_par_iter()
                            .map(|o| {
                                let mut new = o.to_row();
                                new.tlp = o.tlp_with(tlp);
                                new
                            })
                            .collect(),
                    ),
                    Streamed::Done(file) => Piece::Done(file),
                    Streamed::Rejected(e) => Piece::Rejected(e),
                };
                // The writer drains the channel to the end, so a send never fails
                // while it matters.
                let _ = tx.send(piece);
            });
        });
        let rows = rx
            .iter()
            .filter_map(|piece| match piece {
                Piece::Rows(rows) => Some(Ok(rows)),
                Piece::Done(file) => {
                    done.push(file);
                    None
                }
                Piece::Rejected(e) => {
                    rejected.push(e);
                    Some(Err(()))
                }
            })
            .flat_map(|chunk| match chunk {
                Ok(rows) => rows.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(()) => vec![Err(())],
            });
        let result = store.import_stream(&header, rows);
        // After an abandoned import, read on so that every rejected file is reported
        // (and the reader is never left blocked).
        for piece in rx.iter() {
            match piece {
                Piece::Rejected(e) => rejected.push(e),
                Piece::Done(file) => done.push(file),
                Piece::Rows(_) => {}
            }
        }
        result
    });
    tracing::info!(elapsed = ?started.elapsed(), files = files.len(), "read, checked and stored");
    if !rejected.is_empty() {
        return Err(AppError::ImportRejected { rejected, files: files.len() });
    }
    let summary = match stored? {
        Ok(summary) => summary,
        Err(()) => return Err(AppError::ImportAbandoned),
    };
    ensure_builtin(store)?;
    Ok(Imported { files: done, passed_over, summary })
}
