//! What the sync agent (`shofar-sync`, another process) reads and writes: the
//! feed of records to ship, the box's own opt-outs to publish, and the changes
//! of the organization's central do-not-call list to apply. [`status`] is the
//! file through which the agent tells the supervisor how it is doing.
//!
//! # The feed
//!
//! `sync_feed` (migration 8) gets one row, `seq`, whenever a call record ends or
//! an SMS record reaches a final status (`sent`, `delivered`, `failed`,
//! `undeliverable`; each such change is an entry, and downstream the later one
//! supersedes the earlier by the record's key). Triggers write it, in the same
//! transaction as the change, so no writer of call or SMS records has to know
//! about it and no record can end without an entry.
//!
//! A reader may take "everything up to the highest `seq` I have seen" as final,
//! with no hole filled later: SQLite lets one transaction write at a time, and
//! holds that write lock from the transaction's first write until it commits or
//! rolls back. A `seq` is handed out (the highest one ever used, plus one) under
//! that lock, so every `seq` a transaction writes is higher than every `seq`
//! already committed, and no other transaction can write one until it ends.
//! `seq` order is therefore commit order: once a reader sees `seq` N, every
//! entry below N that will ever exist has committed too. (A transaction that
//! rolls back gives its numbers back with it — nobody saw them.) `AUTOINCREMENT`
//! keeps the highest `seq` in `sqlite_sequence`, so pruning the whole feed never
//! lets a number be used twice.
//!
//! The feed holds references (`call_records.id`, `sms_records.id`), not copies:
//! a record is read as it is now. An ended call never changes again; an SMS may
//! have moved on to a later final status (whose own entry follows). A record
//! deleted since (its campaign was deleted) is skipped.
//!
//! Invariants: the agent only reads the feed and prunes what the cloud has
//! ([`Store::sync_feed_prune`]); it writes the do-not-call list only through
//! [`Store::blacklist_apply_central`], which changes the index in the crate's
//! safe order and never removes an entry of the box's staff or of the registry.

pub mod status;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use shofar_dnc::{DncIndex, SharedDnc};
use shofar_phone::E164;

use crate::blacklist::{
    self, AddOutcome, BlacklistSource, NewEntry, Removal, RemoveOutcome, add_entries,
    list_before_commit, remove_entry, unlist_committed, unlist_uncommitted,
};
use crate::calls::{self, CallRecord, e164_column, time_column};
use crate::campaigns::CampaignId;
use crate::{Result, Store, StoreError, audit, parse_time};

/// The heads of what the agent follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedHead {
    /// The highest feed `seq` ever written (0 before the first), pruned or not.
    pub records: i64,
    /// The highest `blacklist_history` id (0 before the first change).
    pub history: i64,
}

/// An SMS record as stored (without its text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsRow {
    pub id: i64,
    pub campaign_id: Option<CampaignId>,
    pub contact_id: Option<i64>,
    pub e164: E164,
    /// `queued`, `sent`, `delivered`, `failed` or `undeliverable` (the schema's
    /// CHECK).
    pub status: String,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub attempts: u32,
    pub queued_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub failure_reason: Option<String>,
    /// The `call_id` of the call that read the message out instead.
    pub tts_fallback_call: Option<String>,
    pub dnc_version: Option<u64>,
    pub cost_agorot: Option<i64>,
}

/// A record at its place in the feed, with its campaign's name.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncRecord {
    Call {
        seq: i64,
        record: CallRecord,
        campaign: Option<String>,
    },
    Sms {
        seq: i64,
        record: SmsRow,
        campaign: Option<String>,
    },
}

impl SyncRecord {
    /// The record's feed position.
    pub fn seq(&self) -> i64 {
        match self {
            SyncRecord::Call { seq, .. } | SyncRecord::Sms { seq, .. } => *seq,
        }
    }
}

/// One of the box's own opt-outs (a `blacklist_history` addition with source
/// `user_optout`), which the agent publishes as `{box}:{history_id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOutEvent {
    pub history_id: i64,
    pub e164: E164,
    pub reason: String,
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
}

