//! Call records: one row per call, written when the call is placed and kept
//! current as it goes, so a crash at any moment leaves a row that says how far the
//! call got — never a call the box made and forgot.
//!
//! The row moves `dialing → answered → ended`; only [`Store::call_finished`] ends
//! it, and an ended row is never changed again by the telephony layer (a second
//! end is ignored, so a late event or a reconciliation racing the real end cannot
//! overwrite what happened).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use shofar_phone::E164;
pub use shofar_vocab::{
    CallAction, CallKind, CallOutcome, CallStatus, EndedBy, OutcomeFilter, Stored,
};

use crate::campaigns::CampaignId;
use crate::{Result, Store, format_time, parse_time};

/// A call about to be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall {
    /// The channel id the supervisor chose; unique.
    pub call_id: String,
    pub campaign: Option<CampaignId>,
    pub contact_id: Option<i64>,
    pub e164: E164,
    pub attempt: u32,
    pub kind: CallKind,
    /// The do-not-call list version the pre-dial check passed against.
    pub dnc_version: Option<u64>,
    pub started_at: DateTime<Utc>,
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallEnd {
    pub outcome: Option<CallOutcome>,
    pub hangup_code: Option<i64>,
    pub hangup_cause: Option<String>,
    pub dial_status: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Who ended it.
    pub ended_by: Option<EndedBy>,
    pub detail: Option<String>,
}

/// What the call did while it was up; saved as it happens.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CallProgress {
    /// Keys pressed, in order.
    pub dtmf: String,
    /// Actions the IVR ran, in order.
    pub actions: Vec<CallAction>,
    pub converted: bool,
    pub opted_out: bool,
    pub amd_result: Option<String>,
}

/// A call record as stored. `status` and `kind` are constrained by the schema;
/// `outcome` and `ended_by` are not, so a name this version does not know (a
/// later version's) reads as [`Stored::Unknown`], and an unknown action as
/// [`CallAction::Other`]: such a row is still listed, reported and counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    pub call_id: String,
    pub campaign_id: Option<CampaignId>,
    pub contact_id: Option<i64>,
    pub number: E164,
    pub attempt: u32,
    pub kind: CallKind,
    pub status: CallStatus,
    pub outcome: Option<Stored<CallOutcome>>,
    pub hangup_code: Option<i64>,
    pub hangup_cause: Option<String>,
    pub dial_status: Option<String>,
    pub amd_result: Option<String>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub ring_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    pub dtmf: String,
    pub actions: Vec<CallAction>,
    pub converted: bool,
    pub opted_out: bool,
    pub ended_by: Option<Stored<EndedBy>>,
    pub detail: Option<String>,
    pub dnc_version: Option<u64>,
}

impl CallRecord {
    pub fn is_open(&self) -> bool {
        self.status.is_open()
    }

    /// The outcome, when it is one this version knows.
    pub fn known_outcome(&self) -> Option<CallOutcome> {
        self.outcome.as_ref().and_then(Stored::known)
    }

    /// Whether the IVR did `action` during the call.
    pub fn did(&self, action: &CallAction) -> bool {
        self.actions.contains(action)
    }
}

pub(crate) const COLUMNS: &str = "call_id, campaign_id, contact_id, e164, attempt, kind, status, outcome,
    hangup_code, hangup_cause, dial_status, amd_result, started_at, answered_at, ended_at,
    duration_ms, ring_ms, talk_ms, dtmf, actions, converted, opted_out, ended_by, detail, dnc_version";

pub(crate) fn time_column(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    Ok(row
        .get::<_, Option<String>>(index)?
        .as_deref()
        .and_then(parse_time))
}

/// A number column: anything but an E.164 number is a damaged database.
pub(crate) fn e164_column(row: &Row<'_>, index: usize) -> rusqlite::Result<E164> {
    let value: i64 = row.get(index)?;
    E164::from_u64(value as u64).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Integer,
            format!("{value} is not an E.164 number").into(),
        )
    })
}

/// A column the schema constrains to a word's names (`status`, `kind`): any
/// other text is a damaged database, named as such.
fn word_column<W: shofar_vocab::Word>(
    row: &Row<'_>,
    index: usize,
    column: &str,
) -> rusqlite::Result<W> {
    let text: String = row.get(index)?;
    W::from_name(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("call_records.{column}: {text:?} is not a {}", W::WHAT).into(),
        )
    })
}

