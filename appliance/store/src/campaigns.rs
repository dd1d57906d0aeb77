//! Campaign rows. The campaign model (settings, lifecycle, validation) belongs to the
//! campaign layer; this module stores and finds campaigns.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::{Result, Store, StoreError, audit, format_time};

/// Row id of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CampaignId(pub i64);

/// What a listing shows of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignSummary {
    pub id: CampaignId,
    pub name: String,
    pub kind: String,
    pub status: String,
    pub purpose: String,
    pub contacts: u64,
    pub blacklisted_contacts: u64,
    pub created_at: String,
}

pub(crate) fn find(conn: &Connection, name: &str) -> Result<Option<CampaignId>> {
    Ok(conn
        .query_row("SELECT id FROM campaigns WHERE name = ?1", [name], |row| {
            row.get(0).map(CampaignId)
        })
        .optional()?)
}

/// Inserts a draft campaign and audits it, inside the caller's transaction.
pub(crate) fn insert(conn: &Connection, name: &str, actor: &str) -> Result<CampaignId> {
    let at = format_time(crate::now());
    conn.execute(
        "INSERT INTO campaigns (name, created_at, updated_at, created_by) VALUES (?1, ?2, ?2, ?3)",
        params![name, at, actor],
    )?;
    let id = CampaignId(conn.last_insert_rowid());
    audit::record(
        conn,
        actor,
        "campaign.create",
        Some(("campaign", &id.0.to_string())),
        &serde_json::json!({ "name": name }),
    )?;
    Ok(id)
}

impl Store {
    /// Creates a draft voice campaign named `name`.
    pub fn create_campaign(&mut self, name: &str, actor: &str) -> Result<CampaignId> {
        let tx = self.conn.transaction()?;
        if find(&tx, name)?.is_some() {
            return Err(StoreError::CampaignExists(name.to_owned()));
        }
        let id = insert(&tx, name, actor)?;
        tx.commit()?;
        Ok(id)
    }

    pub fn campaign_id(&self, name: &str) -> Result<Option<CampaignId>> {
        find(&self.conn, name)
    }

    /// The campaign named `name`, or a [`StoreError::NoSuchCampaign`] that says how to
    /// create it.
    pub fn require_campaign(&self, name: &str) -> Result<CampaignId> {
        self.campaign_id(name)?
            .ok_or_else(|| StoreError::NoSuchCampaign(name.to_owned()))
    }

    pub fn list_campaigns(&self) -> Result<Vec<CampaignSummary>> {
        let mut statement = self.conn.prepare(
            "SELECT c.id, c.name, c.kind, c.status, c.purpose, c.created_at,
                    (SELECT count(*) FROM contacts WHERE campaign_id = c.id),
                    (SELECT count(*) FROM contacts WHERE campaign_id = c.id AND blacklisted = 1)
             FROM campaigns c ORDER BY c.id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(CampaignSummary {
                id: CampaignId(row.get(0)?),
                name: row.get(1)?,
                kind: row.get(2)?,
                status: row.get(3)?,
                purpose: row.get(4)?,
                created_at: row.get(5)?,
                contacts: row.get::<_, i64>(6)? as u64,
                blacklisted_contacts: row.get::<_, i64>(7)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
