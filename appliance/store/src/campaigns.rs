//! Campaign rows. The campaign model (settings, lifecycle, validation) belongs to
//! `shofar-campaign`; this module stores campaigns, moves them along the lifecycle
//! that crate defines, and audits every move.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use shofar_campaign::{Event, Kind, Purpose, Settings, Status, transition};

use crate::imports::{VISIBLE_CONTACT, visible_count};
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

/// The visible campaign named `name` (one an import is still creating is not).
pub(crate) fn find(conn: &Connection, name: &str) -> Result<Option<CampaignId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM campaigns WHERE name = ?1 AND staged_import IS NULL",
            [name],
            |row| row.get(0).map(CampaignId),
        )
        .optional()?)
}

/// Refuses `name` for a new or renamed campaign when another campaign has it,
/// visible or still being created by an import.
fn check_name_free(conn: &Connection, name: &str, except: Option<CampaignId>) -> Result<()> {
    let taken: Option<(i64, Option<i64>)> = conn
        .query_row(
            "SELECT id, staged_import FROM campaigns WHERE name = ?1",
            [name],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    match taken {
        Some((id, _)) if Some(CampaignId(id)) == except => Ok(()),
        Some((_, Some(job))) => Err(StoreError::ImportRunning {
            campaign: name.to_owned(),
            job,
        }),
        Some(_) => Err(StoreError::CampaignExists(name.to_owned())),
        None => Ok(()),
    }
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
        let tx = self.tx()?;
        check_name_free(&tx, name, None)?;
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
        let mut statement = self.conn.prepare(&format!(
            "SELECT c.id, c.name, c.kind, c.status, c.purpose, c.created_at,
                    {},
                    (SELECT count(*) FROM contacts
                      WHERE campaign_id = c.id AND blacklisted = 1 AND {VISIBLE_CONTACT})
             FROM campaigns c WHERE c.staged_import IS NULL ORDER BY c.id",
            visible_count("c.id")
        ))?;
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

/// A campaign to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign {
    pub name: String,
    pub kind: Kind,
    pub purpose: Purpose,
    pub settings: Settings,
    /// Calls contacts without recorded consent in a donation or advertising
    /// campaign; the reason is audited.
    pub consent_override: Option<String>,
}

impl From<shofar_campaign::ValidCampaign> for NewCampaign {
    fn from(valid: shofar_campaign::ValidCampaign) -> NewCampaign {
        NewCampaign {
            name: valid.name,
            kind: valid.kind,
            purpose: valid.purpose,
            settings: valid.settings,
            consent_override: valid.consent_override,
        }
    }
}

/// A campaign with its validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub kind: Kind,
    pub purpose: Purpose,
    pub status: Status,
    pub settings: Settings,
    pub consent_override: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: Option<String>,
}

impl Campaign {
    /// Whether only contacts with recorded consent may be called.
    pub fn consent_required(&self) -> bool {
        self.purpose.requires_consent() && self.consent_override.is_none()
    }
}

/// SQL: the campaign is not one an import is still creating.
const VISIBLE: &str = "staged_import IS NULL";

const CAMPAIGN_COLUMNS: &str = "id, name, kind, purpose, status, settings, consent_override_reason, \
                                created_at, updated_at, created_by";

fn campaign_from_row(row: &Row<'_>) -> rusqlite::Result<Result<Campaign>> {
    let id: i64 = row.get(0)?;
    let corrupt = |detail: String| StoreError::Corrupt {
        table: "campaigns",
        detail: format!("campaign {id}: {detail}"),
    };
    let kind: String = row.get(2)?;
    let purpose: String = row.get(3)?;
    let status: String = row.get(4)?;
    let settings: String = row.get(5)?;
    let build = || -> Result<Campaign> {
        Ok(Campaign {
            id: CampaignId(id),
            name: row.get(1)?,
            kind: Kind::parse(&kind).ok_or_else(|| corrupt(format!("kind {kind:?}")))?,
            purpose: Purpose::parse(&purpose)
                .ok_or_else(|| corrupt(format!("purpose {purpose:?}")))?,
            status: status.parse().map_err(corrupt)?,
            settings: Settings::from_json(&settings)
                .map_err(|source| StoreError::StoredSettings { id, source })?,
            consent_override: row.get(6)?,
            created_at: row.get(7)?,
            updated_at: row.get(8)?,
            created_by: row.get(9)?,
        })
    };
    Ok(build())
}