/// A column the schema leaves open (`outcome`, `ended_by`): unknown names are kept.
fn stored_column<W: shofar_vocab::Word>(
    row: &Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<Stored<W>>> {
    Ok(row
        .get::<_, Option<String>>(index)?
        .map(|text| Stored::parse(&text)))
}

/// The actions column: a JSON list of names (an unreadable one reads as none,
/// as before).
fn actions_column(text: &str) -> Vec<CallAction> {
    serde_json::from_str(text).unwrap_or_default()
}

fn record_from_row(row: &Row<'_>) -> rusqlite::Result<CallRecord> {
    record_from_row_at(row, 0)
}

/// A record from the row's columns starting at `at` (after an id, say).
pub(crate) fn record_from_row_at(row: &Row<'_>, at: usize) -> rusqlite::Result<CallRecord> {
    let actions: String = row.get(at + 19)?;
    Ok(CallRecord {
        call_id: row.get(at)?,
        campaign_id: row.get::<_, Option<i64>>(at + 1)?.map(CampaignId),
        contact_id: row.get(at + 2)?,
        number: e164_column(row, at + 3)?,
        attempt: row.get(at + 4)?,
        kind: word_column(row, at + 5, "kind")?,
        status: word_column(row, at + 6, "status")?,
        outcome: stored_column(row, at + 7)?,
        hangup_code: row.get(at + 8)?,
        hangup_cause: row.get(at + 9)?,
        dial_status: row.get(at + 10)?,
        amd_result: row.get(at + 11)?,
        started_at: time_column(row, at + 12)?.unwrap_or_default(),
        answered_at: time_column(row, at + 13)?,
        ended_at: time_column(row, at + 14)?,
        duration_ms: row.get(at + 15)?,
        ring_ms: row.get(at + 16)?,
        talk_ms: row.get(at + 17)?,
        dtmf: row.get(at + 18)?,
        actions: actions_column(&actions),
        converted: row.get(at + 20)?,
        opted_out: row.get(at + 21)?,
        ended_by: stored_column(row, at + 22)?,
        detail: row.get(at + 23)?,
        dnc_version: row.get::<_, Option<i64>>(at + 24)?.map(|v| v as u64),
    })
}

/// The condition for a record not ended yet, as a literal (the partial index
/// `call_records_open` is declared with it, and SQLite uses the index only for
/// the same literal condition).
fn open_sql() -> String {
    format!("status != '{}'", CallStatus::Ended)
}

/// The condition for an ended record.
fn ended_sql() -> String {
    format!("status = '{}'", CallStatus::Ended)
}

/// Which call records to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    pub campaign: Option<CampaignId>,
    pub outcome: Option<CallOutcome>,
    pub limit: usize,
}

