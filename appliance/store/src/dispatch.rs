//! What the scheduler reads and writes: the contacts that may be dialed, in dispatch
//! order, a page at a time; claiming one for a call; and what its outcome makes of it.
//!
//! The order is the `contacts_dispatch` index: per campaign and zone, best score
//! first, then import order. Queries walk it with `LIMIT`, so a campaign of a million
//! contacts is never read whole. It holds no row an import has not made visible
//! (`staged_import IS NULL`, see [`crate::imports`]), so an import running into a
//! campaign never slows its dispatch.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use shofar_campaign::NextStep;
use shofar_phone::E164;

use crate::campaigns::CampaignId;
use crate::imports::VISIBLE_CONTACT;
use crate::{Result, Store, StoreError, format_time};

/// A contact that may be dialed now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub contact_id: i64,
    pub campaign: CampaignId,
    pub e164: E164,
    /// Calls made to it so far.
    pub attempts: u32,
    pub score: f64,
    /// Its own zone (`None`: the campaign's).
    pub time_zone: Option<String>,
    /// Whether the current hour is one of its predicted best hours (property 33).
    pub in_predicted_window: bool,
}

/// Which of a zone's contacts a query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Among the first `lookahead` contacts of the order, those whose predicted
    /// best hours include the hour with this bit. The lookahead bounds the scan in
    /// an hour when few contacts (or none) are predicted to answer.
    InWindow { bit: u32, lookahead: usize },
    /// All of them, in order.
    All,
}

/// One page of the dispatch order.
#[derive(Debug, Clone, Copy)]
pub struct CandidateQuery<'a> {
    pub campaign: CampaignId,
    /// The zone, `None` for contacts in the campaign's zone.
    pub zone: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub max_attempts: u32,
    pub consent_required: bool,
    pub tier: Tier,
    pub limit: usize,
}

/// Where a campaign's contacts stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ContactCounts {
    pub total: u64,
    /// Not yet reached and still to be tried (includes those waiting for a retry).
    pub pending: u64,
    /// Pending and due now (attempts and retry time allow; windows aside).
    pub due: u64,
    /// Pending but waiting for their retry time.
    pub waiting_retry: u64,
    pub in_progress: u64,
    pub completed: u64,
    pub failed: u64,
    /// On the do-not-call list (marked, or ended as blacklisted).
    pub blacklisted: u64,
    /// Pending contacts left out because the campaign needs consent they lack.
    pub without_consent: u64,
}

/// A page of the dispatch order. The inner query walks the index only (every
/// column it reads is in it); the table is read for the rows returned.
const CANDIDATES: &str =
    "SELECT c.id, c.e164, c.attempts, d.score, ifnull(d.best_hours, 0) & ?6 != 0
       FROM (SELECT id, score, best_hours FROM contacts INDEXED BY contacts_dispatch
              WHERE campaign_id = ?1 AND ifnull(time_zone, '') = ?2
                AND status = 'pending' AND blacklisted = 0 AND staged_import IS NULL
                AND (next_attempt_at IS NULL OR next_attempt_at <= ?3)
                AND attempts < ?4
                AND (?5 = 0 OR consent = 'given')
              ORDER BY score DESC, id LIMIT ?8) AS d
       JOIN contacts c ON c.id = d.id
      WHERE ?6 = 0 OR ifnull(d.best_hours, 0) & ?6 != 0
      ORDER BY d.score DESC, d.id
      LIMIT ?7";

/// The zones of a campaign's dialable contacts, one index seek each.
const ZONES: &str = "WITH RECURSIVE zones(zone) AS (
                 SELECT min(ifnull(time_zone, '')) FROM contacts
                  WHERE campaign_id = ?1 AND status = 'pending' AND blacklisted = 0
                    AND staged_import IS NULL
                 UNION ALL
                 SELECT (SELECT min(ifnull(time_zone, '')) FROM contacts
                          WHERE campaign_id = ?1 AND status = 'pending' AND blacklisted = 0
                            AND staged_import IS NULL
                            AND ifnull(time_zone, '') > zones.zone)
                   FROM zones WHERE zones.zone IS NOT NULL
             )
             SELECT zone FROM zones WHERE zone IS NOT NULL";