/// A change of the organization's central do-not-call list, as the agent
/// merged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CentralChange {
    /// List the number (source `central`), unless it is listed already.
    List {
        e164: E164,
        reason: String,
        /// Who made the change centrally (the actor is `central:{by}`).
        by: String,
    },
    /// Unlist the number if its entry is the central list's, or one of the
    /// box's own opt-outs the removal saw: an entry of source `user_optout`
    /// whose latest addition's history id is at most `own_history_at_most`.
    /// Staff's (`admin_import`) and the registry's (`compliance`) entries are
    /// never removed from afar.
    Unlist {
        e164: E164,
        reason: String,
        by: String,
        own_history_at_most: i64,
    },
}

/// What [`Store::blacklist_apply_central`] did. A number an `Unlist` found not
/// listed counts in none of these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CentralOutcome {
    pub listed: u64,
    pub already_listed: u64,
    pub unlisted: u64,
    /// Listed numbers an `Unlist` did not remove (their source keeps them).
    pub kept: u64,
}

const SMS_COLUMNS: &str = "id, campaign_id, contact_id, e164, status, provider, \
    provider_message_id, attempts, queued_at, sent_at, delivered_at, failure_reason, \
    tts_fallback_call, dnc_version, cost_agorot";

fn sms_from_row(row: &Row<'_>) -> rusqlite::Result<SmsRow> {
    Ok(SmsRow {
        id: row.get(0)?,
        campaign_id: row.get::<_, Option<i64>>(1)?.map(CampaignId),
        contact_id: row.get(2)?,
        e164: e164_column(row, 3)?,
        status: row.get(4)?,
        provider: row.get(5)?,
        provider_message_id: row.get(6)?,
        attempts: row.get(7)?,
        queued_at: time_column(row, 8)?.unwrap_or_default(),
        sent_at: time_column(row, 9)?,
        delivered_at: time_column(row, 10)?,
        failure_reason: row.get(11)?,
        tts_fallback_call: row.get(12)?,
        dnc_version: row.get::<_, Option<i64>>(13)?.map(|v| v as u64),
        cost_agorot: row.get(14)?,
    })
}

/// A feed row that names a record this version cannot read: named, so the
/// agent's error says where.
fn corrupt(seq: i64, error: rusqlite::Error) -> StoreError {
    StoreError::Corrupt {
        table: "sync_feed",
        detail: format!("the record of feed entry {seq} cannot be read: {error}"),
    }
}

impl Store {
    /// Runs `work` in one read transaction (or inside the open one), so a feed
    /// page and the records it names are read at one instant.
    fn sync_reading<T>(&self, work: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        if !self.conn.is_autocommit() {
            return work(self);
        }
        self.conn.execute_batch("BEGIN DEFERRED")?;
        let result = work(self);
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let _ = self.conn.execute_batch(end);
        result
    }

    pub fn sync_head(&self) -> Result<FeedHead> {
        let records = self.conn.query_row(
            "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'sync_feed'), 0)",
            [],
            |row| row.get(0),
        )?;
        let history = self.conn.query_row(
            "SELECT coalesce(max(id), 0) FROM blacklist_history",
            [],
            |row| row.get(0),
        )?;
        Ok(FeedHead { records, history })
    }

    /// Records that reached a final state after feed position `seq`, oldest
    /// first, at most `limit`. Entries whose record was deleted since are
    /// skipped (they do not count towards `limit`).
    pub fn sync_records_after(&self, seq: i64, limit: usize) -> Result<Vec<SyncRecord>> {
        self.sync_reading(|store| store.feed_records(seq, i64::MAX, limit))
    }

    /// The records with feed positions `first..=last` (re-forming a batch after
    /// a restart): the same records as before, unless one was deleted since or
    /// an SMS moved on to a later final status.
    pub fn sync_records_between(&self, first: i64, last: i64) -> Result<Vec<SyncRecord>> {
        self.sync_reading(|store| store.feed_records(first - 1, last, usize::MAX))
    }