impl Store {
    /// Records a call about to be dialed. Written *before* the originate, so a
    /// crash between the two leaves a row reconciliation can close.
    pub fn call_started(&mut self, call: &NewCall) -> Result<()> {
        self.conn.execute(
            "INSERT INTO call_records (call_id, campaign_id, contact_id, e164, attempt, kind,
                                       status, started_at, dnc_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?9, ?7, ?8)",
            params![
                call.call_id,
                call.campaign.map(|c| c.0),
                call.contact_id,
                call.e164.as_u64() as i64,
                call.attempt,
                call.kind.as_str(),
                format_time(call.started_at),
                call.dnc_version.map(|v| v as i64),
                CallStatus::Dialing.as_str(),
            ],
        )?;
        Ok(())
    }

    /// Records a number the pre-dial check refused: an ended row with outcome
    /// `blacklisted` and nothing dialed.
    pub fn call_refused(&mut self, call: &NewCall, detail: &str) -> Result<()> {
        let at = format_time(call.started_at);
        self.conn.execute(
            "INSERT INTO call_records (call_id, campaign_id, contact_id, e164, attempt, kind,
                                       status, outcome, started_at, ended_at, duration_ms,
                                       ended_by, detail, dnc_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?10, ?11, ?7, ?7, 0, ?12, ?8, ?9)",
            params![
                call.call_id,
                call.campaign.map(|c| c.0),
                call.contact_id,
                call.e164.as_u64() as i64,
                call.attempt,
                call.kind.as_str(),
                at,
                detail,
                call.dnc_version.map(|v| v as i64),
                CallStatus::Ended.as_str(),
                CallOutcome::Blacklisted.as_str(),
                EndedBy::Supervisor.as_str(),
            ],
        )?;
        Ok(())
    }

    /// Records that the callee answered. Ignored for a call already ended.
    pub fn call_answered(&mut self, call_id: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE call_records SET status = ?3, answered_at = ?2
             WHERE call_id = ?1 AND status != ?4",
            params![
                call_id,
                format_time(at),
                CallStatus::Answered.as_str(),
                CallStatus::Ended.as_str()
            ],
        )?;
        Ok(())
    }

    /// Saves what the call has done so far (keys, actions, AMD). Ignored for a call
    /// already ended.
    pub fn call_progress(&mut self, call_id: &str, progress: &CallProgress) -> Result<()> {
        // A list of strings always serializes.
        let actions = serde_json::Value::from(
            progress
                .actions
                .iter()
                .map(CallAction::to_string)
                .collect::<Vec<_>>(),
        )
        .to_string();
        self.conn.execute(
            "UPDATE call_records SET dtmf = ?2, actions = ?3, converted = ?4, opted_out = ?5,
                                     amd_result = ?6
             WHERE call_id = ?1 AND status != ?7",
            params![
                call_id,
                progress.dtmf,
                actions,
                progress.converted,
                progress.opted_out,
                progress.amd_result,
                CallStatus::Ended.as_str(),
            ],
        )?;
        Ok(())
    }

    /// Ends a call: its outcome, cause and durations. Returns the record, or
    /// `None` when the call was already ended (the first end wins) or unknown.
    pub fn call_finished(&mut self, call_id: &str, end: &CallEnd) -> Result<Option<CallRecord>> {
        let Some(record) = self.call_record(call_id)? else {
            return Ok(None);
        };
        if !record.is_open() {
            return Ok(None);
        }
        let ended_at = end.ended_at.unwrap_or_else(crate::now);
        let millis = |from: DateTime<Utc>| (ended_at - from).num_milliseconds().max(0);
        let duration_ms = millis(record.started_at);
        let (ring_ms, talk_ms) = match record.answered_at {
            Some(answered) => (
                (answered - record.started_at).num_milliseconds().max(0),
                Some(millis(answered)),
            ),
            None => (duration_ms, None),
        };
        self.conn.execute(
            "UPDATE call_records SET status = ?12, outcome = ?2, hangup_code = ?3,
                    hangup_cause = ?4, dial_status = ?5, ended_at = ?6, duration_ms = ?7,
                    ring_ms = ?8, talk_ms = ?9, ended_by = ?10, detail = ?11
             WHERE call_id = ?1 AND status != ?12",
            params![
                call_id,
                end.outcome.map(CallOutcome::as_str),
                end.hangup_code,
                end.hangup_cause,
                end.dial_status,
                format_time(ended_at),
                duration_ms,
                ring_ms,
                talk_ms,
                end.ended_by.map(EndedBy::as_str),
                end.detail,
                CallStatus::Ended.as_str(),
            ],
        )?;
        self.call_record(call_id)
    }

    pub fn call_record(&self, call_id: &str) -> Result<Option<CallRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM call_records WHERE call_id = ?1"),
                [call_id],
                record_from_row,
            )
            .optional()?)
    }

    /// The call of one attempt of a contact, if one was recorded.
    pub fn call_for_attempt(&self, contact_id: i64, attempt: u32) -> Result<Option<CallRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM call_records WHERE contact_id = ?1 AND attempt = ?2
                     ORDER BY id DESC LIMIT 1"
                ),
                params![contact_id, attempt],
                record_from_row,
            )
            .optional()?)
    }

    /// A campaign's calls by outcome (`in_call` for those not ended yet, `unknown`
    /// for ended ones without an outcome, an unknown name as it is); the counts
    /// always add up to its records.
    pub fn call_outcome_counts(
        &self,
        campaign: CampaignId,
    ) -> Result<std::collections::BTreeMap<String, u64>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT CASE WHEN status != ?2 THEN ?3 ELSE ifnull(outcome, ?4) END, count(*)
               FROM call_records WHERE campaign_id = ?1 GROUP BY 1",
        )?;
        let rows = statement.query_map(
            params![
                campaign.0,
                CallStatus::Ended.as_str(),
                OutcomeFilter::InCall.as_str(),
                shofar_vocab::NO_OUTCOME
            ],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64)),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Calls not yet ended, oldest first: what reconciliation looks at.
    pub fn open_calls(&self) -> Result<Vec<CallRecord>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM call_records WHERE {OPEN} ORDER BY id",
            OPEN = open_sql()
        ))?;
        let rows = statement.query_map([], record_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Call records, newest first.
    pub fn call_records(&self, filter: &CallFilter) -> Result<Vec<CallRecord>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM call_records
             WHERE (?1 IS NULL OR campaign_id = ?1) AND (?2 IS NULL OR outcome = ?2)
             ORDER BY id DESC LIMIT ?3"
        ))?;
        let limit = if filter.limit == 0 {
            -1
        } else {
            filter.limit as i64
        };
        let rows = statement.query_map(
            params![
                filter.campaign.map(|c| c.0),
                filter.outcome.map(CallOutcome::as_str),
                limit
            ],
            record_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Which call records a listing, report or export reads.
#[derive(Debug, Clone, Default)]
pub struct CallQuery {
    /// Only these campaigns' calls; empty: every campaign's (and test calls).
    pub campaigns: Vec<CampaignId>,
    /// An outcome, or calls not yet ended.
    pub outcome: Option<OutcomeFilter>,
    /// Calls started at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Calls started before this instant.
    pub to: Option<DateTime<Utc>>,
    pub number: Option<E164>,
}

impl CallQuery {
    /// The WHERE clause and its parameters.
    fn sql(&self) -> (String, Vec<rusqlite::types::Value>) {
        use rusqlite::types::Value;
        let mut clauses = Vec::new();
        let mut values = Vec::new();
        if !self.campaigns.is_empty() {
            let marks = vec!["?"; self.campaigns.len()].join(",");
            clauses.push(format!("campaign_id IN ({marks})"));
            values.extend(self.campaigns.iter().map(|c| Value::Integer(c.0)));
        }
        match self.outcome {
            None => {}
            Some(OutcomeFilter::InCall) => clauses.push(open_sql()),
            Some(OutcomeFilter::Ended(outcome)) => {
                clauses.push(format!("{} AND outcome = ?", ended_sql()));
                values.push(Value::Text(outcome.as_str().to_owned()));
            }
        }
        if let Some(from) = self.from {
            clauses.push("started_at >= ?".to_owned());
            values.push(Value::Text(format_time(from)));
        }
        if let Some(to) = self.to {
            clauses.push("started_at < ?".to_owned());
            values.push(Value::Text(format_time(to)));
        }
        if let Some(number) = self.number {
            clauses.push("e164 = ?".to_owned());
            values.push(Value::Integer(number.as_u64() as i64));
        }
        let clause = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        (clause, values)
    }
}

/// How to order a page of call records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CallOrder {
    #[default]
    NewestFirst,
    OldestFirst,
    /// Longest talk first.
    TalkTime,
    Number,
}