/// Whether a campaign has anyone left to call (see [`Store::has_work_left`]).
const HAS_WORK_LEFT: &str = "SELECT EXISTS (SELECT 1 FROM contacts INDEXED BY contacts_dispatch
                                 WHERE campaign_id = ?1 AND status = 'pending' AND blacklisted = 0
                                   AND staged_import IS NULL
                                   AND attempts < ?2 AND (?3 = 0 OR consent = 'given'))
                     OR EXISTS (SELECT 1 FROM contacts
                                 WHERE campaign_id = ?1 AND status = 'in_progress')
                     OR EXISTS (SELECT 1 FROM contacts
                                 WHERE staged_import IN (SELECT id FROM import_jobs
                                                          WHERE campaign_id = ?1
                                                            AND status = 'completed')
                                   AND status = 'pending' AND blacklisted = 0
                                   AND attempts < ?2 AND (?3 = 0 OR consent = 'given'))";

impl Store {
    /// The zones a campaign's dialable contacts are in (`None`: the campaign's own).
    /// Each step is one index seek, however many contacts there are.
    pub fn dispatch_zones(&self, campaign: CampaignId) -> Result<Vec<Option<String>>> {
        let mut statement = self.conn.prepare_cached(ZONES)?;
        let zones = statement.query_map([campaign.0], |row| row.get::<_, String>(0))?;
        zones
            .map(|zone| Ok(zone.map(|zone| Some(zone).filter(|z| !z.is_empty()))?))
            .collect()
    }

