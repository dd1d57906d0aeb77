//! The do-not-call list as stored: entries with reason, source and time, an
//! append-only history of every addition and removal, and the operations that keep
//! the in-memory [`SharedDnc`] index in step with them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use shofar_dnc::{DncIndex, SharedDnc};
use shofar_phone::E164;

use std::time::Instant;

use crate::campaigns::CampaignId;
use crate::imports::TRANSACTION_BUDGET;
use crate::{Result, Store, StoreError, audit, format_time, parse_time};

/// Where a do-not-call entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlacklistSource {
    /// The person asked (pressed 9, replied STOP, asked staff).
    UserOptout,
    /// Staff added or imported it.
    AdminImport,
    /// The national "Do Not Call Me" registry or another legal source.
    Compliance,
    /// The organization's central list, synced down from the cloud.
    Central,
}

impl BlacklistSource {
    pub const ALL: [BlacklistSource; 4] = [
        BlacklistSource::UserOptout,
        BlacklistSource::AdminImport,
        BlacklistSource::Compliance,
        BlacklistSource::Central,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BlacklistSource::UserOptout => "user_optout",
            BlacklistSource::AdminImport => "admin_import",
            BlacklistSource::Compliance => "compliance",
            BlacklistSource::Central => "central",
        }
    }
}

impl fmt::Display for BlacklistSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BlacklistSource {
    type Err = String;
    fn from_str(text: &str) -> Result<BlacklistSource, String> {
        BlacklistSource::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "unknown source {text:?}: use user_optout, admin_import, compliance or central"
                )
            })
    }
}

/// A number to add to the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub e164: E164,
    pub reason: String,
    pub source: BlacklistSource,
    /// For compliance entries: the date the registry was checked (`YYYY-MM-DD`).
    pub checked_on: Option<String>,
    /// The campaign during which the person opted out, if any.
    pub campaign: Option<CampaignId>,
}

/// A listed number as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlacklistEntry {
    pub e164: E164,
    pub reason: String,
    pub source: BlacklistSource,
    pub added_at: DateTime<Utc>,
    pub added_by: Option<String>,
    pub checked_on: Option<String>,
}

/// One addition or removal in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub id: i64,
    pub e164: E164,
    pub action: String,
    pub reason: String,
    pub source: Option<String>,
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AddOutcome {
    /// Numbers newly listed.
    pub added: u64,
    /// Numbers that were listed already (their first entry is kept).
    pub already_listed: u64,
    /// Contacts (in any campaign) newly marked blacklisted.
    pub contacts_marked: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RemoveOutcome {
    pub removed: u64,
    pub not_listed: u64,
    pub contacts_unmarked: u64,
}

fn number(value: i64, table: &'static str) -> Result<E164> {
    E164::from_u64(value as u64).ok_or_else(|| StoreError::Corrupt {
        table,
        detail: format!("{value} is not an E.164 number"),
    })
}

/// Lists `entries` inside the open transaction and marks the contacts with
/// their numbers (hidden ones of a running import too: they must not arrive
/// unmarked); with a `deadline`, stops taking entries once it has passed.
/// Counts into `outcome`; returns the numbers newly listed.
pub(crate) fn add_entries(
    conn: &rusqlite::Connection,
    entries: &mut impl Iterator<Item = NewEntry>,
    actor: &str,
    outcome: &mut AddOutcome,
    deadline: Option<Instant>,
) -> Result<Vec<E164>> {
    let at = format_time(crate::now());
    let mut newly = Vec::new();
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO blacklist (e164, reason, source, added_at, added_by, checked_on, campaign_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut history = conn.prepare_cached(
        "INSERT INTO blacklist_history (e164, action, reason, source, at, actor)
         VALUES (?1, 'add', ?2, ?3, ?4, ?5)",
    )?;
    let mut mark = conn.prepare_cached(
        "UPDATE contacts SET blacklisted = 1 WHERE e164 = ?1 AND blacklisted = 0",
    )?;
    for (count, entry) in entries.enumerate() {
        let value = entry.e164.as_u64() as i64;
        let inserted = insert.execute(params![
            value,
            entry.reason,
            entry.source.as_str(),
            at,
            actor,
            entry.checked_on,
            entry.campaign.map(|c| c.0),
        ])?;
        if inserted == 0 {
            outcome.already_listed += 1;
        } else {
            history.execute(params![
                value,
                entry.reason,
                entry.source.as_str(),
                at,
                actor
            ])?;
            outcome.contacts_marked += mark.execute([value])? as u64;
            outcome.added += 1;
            newly.push(entry.e164);
        }
        if count % 256 == 255 && deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            break;
        }
    }
    Ok(newly)
}

/// How many numbers one operation lists or unlists before it folds the
/// index's pending changes in itself, once, at its end.
pub(crate) const FOLD_AFTER: usize = 10_000;

/// The safe order's first half: listed in memory before the store commits.
/// The index folds its changes in by itself as they grow; a bulk addition
/// folds them once at its end (folding after every chunk of a long list would
/// rebuild the whole index each time).
pub(crate) fn list_before_commit(dnc: &SharedDnc, newly: &[E164]) {
    dnc.update(|index| {
        for &n in newly {
            index.insert(n);
        }
    });
}

/// The store did not commit them: the index must not hold them either.
pub(crate) fn unlist_uncommitted(dnc: &SharedDnc, newly: &[E164]) {
    unlist_committed(dnc, newly);
}

/// The safe order's second half: unlisted in memory only after the store
/// committed the removal.
pub(crate) fn unlist_committed(dnc: &SharedDnc, removed: &[E164]) {
    if removed.is_empty() {
        return;
    }
    dnc.update(|index| {
        for &n in removed {
            index.remove(n);
        }
    });
}

/// What [`remove_entry`] did with a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    Removed,
    NotListed,
    /// Listed, and `may_remove` kept it.
    Kept,
}