impl Store {
    /// A page of call records matching `query`, and how many match in all.
    pub fn call_page(
        &self,
        query: &CallQuery,
        order: CallOrder,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<CallRecord>, u64)> {
        let (clause, mut values) = query.sql();
        let total: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM call_records {clause}"),
            rusqlite::params_from_iter(values.iter()),
            |row| row.get(0),
        )?;
        let order = match order {
            CallOrder::NewestFirst => "started_at DESC, id DESC",
            CallOrder::OldestFirst => "started_at, id",
            CallOrder::TalkTime => "ifnull(talk_ms, 0) DESC, id DESC",
            CallOrder::Number => "e164, started_at",
        };
        values.push(rusqlite::types::Value::Integer(limit as i64));
        values.push(rusqlite::types::Value::Integer(offset as i64));
        let mut statement = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM call_records {clause} ORDER BY {order} LIMIT ? OFFSET ?"
        ))?;
        let rows =
            statement.query_map(rusqlite::params_from_iter(values.iter()), record_from_row)?;
        Ok((rows.collect::<rusqlite::Result<_>>()?, total as u64))
    }

    /// Every call record matching `query`, oldest first, one at a time: what
    /// reports and exports read, without holding a campaign's calls in memory.
    pub fn call_records_each(
        &self,
        query: &CallQuery,
        mut each: impl FnMut(CallRecord) -> Result<()>,
    ) -> Result<()> {
        let (clause, values) = query.sql();
        let mut statement = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM call_records {clause} ORDER BY started_at, id"
        ))?;
        let mut rows = statement.query(rusqlite::params_from_iter(values.iter()))?;
        while let Some(row) = rows.next()? {
            each(record_from_row(row)?)?;
        }
        Ok(())
    }
}