    /// The records of the entries after `after` up to `last`, at most `limit`.
    fn feed_records(&self, after: i64, last: i64, limit: usize) -> Result<Vec<SyncRecord>> {
        let mut feed = self.conn.prepare_cached(
            "SELECT seq, kind, ref FROM sync_feed WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
        )?;
        let mut call = self.conn.prepare_cached(&format!(
            "SELECT {}, (SELECT name FROM campaigns WHERE campaigns.id = call_records.campaign_id)
             FROM call_records WHERE id = ?1",
            calls::COLUMNS
        ))?;
        let mut sms = self.conn.prepare_cached(&format!(
            "SELECT {SMS_COLUMNS},
                    (SELECT name FROM campaigns WHERE campaigns.id = sms_records.campaign_id)
             FROM sms_records WHERE id = ?1"
        ))?;
        let mut records = Vec::new();
        let mut rows = feed.query(params![after, last])?;
        while records.len() < limit {
            let Some(row) = rows.next()? else { break };
            let seq: i64 = row.get(0)?;
            let kind: String = row.get(1)?;
            let id: i64 = row.get(2)?;
            let record = match kind.as_str() {
                "call" => call
                    .query_row([id], |row| {
                        Ok(SyncRecord::Call {
                            seq,
                            record: calls::record_from_row_at(row, 0)?,
                            campaign: row.get(25)?,
                        })
                    })
                    .optional(),
                _ => sms
                    .query_row([id], |row| {
                        Ok(SyncRecord::Sms {
                            seq,
                            record: sms_from_row(row)?,
                            campaign: row.get(15)?,
                        })
                    })
                    .optional(),
            };
            match record {
                Ok(Some(record)) => records.push(record),
                Ok(None) => {}
                Err(error @ rusqlite::Error::FromSqlConversionFailure(..)) => {
                    return Err(corrupt(seq, error));
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(records)
    }

    /// How many feed entries are after `seq`, and when the oldest of them was
    /// written.
    pub fn sync_waiting(&self, seq: i64) -> Result<(u64, Option<DateTime<Utc>>)> {
        self.sync_reading(|store| {
            let count: i64 = store.conn.query_row(
                "SELECT count(*) FROM sync_feed WHERE seq > ?1",
                [seq],
                |row| row.get(0),
            )?;
            let oldest: Option<String> = store
                .conn
                .query_row(
                    "SELECT at FROM sync_feed WHERE seq > ?1 ORDER BY seq LIMIT 1",
                    [seq],
                    |row| row.get(0),
                )
                .optional()?;
            Ok((count as u64, oldest.as_deref().and_then(parse_time)))
        })
    }

    /// The box's own opt-outs (`blacklist_history` action `add` with source
    /// `user_optout`) after `history_id`, oldest first, at most `limit`.
    pub fn sync_optouts_after(&self, history_id: i64, limit: usize) -> Result<Vec<OptOutEvent>> {
        // The WHERE spells the partial index `blacklist_history_optouts`.
        let mut statement = self.conn.prepare_cached(
            "SELECT id, e164, reason, at, actor FROM blacklist_history
             WHERE action = 'add' AND source = 'user_optout' AND id > ?1
             ORDER BY id LIMIT ?2",
        )?;
        let rows = statement
            .query_map(
                params![history_id, limit.min(i64::MAX as usize) as i64],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        e164_column(row, 1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, Option<String>>(4)?,
                    ))
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(history_id, e164, reason, at, actor)| {
                Ok(OptOutEvent {
                    history_id,
                    e164,
                    reason,
                    at: parse_time(&at).ok_or_else(|| StoreError::Corrupt {
                        table: "blacklist_history",
                        detail: format!("{at:?} is not a timestamp (history id {history_id})"),
                    })?,
                    actor,
                })
            })
            .collect()
    }

    /// How many of the box's own opt-outs are after `history_id`.
    pub fn sync_optouts_waiting(&self, history_id: i64) -> Result<u64> {
        let count: i64 = self.conn.query_row(
            "SELECT count(*) FROM blacklist_history
             WHERE action = 'add' AND source = 'user_optout' AND id > ?1",
            [history_id],
            |row| row.get(0),
        )?;
        Ok(count as u64)
    }

    /// Applies central changes, in order, in one transaction (a savepoint inside
    /// an open one), keeping `dnc` in the crate's safe order: the numbers it
    /// lists are in the index before the commit, those it unlists leave it only
    /// after. Each change is written as a staff addition or removal is — the
    /// entry, the history row (actor `central:{by}`), the contacts marked or
    /// unmarked — and one audit entry sums the call up. One transaction holds
    /// the write lock while it runs: a caller with thousands of changes (a
    /// snapshot) passes them a few thousand at a time.
    pub fn blacklist_apply_central(
        &mut self,
        dnc: &SharedDnc,
        changes: &[CentralChange],
    ) -> Result<CentralOutcome> {
        let mut outcome = CentralOutcome::default();
        if changes.is_empty() {
            return Ok(outcome);
        }
        let tx = self.tx()?;
        // Listed by this call, for the index before the commit.
        let mut listed = Vec::new();
        // Of those, the ones the store did not list before the call: what the
        // index must forget again if the commit fails (a number unlisted and
        // listed again here was listed before, and stays so in the index).
        let mut new_to_the_store = Vec::new();
        let mut unlisted_here = HashSet::new();
        // Each number's last state after this call: true when listed.
        let mut last_state: HashMap<E164, bool> = HashMap::new();
        for change in changes {
            match change {
                CentralChange::List { e164, reason, by } => {
                    let mut added = AddOutcome::default();
                    let newly = add_entries(
                        &tx,
                        &mut std::iter::once(NewEntry {
                            e164: *e164,
                            reason: reason.clone(),
                            source: BlacklistSource::Central,
                            checked_on: None,
                            campaign: None,
                        }),
                        &format!("central:{by}"),
                        &mut added,
                        None,
                    )?;
                    outcome.listed += added.added;
                    outcome.already_listed += added.already_listed;
                    for n in newly {
                        if !unlisted_here.contains(&n) {
                            new_to_the_store.push(n);
                        }
                        last_state.insert(n, true);
                        listed.push(n);
                    }
                }
                CentralChange::Unlist {
                    e164,
                    reason,
                    by,
                    own_history_at_most,
                } => {
                    let may_remove = |source: &str| -> Result<bool> {
                        if source == BlacklistSource::Central.as_str() {
                            return Ok(true);
                        }
                        if source != BlacklistSource::UserOptout.as_str() {
                            return Ok(false);
                        }
                        // The opt-out the removal saw, or a newer one it did not?
                        let latest: Option<i64> = tx
                            .prepare_cached(
                                "SELECT max(id) FROM blacklist_history
                                 WHERE e164 = ?1 AND action = 'add'",
                            )?
                            .query_row([e164.as_u64() as i64], |row| row.get(0))?;
                        Ok(latest.is_some_and(|id| id <= *own_history_at_most))
                    };
                    let mut removed = RemoveOutcome::default();
                    match remove_entry(
                        &tx,
                        *e164,
                        reason,
                        &format!("central:{by}"),
                        &mut removed,
                        may_remove,
                    )? {
                        Removal::Removed => {
                            outcome.unlisted += 1;
                            unlisted_here.insert(*e164);
                            last_state.insert(*e164, false);
                        }
                        Removal::Kept => outcome.kept += 1,
                        Removal::NotListed => {}
                    }
                }
            }
        }
        audit::record(
            &tx,
            "central",
            "blacklist.central",
            None,
            &serde_json::json!({ "changes": changes.len(), "outcome": outcome }),
        )?;
        list_before_commit(dnc, &listed);
        if let Err(error) = tx.commit() {
            unlist_uncommitted(dnc, &new_to_the_store);
            return Err(error.into());
        }
        let unlisted: Vec<E164> = last_state
            .into_iter()
            .filter_map(|(n, listed)| (!listed).then_some(n))
            .collect();
        unlist_committed(dnc, &unlisted);
        if listed.len() + unlisted.len() > blacklist::FOLD_AFTER {
            dnc.update(DncIndex::fold_changes);
        }
        Ok(outcome)
    }

    /// Deletes the feed entries at or below `seq` (the agent calls it once the
    /// cloud has them); returns how many. Their numbers are never used again.
    pub fn sync_feed_prune(&mut self, seq: i64) -> Result<u64> {
        Ok(self
            .conn
            .execute("DELETE FROM sync_feed WHERE seq <= ?1", [seq])? as u64)
    }
}

#[cfg(test)]
mod tests;