/// Unlists `e164` inside the open transaction if `may_remove` allows it (it is
/// given the entry's source): deletes the entry, appends the removal to the
/// history with the entry's source, and unmarks the contacts with the number.
/// Counts into `outcome`. The index is the caller's to change, after the commit.
pub(crate) fn remove_entry(
    conn: &rusqlite::Connection,
    e164: E164,
    reason: &str,
    actor: &str,
    outcome: &mut RemoveOutcome,
    may_remove: impl FnOnce(&str) -> Result<bool>,
) -> Result<Removal> {
    let value = e164.as_u64() as i64;
    let source: Option<String> = conn
        .prepare_cached("SELECT source FROM blacklist WHERE e164 = ?1")?
        .query_row([value], |row| row.get(0))
        .optional()?;
    let Some(source) = source else {
        outcome.not_listed += 1;
        return Ok(Removal::NotListed);
    };
    if !may_remove(&source)? {
        return Ok(Removal::Kept);
    }
    conn.prepare_cached("DELETE FROM blacklist WHERE e164 = ?1")?
        .execute([value])?;
    conn.prepare_cached(
        "INSERT INTO blacklist_history (e164, action, reason, source, at, actor)
         VALUES (?1, 'remove', ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        value,
        reason,
        source,
        format_time(crate::now()),
        actor
    ])?;
    outcome.contacts_unmarked += conn
        .prepare_cached("UPDATE contacts SET blacklisted = 0 WHERE e164 = ?1 AND blacklisted = 1")?
        .execute([value])? as u64;
    outcome.removed += 1;
    Ok(Removal::Removed)
}

/// The columns [`entry_from_row`] reads, in its order.
const ENTRY_SELECT: &str =
    "SELECT e164, reason, source, added_at, added_by, checked_on FROM blacklist";

fn entry_from_row(row: &rusqlite::Row<'_>) -> Result<BlacklistEntry> {
    let source: String = row.get(2)?;
    let added_at: String = row.get(3)?;
    Ok(BlacklistEntry {
        e164: number(row.get(0)?, "blacklist")?,
        reason: row.get(1)?,
        source: source.parse().map_err(|detail| StoreError::Corrupt {
            table: "blacklist",
            detail,
        })?,
        added_at: time(&added_at, "blacklist")?,
        added_by: row.get(4)?,
        checked_on: row.get(5)?,
    })
}

fn number_of(value: i64) -> Result<E164> {
    number(value, "blacklist_history")
}

fn time(text: &str, table: &'static str) -> Result<DateTime<Utc>> {
    parse_time(text).ok_or_else(|| StoreError::Corrupt {
        table,
        detail: format!("{text:?} is not a timestamp"),
    })
}