/// Ended call records of one campaign (or of no campaign) added up by SQL: what
/// a report's totals start from without reading every row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndedAggregate {
    pub campaign: Option<CampaignId>,
    /// By outcome; an ended record without one counts as `unknown`
    /// ([`shofar_vocab::NO_OUTCOME`]), an unknown name under its own.
    pub by_outcome: std::collections::BTreeMap<Stored<CallOutcome>, u64>,
    pub converted: u64,
    pub opted_out: u64,
    pub talk_ms: i64,
    pub first_started: Option<DateTime<Utc>>,
    pub last_started: Option<DateTime<Utc>>,
}

/// Where the call records stand, read in one snapshot: the ended ones added up,
/// the open ones whole. What live figures start from.
#[derive(Debug, Clone, Default)]
pub struct CallsSnapshot {
    pub ended: Vec<EndedAggregate>,
    /// `(row id, record)` of every record not yet ended.
    pub open: Vec<(i64, CallRecord)>,
    /// The highest row id the snapshot includes.
    pub max_id: i64,
}

/// What changed since a [`CallsSnapshot`], read in one snapshot: what live
/// figures follow.
#[derive(Debug, Clone, Default)]
pub struct CallChanges {
    /// `(row id, record)` of every record with a row id above the one asked for.
    pub new: Vec<(i64, CallRecord)>,
    /// `(row id, record)` of the records asked about by id (gone ones are absent).
    pub watched: Vec<(i64, CallRecord)>,
    /// The highest row id there is.
    pub max_id: i64,
}

