//! The box's settings changed through the API: a key → JSON table. The config
//! file gives the defaults; a value stored here overrides its key.

use rusqlite::{OptionalExtension, params};

use crate::{Result, Store, audit};

impl Store {
    /// Every stored setting.
    pub fn stored_settings(&self) -> Result<serde_json::Map<String, serde_json::Value>> {
        let mut statement = self
            .conn
            .prepare("SELECT key, value FROM settings ORDER BY key")?;
        let rows = statement.query_map([], |row| {
            let value: String = row.get(1)?;
            Ok((
                row.get::<_, String>(0)?,
                serde_json::from_str(&value).unwrap_or(serde_json::Value::String(value)),
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn stored_setting(&self, key: &str) -> Result<Option<serde_json::Value>> {
        let value: Option<String> = self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(value.map(|v| serde_json::from_str(&v).unwrap_or(serde_json::Value::String(v))))
    }

    /// Stores settings (a `null` value removes the key, back to the config file's),
    /// all in one transaction, audited.
    pub fn store_settings(
        &mut self,
        values: &serde_json::Map<String, serde_json::Value>,
        actor: &str,
    ) -> Result<()> {
        let tx = self.tx()?;
        for (key, value) in values {
            if value.is_null() {
                tx.execute("DELETE FROM settings WHERE key = ?1", [key])?;
            } else {
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![key, value.to_string()],
                )?;
            }
        }
        audit::record(
            &tx,
            actor,
            "settings.update",
            None,
            &serde_json::Value::Object(values.clone()),
        )?;
        tx.commit()?;
        Ok(())
    }
}