    /// The next contacts of one zone and tier in dispatch order: pending, not
    /// blacklisted, attempts below the maximum, retry time reached, consent when
    /// required; best score first, then import order.
    pub fn dispatch_candidates(&self, query: &CandidateQuery<'_>) -> Result<Vec<Candidate>> {
        let (bit, lookahead) = match query.tier {
            Tier::InWindow { bit, lookahead } => (bit, lookahead as i64),
            Tier::All => (0, -1),
        };
        let mut statement = self.conn.prepare_cached(CANDIDATES)?;
        let rows = statement.query_map(
            params![
                query.campaign.0,
                query.zone.unwrap_or(""),
                format_time(query.now),
                query.max_attempts,
                query.consent_required,
                bit,
                query.limit as i64,
                lookahead
            ],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, u32>(2)?,
                    row.get::<_, f64>(3)?,
                    row.get::<_, bool>(4)?,
                ))
            },
        )?;
        rows.map(|row| {
            let (contact_id, e164, attempts, score, in_window) = row?;
            let e164 = E164::from_u64(e164 as u64).ok_or_else(|| StoreError::Corrupt {
                table: "contacts",
                detail: format!("contact {contact_id}: number {e164}"),
            })?;
            Ok(Candidate {
                contact_id,
                campaign: query.campaign,
                e164,
                attempts,
                score,
                time_zone: query.zone.map(str::to_owned),
                in_predicted_window: in_window,
            })
        })
        .collect()
    }

    /// Takes a contact for a call: it becomes in progress and its attempt is counted
    /// before anything is dialed, so a crash can never give it an attempt beyond the
    /// maximum. `None` if it is no longer pending (another dispatcher took it, or it
    /// was blacklisted meanwhile). Returns the attempt number.
    pub fn claim_contact(&mut self, contact_id: i64, now: DateTime<Utc>) -> Result<Option<u32>> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE contacts
                    SET status = 'in_progress', attempts = attempts + 1, last_attempt_at = ?2
                  WHERE id = ?1 AND status = 'pending' AND blacklisted = 0
                  RETURNING attempts",
            )?
            .query_row(params![contact_id, format_time(now)], |row| row.get(0))
            .optional()?)
    }

    /// Claims several contacts in one transaction (see [`Store::claim_contact`]);
    /// returns each one still pending with its attempt number.
    pub fn claim_contacts(
        &mut self,
        contact_ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<Vec<(i64, u32)>> {
        self.transaction(|store| {
            let mut claimed = Vec::with_capacity(contact_ids.len());
            for &contact_id in contact_ids {
                if let Some(attempt) = store.claim_contact(contact_id, now)? {
                    claimed.push((contact_id, attempt));
                }
            }
            Ok(claimed)
        })
    }

    /// Gives back contacts that were claimed but never dialed (no call record was
    /// written for the attempt): pending again, the attempt no longer counted.
    /// Returns how many were given back.
    pub fn unclaim_contacts(&mut self, contact_ids: &[i64]) -> Result<usize> {
        self.transaction(|store| {
            let mut given_back = 0;
            for &contact_id in contact_ids {
                given_back += usize::from(store.unclaim_contact(contact_id)?);
            }
            Ok(given_back)
        })
    }

    /// [`Store::unclaim_contacts`] for one contact, in the caller's transaction.
    pub fn unclaim_contact(&mut self, contact_id: i64) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE contacts SET status = 'pending', attempts = max(attempts - 1, 0)
                  WHERE id = ?1 AND status = 'in_progress'
                    AND NOT EXISTS (SELECT 1 FROM call_records r
                                     WHERE r.contact_id = contacts.id
                                       AND r.attempt = contacts.attempts)",
            )?
            .execute([contact_id])?
            == 1)
    }

    /// Contacts in a call (or claimed for one): `(contact, campaign, attempts)`.
    pub fn in_progress_contacts(&self) -> Result<Vec<(i64, CampaignId, u32)>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, campaign_id, attempts FROM contacts WHERE status = 'in_progress' ORDER BY id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((row.get(0)?, CampaignId(row.get(1)?), row.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records what a call's outcome made of its contact: due again at a time, or
    /// done for good.
    pub fn finish_attempt(&mut self, contact_id: i64, step: NextStep) -> Result<()> {
        let changed = match step {
            NextStep::RetryAt(at) => self
                .conn
                .prepare_cached(
                    "UPDATE contacts SET status = 'pending', next_attempt_at = ?2
                      WHERE id = ?1 AND status = 'in_progress'",
                )?
                .execute(params![contact_id, format_time(at)])?,
            NextStep::Done(status) => self
                .conn
                .prepare_cached(
                    "UPDATE contacts SET status = ?2, next_attempt_at = NULL
                      WHERE id = ?1 AND status = 'in_progress'",
                )?
                .execute(params![contact_id, status.as_str()])?,
        };
        if changed == 0 {
            tracing::warn!(
                contact = contact_id,
                "an attempt ended for a contact not in progress"
            );
        }
        Ok(())
    }

    /// A contact's attempts so far and whether it is in progress.
    pub fn contact_attempts(&self, contact_id: i64) -> Result<Option<(u32, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT attempts, status FROM contacts WHERE id = ?1",
                [contact_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?)
    }

    /// Whether any contact of the campaign could still be dialed, now or later
    /// (pending, not blacklisted, attempts left, consent if required), or is in a
    /// call. A campaign for which this is false is complete. Contacts of an
    /// import that committed but whose rows are still joining the dispatch
    /// order count (see [`crate::imports`]).
    pub fn has_work_left(
        &self,
        campaign: CampaignId,
        max_attempts: u32,
        consent_required: bool,
    ) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(HAS_WORK_LEFT)?
            .query_row(params![campaign.0, max_attempts, consent_required], |row| {
                row.get(0)
            })?)
    }

    /// Where a campaign's contacts stand at `now`.
    pub fn contact_counts(
        &self,
        campaign: CampaignId,
        now: DateTime<Utc>,
        max_attempts: u32,
        consent_required: bool,
    ) -> Result<ContactCounts> {
        let mut counts = ContactCounts::default();
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT status, blacklisted,
                    (next_attempt_at IS NOT NULL AND next_attempt_at > ?2) AS waiting,
                    (?4 != 0 AND ifnull(consent, '') != 'given') AS lacks_consent,
                    attempts >= ?3 AS spent,
                    count(*)
               FROM contacts WHERE campaign_id = ?1 AND {VISIBLE_CONTACT}
              GROUP BY 1, 2, 3, 4, 5"
        ))?;
        let rows = statement.query_map(
            params![campaign.0, format_time(now), max_attempts, consent_required],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, bool>(1)?,
                    row.get::<_, bool>(2)?,
                    row.get::<_, bool>(3)?,
                    row.get::<_, bool>(4)?,
                    row.get::<_, i64>(5)? as u64,
                ))
            },
        )?;
        for row in rows {
            let (status, blacklisted, waiting, lacks_consent, spent, n) = row?;
            counts.total += n;
            match status.as_str() {
                "pending" if blacklisted => counts.blacklisted += n,
                "pending" if lacks_consent => counts.without_consent += n,
                "pending" if spent => counts.failed += n,
                "pending" => {
                    counts.pending += n;
                    if waiting {
                        counts.waiting_retry += n;
                    } else {
                        counts.due += n;
                    }
                }
                "in_progress" => counts.in_progress += n,
                "completed" => counts.completed += n,
                "failed" => counts.failed += n,
                _ => counts.blacklisted += n,
            }
        }
        Ok(counts)
    }

    /// Sets what the scheduler orders a contact by: its own zone, its score and its
    /// predicted best hours (bit h: the local hour starting at h:00). The scoring
    /// model writes these; tests and imports of zone columns do too.
    pub fn set_contact_hints(
        &mut self,
        contact_id: i64,
        time_zone: Option<&str>,
        score: f64,
        best_hours: Option<u32>,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE contacts SET time_zone = ?2, score = ?3, best_hours = ?4 WHERE id = ?1",
            )?
            .execute(params![contact_id, time_zone, score, best_hours])?;
        Ok(())
    }

    /// The ids of a campaign's contacts in import order (for tests and tools).
    pub fn contact_ids(&self, campaign: CampaignId) -> Result<Vec<i64>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT id FROM contacts WHERE campaign_id = ?1 AND {VISIBLE_CONTACT} ORDER BY id"
        ))?;
        let ids = statement.query_map([campaign.0], |row| row.get(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan SQLite makes for `sql`, one line per step.
    fn plan(store: &Store, sql: &str, parameters: usize) -> String {
        let mut statement = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let nulls = vec![rusqlite::types::Value::Integer(1); parameters];
        let rows = statement
            .query_map(rusqlite::params_from_iter(nulls), |row| {
                row.get::<_, String>(3)
            })
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    /// Issue 15: rows an import has not made visible are kept out of the
    /// dispatch index, and the dispatch queries still walk that index alone —
    /// never the table, never a scan of the campaign.
    #[test]
    fn dispatch_walks_its_index_without_staged_rows() {
        let store = Store::open_in_memory().unwrap();
        let candidates = plan(&store, CANDIDATES, 8);
        assert!(
            candidates.contains(
                "SEARCH contacts USING INDEX contacts_dispatch (campaign_id=? AND <expr>=?)"
            ),
            "{candidates}"
        );
        assert!(
            candidates.contains("SEARCH c USING INTEGER PRIMARY KEY"),
            "{candidates}"
        );
        assert!(!candidates.contains("SCAN contacts"), "{candidates}");
        let zones = plan(&store, ZONES, 1);
        assert!(zones.contains("INDEX contacts_dispatch"), "{zones}");
        assert!(!zones.contains("SCAN contacts"), "{zones}");
        let work = plan(&store, HAS_WORK_LEFT, 3);
        assert!(work.contains("INDEX contacts_dispatch"), "{work}");
        assert!(work.contains("INDEX contacts_staged"), "{work}");
        assert!(!work.contains("SCAN contacts"), "{work}");
    }
}