impl Store {
    /// Loads every listed number into a fresh index. Also returns the history
    /// position it reflects, for [`Store::dnc_catch_up`].
    pub fn load_dnc(&self) -> Result<(DncIndex, i64)> {
        let count: i64 = self
            .conn
            .query_row("SELECT count(*) FROM blacklist", [], |row| row.get(0))?;
        let cursor = self.history_head()?;
        let mut numbers = Vec::with_capacity(count as usize);
        // One pass in key order needs no page cache: keep it small while it runs,
        // so loading ten million numbers does not also fill 64 MiB of cache.
        self.conn.execute_batch("PRAGMA cache_size = -2000")?;
        let scanned = (|| -> Result<()> {
            let mut statement = self.conn.prepare("SELECT e164 FROM blacklist")?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                numbers.push(row.get::<_, i64>(0)? as u64);
            }
            Ok(())
        })();
        self.conn.execute_batch(crate::CACHE_SIZE_PRAGMA)?;
        scanned?;
        Ok((DncIndex::from_raw(numbers), cursor))
    }

    fn history_head(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT coalesce(max(id), 0) FROM blacklist_history",
            [],
            |row| row.get(0),
        )?)
    }

    /// Applies to `dnc` the changes other processes made since `cursor` (a history
    /// id), and moves the cursor. Returns how many changes were applied.
    pub fn dnc_catch_up(&self, dnc: &SharedDnc, cursor: &mut i64) -> Result<usize> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, e164, action FROM blacklist_history WHERE id > ?1 ORDER BY id",
        )?;
        let changes = statement
            .query_map([*cursor], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        if changes.is_empty() {
            // Called before every dispatch: no write lock when nothing changed.
            return Ok(0);
        }
        dnc.update(|index| -> Result<()> {
            for (id, value, action) in &changes {
                let e164 = number(*value, "blacklist_history")?;
                if action == "add" {
                    index.insert(e164);
                } else {
                    index.remove(e164);
                }
                *cursor = *id;
            }
            Ok(())
        })?;
        Ok(changes.len())
    }

    /// Lists every entry's number, in one transaction, and marks the contacts that
    /// have them. The index learns the new numbers before the commit, so no check
    /// can pass for a number once this returns — or even while it runs.
    pub fn blacklist_add(
        &mut self,
        dnc: &SharedDnc,
        entries: impl IntoIterator<Item = NewEntry>,
        actor: &str,
        audit_details: serde_json::Value,
    ) -> Result<AddOutcome> {
        let tx = self.tx()?;
        let mut outcome = AddOutcome::default();
        let newly = add_entries(&tx, &mut entries.into_iter(), actor, &mut outcome, None)?;
        audit::record(
            &tx,
            actor,
            "blacklist.add",
            None,
            &serde_json::json!({ "outcome": outcome, "details": audit_details }),
        )?;
        list_before_commit(dnc, &newly);
        if let Err(error) = tx.commit() {
            unlist_uncommitted(dnc, &newly);
            return Err(error.into());
        }
        if newly.len() > FOLD_AFTER {
            dnc.update(DncIndex::fold_changes);
        }
        Ok(outcome)
    }

    /// [`Store::blacklist_add`] for a long list (an import): in short
    /// transactions of about [`TRANSACTION_BUDGET`], so other writers (the
    /// dialer) never wait long, each waiting out a busy database
    /// ([`Store::begin_patiently`]). Each chunk is listed in `dnc` before it
    /// commits, as in `blacklist_add`. `outcome` counts what committed so far:
    /// after an error those numbers stay listed — listing early is the safe side
    /// of the do-not-call list (the history records each one), and adding them
    /// again counts them as already listed. One audit entry at the end (or at
    /// the failure, marked incomplete) sums it up.
    pub fn blacklist_add_in_chunks(
        &mut self,
        dnc: &SharedDnc,
        entries: impl IntoIterator<Item = NewEntry>,
        actor: &str,
        audit_details: serde_json::Value,
        outcome: &mut AddOutcome,
    ) -> Result<()> {
        let mut entries = entries.into_iter().peekable();
        let mut listed = 0usize;
        let written = (|| -> Result<()> {
            while entries.peek().is_some() {
                self.begin_patiently()?;
                let mut chunk = *outcome;
                let deadline = Instant::now() + TRANSACTION_BUDGET;
                let newly = match add_entries(
                    &self.conn,
                    &mut entries,
                    actor,
                    &mut chunk,
                    Some(deadline),
                ) {
                    Ok(newly) => newly,
                    Err(error) => return self.end(Err(error)),
                };
                list_before_commit(dnc, &newly);
                if let Err(error) = self.end(Ok(())) {
                    unlist_uncommitted(dnc, &newly);
                    return Err(error);
                }
                listed += newly.len();
                *outcome = chunk;
            }
            Ok(())
        })();
        if listed > FOLD_AFTER {
            dnc.update(DncIndex::fold_changes);
        }
        let details = serde_json::json!({
            "outcome": outcome,
            "details": audit_details,
            "incomplete": written.as_ref().err().map(ToString::to_string),
        });
        let audited = self.patient_transaction(|store| {
            audit::record(&store.conn, actor, "blacklist.add", None, &details)
        });
        written.and(audited)
    }

    /// Unlists numbers. The removal is recorded in the history and the audit log
    /// with `reason`; the index forgets the numbers only after the commit.
    pub fn blacklist_remove(
        &mut self,
        dnc: &SharedDnc,
        numbers: &[E164],
        reason: &str,
        actor: &str,
    ) -> Result<RemoveOutcome> {
        let tx = self.tx()?;
        let mut outcome = RemoveOutcome::default();
        let mut removed = Vec::new();
        for &n in numbers {
            if remove_entry(&tx, n, reason, actor, &mut outcome, |_| Ok(true))? == Removal::Removed
            {
                removed.push(n);
            }
        }
        audit::record(
            &tx,
            actor,
            "blacklist.remove",
            None,
            &serde_json::json!({
                "reason": reason,
                "numbers": removed.iter().map(E164::to_string).collect::<Vec<_>>(),
                "outcome": outcome,
            }),
        )?;
        tx.commit()?;
        unlist_committed(dnc, &removed);
        Ok(outcome)
    }

    pub fn blacklist_entry(&self, e164: E164) -> Result<Option<BlacklistEntry>> {
        let mut statement = self
            .conn
            .prepare_cached(&format!("{ENTRY_SELECT} WHERE e164 = ?1"))?;
        let mut rows = statement.query([e164.as_u64() as i64])?;
        rows.next()?.map(entry_from_row).transpose()
    }

    pub fn blacklist_count(&self) -> Result<u64> {
        let count: i64 = self
            .conn
            .query_row("SELECT count(*) FROM blacklist", [], |row| row.get(0))?;
        Ok(count as u64)
    }

    /// Calls `each` with every entry, in number order (for export).
    pub fn blacklist_for_each(
        &self,
        mut each: impl FnMut(&BlacklistEntry) -> std::io::Result<()>,
    ) -> Result<Result<(), std::io::Error>> {
        let mut statement = self
            .conn
            .prepare(&format!("{ENTRY_SELECT} ORDER BY e164"))?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let entry = entry_from_row(row)?;
            if let Err(error) = each(&entry) {
                return Ok(Err(error));
            }
        }
        Ok(Ok(()))
    }

    /// The additions and removals of one number (or all, newest first).
    pub fn blacklist_history(&self, e164: Option<E164>, limit: usize) -> Result<Vec<HistoryEntry>> {
        let mut statement = self.conn.prepare(
            "SELECT id, e164, action, reason, source, at, actor FROM blacklist_history
             WHERE ?1 IS NULL OR e164 = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = statement
            .query_map(
                params![e164.map(|n| n.as_u64() as i64), limit as i64],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, Option<String>>(4)?,
                        row.get::<_, String>(5)?,
                        row.get::<_, Option<String>>(6)?,
                    ))
                },
            )?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, value, action, reason, source, at, actor)| {
                Ok(HistoryEntry {
                    id,
                    e164: number(value, "blacklist_history")?,
                    action,
                    reason,
                    source,
                    at: time(&at, "blacklist_history")?,
                    actor,
                })
            })
            .collect()
    }

    /// A page of the list, newest first: optionally only numbers containing
    /// `digits` (of their E.164 form) or from one source; and how many match.
    pub fn blacklist_page(
        &self,
        digits: Option<&str>,
        source: Option<BlacklistSource>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<BlacklistEntry>, u64)> {
        let pattern = digits.map(|d| format!("%{d}%"));
        let source = source.map(BlacklistSource::as_str);
        let filter =
            "WHERE (?1 IS NULL OR CAST(e164 AS TEXT) LIKE ?1) AND (?2 IS NULL OR source = ?2)";
        let total: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM blacklist {filter}"),
            params![pattern, source],
            |row| row.get(0),
        )?;
        let mut statement = self.conn.prepare(&format!(
            "{ENTRY_SELECT} {filter} ORDER BY added_at DESC, e164 LIMIT ?3 OFFSET ?4"
        ))?;
        let mut rows = statement.query(params![pattern, source, limit as i64, offset as i64])?;
        let mut entries = Vec::new();
        while let Some(row) = rows.next()? {
            entries.push(entry_from_row(row)?);
        }
        Ok((entries, total as u64))
    }

    /// A page of the history of additions and removals, newest first: one number's
    /// or all; only additions or removals when `action` says so; and how many match.
    pub fn blacklist_history_page(
        &self,
        e164: Option<E164>,
        action: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<HistoryEntry>, u64)> {
        let number = e164.map(|n| n.as_u64() as i64);
        let filter = "WHERE (?1 IS NULL OR e164 = ?1) AND (?2 IS NULL OR action = ?2)";
        let total: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM blacklist_history {filter}"),
            params![number, action],
            |row| row.get(0),
        )?;
        let mut statement = self.conn.prepare(&format!(
            "SELECT id, e164, action, reason, source, at, actor FROM blacklist_history {filter}
             ORDER BY id DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let mut rows = statement.query(params![number, action, limit as i64, offset as i64])?;
        let mut entries = Vec::new();
        while let Some(row) = rows.next()? {
            let at: String = row.get(5)?;
            entries.push(HistoryEntry {
                id: row.get(0)?,
                e164: number_of(row.get(1)?)?,
                action: row.get(2)?,
                reason: row.get(3)?,
                source: row.get(4)?,
                at: time(&at, "blacklist_history")?,
                actor: row.get(6)?,
            });
        }
        Ok((entries, total as u64))
    }
}
