//! What campaigns play and run: IVR flows (the engine's JSON, validated by the
//! caller before it gets here) and the register of converted audio prompts.
//!
//! A prompt's audio lives in files (converted once for Asterisk); this register
//! says which prompts exist, from what, and since when, so the API can list them
//! and a campaign can refer to them. Its key is `FOLDER/NAME`: `prompts/menu` is
//! the box's `menu` prompt, `campaign-3/campaign` campaign 3's message.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::{Result, Store, StoreError, audit, format_time, parse_time};

/// A stored IVR flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredFlow {
    pub id: i64,
    pub name: String,
    /// The engine's JSON, as saved.
    pub definition: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A converted prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioFile {
    pub id: i64,
    /// `FOLDER/NAME`.
    pub key: String,
    /// Where the converted files are.
    pub path: String,
    pub duration_ms: Option<i64>,
    /// Of the uploaded file, before conversion.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
}

fn time(row: &Row<'_>, index: usize) -> rusqlite::Result<DateTime<Utc>> {
    Ok(parse_time(&row.get::<_, String>(index)?).unwrap_or_default())
}

fn flow_from_row(row: &Row<'_>) -> rusqlite::Result<StoredFlow> {
    let definition: String = row.get(2)?;
    Ok(StoredFlow {
        id: row.get(0)?,
        name: row.get(1)?,
        definition: serde_json::from_str(&definition).unwrap_or(serde_json::Value::Null),
        created_at: time(row, 3)?,
        updated_at: time(row, 4)?,
    })
}

fn audio_from_row(row: &Row<'_>) -> rusqlite::Result<AudioFile> {
    Ok(AudioFile {
        id: row.get(0)?,
        key: row.get(1)?,
        path: row.get(2)?,
        duration_ms: row.get(3)?,
        sha256: row.get(4)?,
        created_at: time(row, 5)?,
        created_by: row.get(6)?,
    })
}

const FLOW_COLUMNS: &str = "id, name, definition, created_at, updated_at";
const AUDIO_COLUMNS: &str = "id, name, path, duration_ms, sha256, created_at, created_by";