impl Store {
    /// Creates a draft campaign from validated settings.
    pub fn insert_campaign(&mut self, new: &NewCampaign, actor: &str) -> Result<CampaignId> {
        let tx = self.tx()?;
        check_name_free(&tx, &new.name, None)?;
        let at = format_time(crate::now());
        let settings = new.settings.to_json();
        tx.execute(
            "INSERT INTO campaigns (name, kind, purpose, settings, consent_override_reason,
                                    created_at, updated_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
            params![
                new.name,
                new.kind.as_str(),
                new.purpose.as_str(),
                settings,
                new.consent_override,
                at,
                actor
            ],
        )?;
        let id = CampaignId(tx.last_insert_rowid());
        audit::record(
            &tx,
            actor,
            "campaign.create",
            Some(("campaign", &id.0.to_string())),
            &serde_json::json!({
                "name": new.name,
                "type": new.kind.as_str(),
                "purpose": new.purpose.as_str(),
                "settings": serde_json::from_str::<serde_json::Value>(&settings).unwrap_or_default(),
            }),
        )?;
        if let Some(reason) = &new.consent_override {
            audit::record(
                &tx,
                actor,
                "campaign.consent_override",
                Some(("campaign", &id.0.to_string())),
                &serde_json::json!({ "purpose": new.purpose.as_str(), "reason": reason }),
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// The campaign with this id.
    pub fn campaign(&self, id: CampaignId) -> Result<Campaign> {
        self.conn
            .query_row(
                &format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?1 AND {VISIBLE}"),
                [id.0],
                campaign_from_row,
            )
            .optional()?
            .ok_or(StoreError::NoSuchCampaignId(id.0))?
    }

    /// A campaign by id (`12`) or by name.
    pub fn resolve_campaign(&self, key: &str) -> Result<CampaignId> {
        if let Ok(id) = key.parse::<i64>() {
            let exists: Option<i64> = self
                .conn
                .query_row(
                    "SELECT id FROM campaigns WHERE id = ?1 AND staged_import IS NULL",
                    [id],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(id) = exists {
                return Ok(CampaignId(id));
            }
        }
        self.require_campaign(key)
    }

    /// Campaigns the scheduler looks after: scheduled and active, by id.
    pub fn running_campaigns(&self) -> Result<Vec<Campaign>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns
             WHERE (status = 'scheduled' OR status = 'active') AND {VISIBLE} ORDER BY id"
        ))?;
        let rows = statement.query_map([], campaign_from_row)?;
        rows.map(|row| row?).collect()
    }

    /// Moves a campaign along its lifecycle and audits the move (who, when, from,
    /// to, why). The move is checked against the state in the database inside the
    /// transaction, so two racing commands cannot both apply.
    pub fn campaign_event(
        &mut self,
        id: CampaignId,
        event: Event,
        now: DateTime<Utc>,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<(Status, Status)> {
        let tx = self.tx()?;
        let campaign = tx
            .query_row(
                &format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?1 AND {VISIBLE}"),
                [id.0],
                campaign_from_row,
            )
            .optional()?
            .ok_or(StoreError::NoSuchCampaignId(id.0))??;
        let from = campaign.status;
        let to = transition(from, event, campaign.settings.start, now)
            .map_err(|source| StoreError::Transition { id: id.0, source })?;
        tx.execute(
            "UPDATE campaigns SET status = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.0, to.as_str(), format_time(now)],
        )?;
        audit::record(
            &tx,
            actor,
            &format!("campaign.{}", event.as_str()),
            Some(("campaign", &id.0.to_string())),
            &serde_json::json!({
                "from": from.as_str(),
                "to": to.as_str(),
                "at": format_time(now),
                "reason": reason,
            }),
        )?;
        tx.commit()?;
        tracing::info!(campaign = id.0, %from, %to, event = event.as_str(), actor, "campaign status changed");
        Ok((from, to))
    }
}

impl Store {
    /// Replaces a campaign's name, type, purpose, settings and consent override with
    /// validated ones. A completed or cancelled campaign is history and does not
    /// change; a running one takes the new settings from the dialer's next round.
    pub fn update_campaign(
        &mut self,
        id: CampaignId,
        new: &NewCampaign,
        actor: &str,
    ) -> Result<Campaign> {
        let tx = self.tx()?;
        let before = tx
            .query_row(
                &format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?1 AND {VISIBLE}"),
                [id.0],
                campaign_from_row,
            )
            .optional()?
            .ok_or(StoreError::NoSuchCampaignId(id.0))??;
        if before.status.is_final() {
            return Err(StoreError::InUse(format!(
                "campaign {} is {}: its settings are kept as they were; create a new campaign",
                id.0, before.status
            )));
        }
        check_name_free(&tx, &new.name, Some(id))?;
        let settings = new.settings.to_json();
        tx.execute(
            "UPDATE campaigns SET name = ?2, kind = ?3, purpose = ?4, settings = ?5,
                    consent_override_reason = ?6, updated_at = ?7
             WHERE id = ?1",
            params![
                id.0,
                new.name,
                new.kind.as_str(),
                new.purpose.as_str(),
                settings,
                new.consent_override,
                format_time(crate::now())
            ],
        )?;
        audit::record(
            &tx,
            actor,
            "campaign.update",
            Some(("campaign", &id.0.to_string())),
            &serde_json::json!({
                "name": new.name,
                "type": new.kind.as_str(),
                "purpose": new.purpose.as_str(),
                "settings": serde_json::from_str::<serde_json::Value>(&settings).unwrap_or_default(),
            }),
        )?;
        if new.consent_override.is_some() && new.consent_override != before.consent_override {
            audit::record(
                &tx,
                actor,
                "campaign.consent_override",
                Some(("campaign", &id.0.to_string())),
                &serde_json::json!({ "purpose": new.purpose.as_str(), "reason": new.consent_override }),
            )?;
        }
        tx.commit()?;
        self.campaign(id)
    }

    /// Deletes a draft campaign with its contacts. A campaign that has placed a call
    /// is kept for its records: cancel it instead.
    pub fn delete_campaign(&mut self, id: CampaignId, actor: &str) -> Result<()> {
        let tx = self.tx()?;
        let (name, status): (String, String) = tx
            .query_row(
                "SELECT name, status FROM campaigns WHERE id = ?1 AND staged_import IS NULL",
                [id.0],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?
            .ok_or(StoreError::NoSuchCampaignId(id.0))?;
        let calls: i64 = tx.query_row(
            "SELECT count(*) FROM call_records WHERE campaign_id = ?1",
            [id.0],
            |row| row.get(0),
        )?;
        if status != "draft" || calls > 0 {
            return Err(StoreError::InUse(format!(
                "campaign {} is {status}{}: only a draft that never called can be deleted; cancel it \
                 instead (its records stay for reports)",
                id.0,
                if calls > 0 {
                    format!(" with {calls} call records")
                } else {
                    String::new()
                }
            )));
        }
        tx.execute("DELETE FROM campaigns WHERE id = ?1", [id.0])?;
        audit::record(
            &tx,
            actor,
            "campaign.delete",
            Some(("campaign", &id.0.to_string())),
            &serde_json::json!({ "name": name }),
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Why a campaign may not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartBlocker {
    /// Its kind cannot run on this box (SMS and hybrid: no SMS sending yet).
    KindUnavailable(Kind),
    /// Its end is in the past.
    EndPassed(DateTime<Utc>),
    /// No contact could be called: none imported, all reached or blacklisted, or
    /// (when it needs consent) none with recorded consent.
    NothingToCall { consent_required: bool },
}

impl Store {
    /// Whether `campaign` may start at `now`, and if not, why.
    pub fn start_blocker(
        &self,
        campaign: &Campaign,
        now: DateTime<Utc>,
    ) -> Result<Option<StartBlocker>> {
        if !campaign.kind.can_run() {
            return Ok(Some(StartBlocker::KindUnavailable(campaign.kind)));
        }
        if let Some(end) = campaign.settings.end
            && end <= now
        {
            return Ok(Some(StartBlocker::EndPassed(end)));
        }
        let consent_required = campaign.consent_required();
        if !self.has_work_left(
            campaign.id,
            campaign.settings.max_attempts,
            consent_required,
        )? {
            return Ok(Some(StartBlocker::NothingToCall { consent_required }));
        }
        Ok(None)
    }
}