impl Store {
    /// The ended records of every campaign added up, and the open ones, in one
    /// read snapshot.
    pub fn calls_snapshot(&mut self) -> Result<CallsSnapshot> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
        let max_id: i64 =
            tx.query_row("SELECT ifnull(max(id), 0) FROM call_records", [], |row| {
                row.get(0)
            })?;
        let mut aggregates: std::collections::BTreeMap<Option<i64>, EndedAggregate> =
            std::collections::BTreeMap::new();
        {
            let mut statement = tx.prepare(&format!(
                "SELECT campaign_id, ifnull(outcome, ?2), count(*), sum(converted),
                        sum(opted_out), ifnull(sum(talk_ms), 0), min(started_at), max(started_at)
                 FROM call_records WHERE {ENDED} AND id <= ?1 GROUP BY 1, 2",
                ENDED = ended_sql()
            ))?;
            let mut rows = statement.query(params![max_id, shofar_vocab::NO_OUTCOME])?;
            while let Some(row) = rows.next()? {
                let campaign: Option<i64> = row.get(0)?;
                let entry = aggregates
                    .entry(campaign)
                    .or_insert_with(|| EndedAggregate {
                        campaign: campaign.map(CampaignId),
                        ..EndedAggregate::default()
                    });
                let outcome: String = row.get(1)?;
                entry
                    .by_outcome
                    .insert(Stored::parse(&outcome), row.get::<_, i64>(2)? as u64);
                entry.converted += row.get::<_, i64>(3)? as u64;
                entry.opted_out += row.get::<_, i64>(4)? as u64;
                entry.talk_ms += row.get::<_, i64>(5)?;
                let first = row.get::<_, String>(6)?;
                let last = row.get::<_, String>(7)?;
                let (first, last) = (parse_time(&first), parse_time(&last));
                entry.first_started = match (entry.first_started, first) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                entry.last_started = match (entry.last_started, last) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        let open = {
            let mut statement = tx.prepare(&format!(
                "SELECT id, {COLUMNS} FROM call_records WHERE {OPEN} AND id <= ?1",
                OPEN = open_sql()
            ))?;
            let rows = statement.query_map([max_id], |row| {
                Ok((row.get(0)?, record_from_row_at(row, 1)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        tx.commit()?;
        Ok(CallsSnapshot {
            ended: aggregates.into_values().collect(),
            open,
            max_id,
        })
    }

    /// In one read snapshot: the records added after row `after`, and the records
    /// with the row ids in `watch` (open calls a reader saw before).
    pub fn call_changes(&mut self, after: i64, watch: &[i64]) -> Result<CallChanges> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
        let mut changes = CallChanges {
            max_id: tx.query_row("SELECT ifnull(max(id), 0) FROM call_records", [], |row| {
                row.get(0)
            })?,
            ..CallChanges::default()
        };
        {
            let mut statement = tx.prepare_cached(&format!(
                "SELECT id, {COLUMNS} FROM call_records WHERE id > ?1 AND id <= ?2 ORDER BY id"
            ))?;
            let rows = statement.query_map([after, changes.max_id], |row| {
                Ok((row.get(0)?, record_from_row_at(row, 1)?))
            })?;
            changes.new = rows.collect::<rusqlite::Result<_>>()?;
        }
        for chunk in watch.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let mut statement = tx.prepare(&format!(
                "SELECT id, {COLUMNS} FROM call_records WHERE id IN ({marks})"
            ))?;
            let rows = statement.query_map(rusqlite::params_from_iter(chunk.iter()), |row| {
                Ok((row.get(0)?, record_from_row_at(row, 1)?))
            })?;
            for row in rows {
                changes.watched.push(row?);
            }
        }
        tx.commit()?;
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn number() -> E164 {
        "+972525551234".parse().unwrap()
    }

    fn new_call(call_id: &str, at: DateTime<Utc>) -> NewCall {
        NewCall {
            call_id: call_id.to_owned(),
            campaign: None,
            contact_id: None,
            e164: number(),
            attempt: 1,
            kind: CallKind::Test,
            dnc_version: Some(3),
            started_at: at,
        }
    }

    #[test]
    fn a_call_goes_from_dialing_to_ended_with_its_durations() {
        let mut store = Store::open_in_memory().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        store.call_started(&new_call("c1", t0)).unwrap();
        assert_eq!(store.open_calls().unwrap().len(), 1);
        store
            .call_answered("c1", t0 + chrono::Duration::seconds(4))
            .unwrap();
        let progress = CallProgress {
            dtmf: "19".into(),
            actions: vec![CallAction::donate(None), CallAction::Blacklist],
            converted: true,
            opted_out: true,
            amd_result: Some("HUMAN".into()),
        };
        store.call_progress("c1", &progress).unwrap();
        let end = CallEnd {
            outcome: Some(CallOutcome::Answered),
            hangup_code: Some(16),
            hangup_cause: Some("normal clearing".into()),
            dial_status: Some("ANSWER".into()),
            ended_at: Some(t0 + chrono::Duration::seconds(30)),
            ended_by: Some(EndedBy::Flow),
            detail: None,
        };
        let record = store.call_finished("c1", &end).unwrap().unwrap();
        assert_eq!(record.status, CallStatus::Ended);
        assert_eq!(record.outcome, Some(CallOutcome::Answered.into()));
        assert_eq!(
            (record.duration_ms, record.ring_ms, record.talk_ms),
            (Some(30_000), Some(4_000), Some(26_000))
        );
        assert_eq!(
            record.actions,
            [CallAction::donate(None), CallAction::Blacklist]
        );
        assert!(record.converted && record.opted_out);
        assert_eq!(record.dnc_version, Some(3));
        assert!(store.open_calls().unwrap().is_empty());

        // The first end wins: a late second end changes nothing.
        let late = CallEnd {
            outcome: Some(CallOutcome::Failed),
            ended_by: Some(EndedBy::Reconcile),
            ..CallEnd::default()
        };
        assert_eq!(store.call_finished("c1", &late).unwrap(), None);
        store.call_progress("c1", &CallProgress::default()).unwrap();
        assert_eq!(store.call_record("c1").unwrap().unwrap(), record);
    }

    #[test]
    fn an_unanswered_call_rings_for_its_whole_duration() {
        let mut store = Store::open_in_memory().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        store.call_started(&new_call("c2", t0)).unwrap();
        let end = CallEnd {
            outcome: Some(CallOutcome::Busy),
            hangup_code: Some(17),
            ended_at: Some(t0 + chrono::Duration::milliseconds(1500)),
            ..CallEnd::default()
        };
        let record = store.call_finished("c2", &end).unwrap().unwrap();
        assert_eq!((record.ring_ms, record.talk_ms), (Some(1500), None));
    }

    #[test]
    fn a_refused_number_is_recorded_as_never_dialed() {
        let mut store = Store::open_in_memory().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        store
            .call_refused(&new_call("c3", t0), "on the do-not-call list")
            .unwrap();
        let records = store
            .call_records(&CallFilter {
                outcome: Some(CallOutcome::Blacklisted),
                ..CallFilter::default()
            })
            .unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].status, CallStatus::Ended);
        assert!(store.open_calls().unwrap().is_empty());
    }

    #[test]
    fn outcomes_round_trip_through_text() {
        for outcome in CallOutcome::ALL {
            assert_eq!(outcome.as_str().parse::<CallOutcome>(), Ok(outcome));
        }
    }

    /// Rows as the previous version wrote them, with every name it wrote, read
    /// back as the same words; names this version does not know are kept, and
    /// listing, counting and the live snapshot still read every row.
    #[test]
    fn rows_written_with_strings_read_back_as_the_same_words() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .conn
            .execute_batch(
                "INSERT INTO campaigns (id, name, created_at, updated_at)
                 VALUES (7, 'Old', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
                 INSERT INTO call_records (call_id, campaign_id, e164, attempt, kind, status,
                                           outcome, started_at, actions, ended_by)
                 VALUES
                 ('s-1', 7, 972525551234, 1, 'campaign', 'dialing', NULL,
                  '2026-01-01T10:00:00.000Z', '[]', NULL),
                 ('s-2', 7, 972525551234, 1, 'tts_fallback', 'ringing', NULL,
                  '2026-01-01T10:00:01.000Z', '[]', NULL),
                 ('s-3', NULL, 972525551234, 1, 'test', 'answered', NULL,
                  '2026-01-01T10:00:02.000Z', '[\"voicemail_drop\"]', NULL),
                 ('o-1', 7, 972525551234, 1, 'campaign', 'ended', 'answered',
                  '2026-01-01T10:01:00.000Z',
                  '[\"blacklist\",\"donate\",\"donate:180\",\"send_sms:pending\"]', 'callee'),
                 ('o-2', 7, 972525551234, 1, 'campaign', 'ended', 'voicemail',
                  '2026-01-01T10:02:00.000Z',
                  '[\"transfer:03-6123456\",\"transfer_connected\",\"transfer_failed\"]', 'flow'),
                 ('o-3', 7, 972525551234, 1, 'campaign', 'ended', 'busy',
                  '2026-01-01T10:03:00.000Z', '[\"max_call_length\"]', 'network'),
                 ('o-4', 7, 972525551234, 1, 'campaign', 'ended', 'no_answer',
                  '2026-01-01T10:04:00.000Z', '[]', 'supervisor'),
                 ('o-5', 7, 972525551234, 1, 'campaign', 'ended', 'congestion',
                  '2026-01-01T10:05:00.000Z', '[]', 'reconcile'),
                 ('o-6', 7, 972525551234, 1, 'campaign', 'ended', 'rejected',
                  '2026-01-01T10:06:00.000Z', '[]', NULL),
                 ('o-7', 7, 972525551234, 1, 'campaign', 'ended', 'failed',
                  '2026-01-01T10:07:00.000Z', '[]', NULL),
                 ('o-8', 7, 972525551234, 1, 'campaign', 'ended', 'blacklisted',
                  '2026-01-01T10:08:00.000Z', '[]', 'supervisor'),
                 ('n-1', 7, 972525551234, 1, 'campaign', 'ended', 'fax_tone',
                  '2026-01-01T10:09:00.000Z', '[\"send_sms:sent\"]', 'operator'),
                 ('n-2', 7, 972525551234, 1, 'campaign', 'ended', NULL,
                  '2026-01-01T10:10:00.000Z', '[]', NULL);",
            )
            .unwrap();
        let read = |id: &str| store.call_record(id).unwrap().unwrap();

        let statuses = ["s-1", "s-2", "s-3", "o-1"].map(|id| read(id).status);
        assert_eq!(statuses, CallStatus::ALL);
        let kinds = ["s-1", "s-2", "s-3"].map(|id| read(id).kind);
        assert_eq!(kinds, CallKind::ALL);
        let outcomes = ["o-1", "o-2", "o-3", "o-4", "o-5", "o-6", "o-7", "o-8"]
            .map(|id| read(id).known_outcome().unwrap());
        assert_eq!(outcomes, CallOutcome::ALL);
        let ended_by = ["o-1", "o-2", "o-3", "o-4", "o-5"]
            .map(|id| read(id).ended_by.and_then(|by| by.known()).unwrap());
        assert_eq!(ended_by, EndedBy::ALL);
        assert_eq!(
            read("o-1").actions,
            [
                CallAction::Blacklist,
                CallAction::donate(None),
                CallAction::donate(Some("180")),
                CallAction::SendSmsPending,
            ]
        );
        assert_eq!(
            read("o-2").actions,
            [
                CallAction::transfer("03-6123456"),
                CallAction::TransferConnected,
                CallAction::TransferFailed,
            ]
        );
        assert!(read("o-2").did(&CallAction::TransferConnected));
        assert_eq!(read("o-3").actions, [CallAction::MaxCallLength]);
        assert_eq!(read("s-3").actions, [CallAction::VoicemailDrop]);

        // Names a later version might write: kept as they are, not an error.
        let newer = read("n-1");
        assert_eq!(newer.outcome, Some(Stored::Unknown("fax_tone".to_owned())));
        assert_eq!(newer.known_outcome(), None);
        assert_eq!(newer.ended_by, Some(Stored::Unknown("operator".to_owned())));
        assert_eq!(
            newer.actions,
            [CallAction::Other("send_sms:sent".to_owned())]
        );
        assert_eq!(read("n-2").outcome, None);

        // Every reader still reads every row.
        let all = store.call_records(&CallFilter::default()).unwrap();
        assert_eq!(all.len(), 13);
        let (page, total) = store
            .call_page(&CallQuery::default(), CallOrder::OldestFirst, 0, 100)
            .unwrap();
        assert_eq!((page.len(), total), (13, 13));
        let counts = store.call_outcome_counts(CampaignId(7)).unwrap();
        assert_eq!(
            (counts["in_call"], counts["fax_tone"], counts["unknown"]),
            (2, 1, 1)
        );
        let snapshot = store.calls_snapshot().unwrap();
        assert_eq!(snapshot.open.len(), 3);
        let by_outcome = &snapshot.ended[0].by_outcome;
        assert_eq!(by_outcome[&Stored::parse("fax_tone")], 1);
        assert_eq!(by_outcome[&Stored::parse("unknown")], 1);
        assert_eq!(by_outcome[&CallOutcome::Busy.into()], 1);
        // And the filters select the same rows the counts count.
        for filter in OutcomeFilter::ALL {
            let query = CallQuery {
                outcome: Some(filter),
                ..CallQuery::default()
            };
            let (_, total) = store
                .call_page(&query, CallOrder::NewestFirst, 0, 100)
                .unwrap();
            let expected = match filter {
                OutcomeFilter::InCall => 3,
                OutcomeFilter::Ended(_) => 1,
            };
            assert_eq!(total, expected, "{filter}");
        }
    }

    /// A status outside the schema's CHECK cannot be written; were it there, the
    /// read would say which column of which table is damaged.
    #[test]
    fn a_status_the_schema_forbids_is_refused() {
        let store = Store::open_in_memory().unwrap();
        let refused = store.conn.execute(
            "INSERT INTO call_records (call_id, e164, attempt, status, started_at)
             VALUES ('x', 972525551234, 1, 'paused', '2026-01-01T10:00:00.000Z')",
            [],
        );
        assert!(refused.is_err());
    }

    /// Schema v3 rebuilt call_records: a v2 database's records survive it, and
    /// the new columns start empty.
    #[test]
    fn records_written_under_schema_v2_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shofar.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        for (_, sql) in &crate::MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute_batch(
            "INSERT INTO campaigns (id, name, created_at, updated_at) VALUES (7, 'Old', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
             INSERT INTO call_records (call_id, campaign_id, e164, attempt, status, outcome, hangup_cause,
                                       started_at, ended_at, duration_ms, dtmf, actions, dnc_version)
             VALUES ('old-1', 7, 972525551234, 2, 'ended', 'busy', '17', '2026-01-01T10:00:00.000Z',
                     '2026-01-01T10:00:03.000Z', 3000, '', '[]', 5);",
        )
        .unwrap();
        drop(conn);

        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), crate::SCHEMA_VERSION);
        let record = store.call_record("old-1").unwrap().unwrap();
        assert_eq!(record.campaign_id, Some(CampaignId(7)));
        assert_eq!(record.number, number());
        assert_eq!(
            (record.attempt, record.known_outcome()),
            (2, Some(CallOutcome::Busy))
        );
        assert_eq!(
            (record.duration_ms, record.dnc_version),
            (Some(3000), Some(5))
        );
        assert_eq!(
            (record.ring_ms, record.ended_by, record.converted),
            (None, None, false)
        );
        // And the table now takes a call without a campaign.
        drop(store);
        let mut store = Store::open(&path).unwrap();
        let t0 = chrono::Utc
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .unwrap();
        store.call_started(&new_call("new-1", t0)).unwrap();
        assert_eq!(store.open_calls().unwrap().len(), 1);
    }
}