/// Campaigns not yet over whose settings name this flow.
fn campaigns_using_flow(conn: &rusqlite::Connection, name: &str) -> Result<Vec<String>> {
    let mut statement = conn.prepare(
        "SELECT name FROM campaigns
         WHERE json_extract(settings, '$.ivr_flow') = ?1
           AND status NOT IN ('completed', 'cancelled')
         ORDER BY id",
    )?;
    let rows = statement.query_map([name], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Store {
    pub fn flows(&self) -> Result<Vec<StoredFlow>> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT {FLOW_COLUMNS} FROM ivr_flows ORDER BY name"
        ))?;
        let rows = statement.query_map([], flow_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn flow(&self, id: i64) -> Result<Option<StoredFlow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {FLOW_COLUMNS} FROM ivr_flows WHERE id = ?1"),
                [id],
                flow_from_row,
            )
            .optional()?)
    }

    pub fn flow_by_name(&self, name: &str) -> Result<Option<StoredFlow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {FLOW_COLUMNS} FROM ivr_flows WHERE name = ?1"),
                [name],
                flow_from_row,
            )
            .optional()?)
    }

    /// Saves a new flow. `definition` must already be valid for the engine.
    pub fn flow_insert(
        &mut self,
        name: &str,
        definition: &serde_json::Value,
        actor: &str,
    ) -> Result<StoredFlow> {
        let tx = self.tx()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM ivr_flows WHERE name = ?1)",
            [name],
            |row| row.get(0),
        )?;
        if exists {
            return Err(StoreError::FlowExists(name.to_owned()));
        }
        let now = format_time(crate::now());
        tx.execute(
            "INSERT INTO ivr_flows (name, definition, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
            params![name, definition.to_string(), now],
        )?;
        let id = tx.last_insert_rowid();
        audit::record(
            &tx,
            actor,
            "ivr_flow.create",
            Some(("ivr_flow", name)),
            &serde_json::json!({}),
        )?;
        tx.commit()?;
        self.flow(id)?
            .ok_or_else(|| StoreError::NoSuchFlow(name.to_owned()))
    }

    /// Replaces a flow's definition (and renames it, when `name` differs). Campaigns
    /// that use it call with the new definition from their next call on; a rename
    /// is refused while a campaign not yet over refers to the old name.
    pub fn flow_update(
        &mut self,
        id: i64,
        name: &str,
        definition: &serde_json::Value,
        actor: &str,
    ) -> Result<StoredFlow> {
        let tx = self.tx()?;
        let old_name: String = tx
            .query_row("SELECT name FROM ivr_flows WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .optional()?
            .ok_or_else(|| StoreError::NoSuchFlow(id.to_string()))?;
        if old_name != name {
            let clash: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM ivr_flows WHERE name = ?1)",
                [name],
                |row| row.get(0),
            )?;
            if clash {
                return Err(StoreError::FlowExists(name.to_owned()));
            }
            let users = campaigns_using_flow(&tx, &old_name)?;
            if !users.is_empty() {
                return Err(StoreError::InUse(format!(
                    "the flow {old_name:?} cannot be renamed while campaigns use it: {}",
                    users.join(", ")
                )));
            }
        }
        tx.execute(
            "UPDATE ivr_flows SET name = ?2, definition = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, name, definition.to_string(), format_time(crate::now())],
        )?;
        audit::record(
            &tx,
            actor,
            "ivr_flow.update",
            Some(("ivr_flow", name)),
            &serde_json::json!({ "renamed_from": (old_name != name).then_some(&old_name) }),
        )?;
        tx.commit()?;
        self.flow(id)?
            .ok_or_else(|| StoreError::NoSuchFlow(id.to_string()))
    }

    /// Deletes a flow no campaign still running or to run refers to.
    pub fn flow_delete(&mut self, id: i64, actor: &str) -> Result<()> {
        let tx = self.tx()?;
        let name: String = tx
            .query_row("SELECT name FROM ivr_flows WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .optional()?
            .ok_or_else(|| StoreError::NoSuchFlow(id.to_string()))?;
        let users = campaigns_using_flow(&tx, &name)?;
        if !users.is_empty() {
            return Err(StoreError::InUse(format!(
                "the flow {name:?} is used by campaigns: {}; choose another flow for them first",
                users.join(", ")
            )));
        }
        tx.execute("DELETE FROM ivr_flows WHERE id = ?1", [id])?;
        audit::record(
            &tx,
            actor,
            "ivr_flow.delete",
            Some(("ivr_flow", &name)),
            &serde_json::json!({}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Registers a converted prompt, replacing the entry of the same key.
    pub fn audio_register(
        &mut self,
        key: &str,
        path: &str,
        duration_ms: i64,
        sha256: &str,
        actor: &str,
    ) -> Result<AudioFile> {
        let tx = self.tx()?;
        tx.execute(
            "INSERT INTO audio_files (name, path, duration_ms, sha256, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (name) DO UPDATE SET path = excluded.path,
                 duration_ms = excluded.duration_ms, sha256 = excluded.sha256,
                 created_at = excluded.created_at, created_by = excluded.created_by",
            params![
                key,
                path,
                duration_ms,
                sha256,
                format_time(crate::now()),
                actor
            ],
        )?;
        audit::record(
            &tx,
            actor,
            "audio.add",
            Some(("audio", key)),
            &serde_json::json!({ "sha256": sha256, "duration_ms": duration_ms }),
        )?;
        tx.commit()?;
        self.audio(key)?
            .ok_or_else(|| StoreError::NoSuchAudio(key.to_owned()))
    }

    pub fn audio(&self, key: &str) -> Result<Option<AudioFile>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {AUDIO_COLUMNS} FROM audio_files WHERE name = ?1"),
                [key],
                audio_from_row,
            )
            .optional()?)
    }

    pub fn audio_files(&self) -> Result<Vec<AudioFile>> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT {AUDIO_COLUMNS} FROM audio_files ORDER BY name"
        ))?;
        let rows = statement.query_map([], audio_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Forgets a prompt (the caller removes its files). Returns whether it existed.
    pub fn audio_unregister(&mut self, key: &str, actor: &str) -> Result<bool> {
        let tx = self.tx()?;
        let removed = tx.execute("DELETE FROM audio_files WHERE name = ?1", [key])?;
        if removed > 0 {
            audit::record(
                &tx,
                actor,
                "audio.delete",
                Some(("audio", key)),
                &serde_json::json!({}),
            )?;
        }
        tx.commit()?;
        Ok(removed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flow_in_use_by_a_campaign_can_be_neither_deleted_nor_renamed() {
        let mut store = Store::open_in_memory().unwrap();
        let definition = serde_json::json!({"version": 1, "start": "a", "nodes": {}});
        let flow = store.flow_insert("donations", &definition, "t").unwrap();
        assert!(matches!(
            store.flow_insert("donations", &definition, "t"),
            Err(StoreError::FlowExists(_))
        ));
        let campaign = store.create_campaign("Winter 2026", "t").unwrap();
        store
            .connection()
            .execute(
                "UPDATE campaigns SET settings = json_set(settings, '$.ivr_flow', 'donations') WHERE id = ?1",
                [campaign.0],
            )
            .unwrap();
        assert!(matches!(
            store.flow_delete(flow.id, "t"),
            Err(StoreError::InUse(_))
        ));
        assert!(matches!(
            store.flow_update(flow.id, "renamed", &definition, "t"),
            Err(StoreError::InUse(_))
        ));
        // The definition itself may change.
        let changed = serde_json::json!({"version": 1, "start": "b", "nodes": {}});
        let updated = store
            .flow_update(flow.id, "donations", &changed, "t")
            .unwrap();
        assert_eq!(updated.definition, changed);
    }

    #[test]
    fn registering_a_prompt_again_replaces_it() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .audio_register("prompts/menu", "/s/prompts", 1200, "aa", "t")
            .unwrap();
        let again = store
            .audio_register("prompts/menu", "/s/prompts", 900, "bb", "t")
            .unwrap();
        assert_eq!(
            (again.duration_ms, again.sha256.as_str()),
            (Some(900), "bb")
        );
        assert_eq!(store.audio_files().unwrap().len(), 1);
        assert!(store.audio_unregister("prompts/menu", "t").unwrap());
        assert!(!store.audio_unregister("prompts/menu", "t").unwrap());
    }
}
