//! The agent's own durable state, in redb (`DATA/sync/state.redb`): where each
//! stream stands, the record batch being uploaded, every do-not-call operation
//! merged, which S3 objects were applied, the installed model, the counters.
//!
//! Every write is one transaction committed with `Durability::Immediate` (fsync):
//! when a call here returns, the state survives a power cut. The records
//! themselves are never copied here — the supervisor's SQLite keeps them — so this
//! file grows only with the merged do-not-call list and the applied-object keys.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::wire::DncOp;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const OPS: TableDefinition<&str, &[u8]> = TableDefinition::new("dnc_ops");
const APPLIED: TableDefinition<&str, u64> = TableDefinition::new("applied_objects");

#[derive(Debug, Error)]
pub enum StateError {
    #[error("the sync state {path} cannot be used: {detail}")]
    Db { path: PathBuf, detail: String },
    #[error("the sync state holds an unreadable value under {key}: {detail}")]
    Value { key: String, detail: String },
}

pub type Result<T, E = StateError> = std::result::Result<T, E>;

pub struct State {
    db: Database,
    path: PathBuf,
}

impl State {
    /// Opens (or makes) `DIR/state.redb`.
    pub fn open(dir: &Path) -> Result<State> {
        let path = dir.join("state.redb");
        let fail = |detail: String| StateError::Db {
            path: path.clone(),
            detail,
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        let db = Database::create(&path).map_err(|e| fail(e.to_string()))?;
        let state = State { db, path };
        // Make the tables, so reads never meet a missing one.
        state.write(|tx| {
            tx.open_table(META)?;
            tx.open_table(OPS)?;
            tx.open_table(APPLIED)?;
            Ok(())
        })?;
        Ok(state)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's size on disk (counted against `max_disk_mb`).
    pub fn size_bytes(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }

    fn err(&self, e: impl std::fmt::Display) -> StateError {
        StateError::Db {
            path: self.path.clone(),
            detail: e.to_string(),
        }
    }

    fn write(
        &self,
        body: impl FnOnce(&redb::WriteTransaction) -> std::result::Result<(), redb::Error>,
    ) -> Result<()> {
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        body(&tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(META).map_err(|e| self.err(e))?;
        let Some(value) = table.get(key).map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        serde_json::from_slice(value.value())
            .map(Some)
            .map_err(|e| StateError::Value {
                key: key.to_owned(),
                detail: e.to_string(),
            })
    }

    /// Writes several values in one durable transaction.
    pub fn put_all(&self, values: &[(&str, serde_json::Value)]) -> Result<()> {
        let encoded: Vec<(&str, Vec<u8>)> = values
            .iter()
            .map(|(k, v)| (*k, serde_json::to_vec(v).expect("JSON values encode")))
            .collect();
        self.write(|tx| {
            let mut table = tx.open_table(META)?;
            for (k, v) in &encoded {
                table.insert(*k, v.as_slice())?;
            }
            Ok(())
        })
    }

    pub fn put<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        let value = serde_json::to_value(value).expect("state values encode");
        self.put_all(&[(key, value)])
    }

    pub fn remove(&self, key: &str) -> Result<()> {
        self.write(|tx| {
            tx.open_table(META)?.remove(key)?;
            Ok(())
        })
    }

    /// Every merged do-not-call operation (to rebuild the set at start).
    pub fn ops(&self) -> Result<Vec<DncOp>> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(OPS).map_err(|e| self.err(e))?;
        let mut ops = Vec::new();
        for entry in table.iter().map_err(|e| self.err(e))? {
            let (key, value) = entry.map_err(|e| self.err(e))?;
            let op = serde_json::from_slice(value.value()).map_err(|e| StateError::Value {
                key: key.value().to_owned(),
                detail: e.to_string(),
            })?;
            ops.push(op);
        }
        Ok(ops)
    }

    /// Records operations as merged and, in the same transaction, S3 objects as
    /// applied (with the time, seconds since the epoch).
    pub fn merged(&self, ops: &[DncOp], objects: &[&str], now: u64) -> Result<()> {
        self.write(|tx| {
            let mut table = tx.open_table(OPS)?;
            for op in ops {
                let value = serde_json::to_vec(op).expect("ops encode");
                table.insert(op.id().as_str(), value.as_slice())?;
            }
            let mut applied = tx.open_table(APPLIED)?;
            for key in objects {
                applied.insert(*key, now)?;
            }
            Ok(())
        })
    }

    pub fn is_applied(&self, key: &str) -> Result<bool> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(APPLIED).map_err(|e| self.err(e))?;
        Ok(table.get(key).map_err(|e| self.err(e))?.is_some())
    }

    pub fn applied_count(&self) -> Result<u64> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(APPLIED).map_err(|e| self.err(e))?;
        table.len().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let state = State::open(dir.path()).unwrap();
            state.put("pos", &42i64).unwrap();
            state
                .merged(&[], &["acme/dnc/changes/central/x.json"], 7)
                .unwrap();
        }
        let state = State::open(dir.path()).unwrap();
        assert_eq!(state.get::<i64>("pos").unwrap(), Some(42));
        assert_eq!(state.get::<i64>("missing").unwrap(), None);
        assert!(state.is_applied("acme/dnc/changes/central/x.json").unwrap());
        assert!(!state.is_applied("other").unwrap());
    }
}
