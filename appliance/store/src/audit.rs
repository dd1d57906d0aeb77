//! The audit log: who did what to what, and when. Append-only.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::{Result, Store, format_time, parse_time};

/// One audit-log row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub details: serde_json::Value,
}

pub(crate) fn record(
    conn: &Connection,
    actor: &str,
    action: &str,
    subject: Option<(&str, &str)>,
    details: &serde_json::Value,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor, action, subject_kind, subject_id, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        format_time(crate::now()),
        actor,
        action,
        subject.map(|s| s.0),
        subject.map(|s| s.1),
        details.to_string()
    ])?;
    Ok(())
}

impl Store {
    /// Records an action that changes nothing in the database itself (an update
    /// handed to the installer, a reboot asked for): who, what, and its details.
    pub fn record_audit(
        &self,
        actor: &str,
        action: &str,
        details: &serde_json::Value,
    ) -> Result<()> {
        record(&self.conn, actor, action, None, details)
    }

    /// The most recent audit entries, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let mut statement = self.conn.prepare(
            "SELECT at, actor, action, subject_kind, subject_id, details
             FROM audit_log ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([limit as i64], |row| {
            let at: String = row.get(0)?;
            let details: String = row.get(5)?;
            Ok(AuditEntry {
                at: parse_time(&at).unwrap_or_default(),
                actor: row.get(1)?,
                action: row.get(2)?,
                subject_kind: row.get(3)?,
                subject_id: row.get(4)?,
                details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
