//! The pacing log: every change of a dialing pace, when, from what to what, and
//! why (seed property 39). Append-only; the dialer writes, the CLI and the web UI
//! read.

use chrono::{DateTime, Utc};
use rusqlite::{Row, params};
use serde::Serialize;

use crate::campaigns::CampaignId;
use crate::{Result, Store, format_time, parse_time};

/// One change of pace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaceLogEntry {
    pub at: DateTime<Utc>,
    /// `None`: the whole box's pace.
    pub campaign: Option<CampaignId>,
    pub old_cps: f64,
    pub new_cps: f64,
    pub old_channels: Option<u32>,
    pub new_channels: Option<u32>,
    /// Why, in words (the pacing controller's reason).
    pub reason: String,
    /// The same as data, `{"kind": "cpu_high", "percent": 91.2, "threshold": 85}`;
    /// `None` for changes logged before schema version 6.
    pub reason_detail: Option<serde_json::Value>,
}

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<PaceLogEntry> {
    let at: String = row.get(0)?;
    Ok(PaceLogEntry {
        at: parse_time(&at).unwrap_or_default(),
        campaign: row.get::<_, Option<i64>>(1)?.map(CampaignId),
        old_cps: row.get(2)?,
        new_cps: row.get(3)?,
        old_channels: row.get(4)?,
        new_channels: row.get(5)?,
        reason: row.get(6)?,
        reason_detail: row
            .get::<_, Option<String>>(7)?
            .and_then(|text| serde_json::from_str(&text).ok()),
    })
}

impl Store {
    /// Appends a change of pace.
    pub fn log_pace_change(&mut self, entry: &PaceLogEntry) -> Result<()> {
        self.conn.execute(
            "INSERT INTO pacing_log (at, campaign_id, old_cps, new_cps, old_channels, new_channels, reason, reason_detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                format_time(entry.at),
                entry.campaign.map(|c| c.0),
                entry.old_cps,
                entry.new_cps,
                entry.old_channels,
                entry.new_channels,
                entry.reason,
                entry.reason_detail.as_ref().map(|detail| detail.to_string()),
            ],
        )?;
        Ok(())
    }

    /// The latest changes, newest first: all of them, or one campaign's (with the
    /// box-wide ones, which limit every campaign).
    pub fn pacing_log(
        &self,
        campaign: Option<CampaignId>,
        limit: usize,
    ) -> Result<Vec<PaceLogEntry>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT at, campaign_id, old_cps, new_cps, old_channels, new_channels, reason, reason_detail
             FROM pacing_log
             WHERE ?1 IS NULL OR campaign_id = ?1 OR campaign_id IS NULL
             ORDER BY id DESC LIMIT ?2",
        )?;
        let limit = if limit == 0 { -1 } else { limit as i64 };
        let rows = statement.query_map(params![campaign.map(|c| c.0), limit], entry_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(
        second: u32,
        campaign: Option<CampaignId>,
        old: f64,
        new: f64,
        reason: &str,
    ) -> PaceLogEntry {
        PaceLogEntry {
            at: Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, second).unwrap(),
            campaign,
            old_cps: old,
            new_cps: new,
            old_channels: None,
            new_channels: None,
            reason: reason.to_owned(),
            reason_detail: Some(serde_json::json!({"kind": reason})),
        }
    }

    /// Seed property 39: every change is kept with its exact time, the values
    /// and the reason, and read back newest first.
    #[test]
    fn property_39_changes_are_kept_with_time_values_and_reason() {
        let mut store = Store::open_in_memory().unwrap();
        let campaign = store.create_campaign("Donors", "test").unwrap();
        let other = store.create_campaign("Other", "test").unwrap();
        let written = [
            entry(1, None, 10.0, 5.0, "CPU at 92 % (above 85 %)"),
            entry(2, Some(campaign), 5.0, 2.5, "answer rate 9 % (below 15 %)"),
            entry(3, Some(other), 5.0, 6.0, "health recovered"),
        ];
        for change in &written {
            store.log_pace_change(change).unwrap();
        }
        let all = store.pacing_log(None, 0).unwrap();
        assert_eq!(all, written.iter().rev().cloned().collect::<Vec<_>>());
        // A campaign's view has its own changes and the box's, not other campaigns'.
        let mine = store.pacing_log(Some(campaign), 10).unwrap();
        assert_eq!(mine, vec![written[1].clone(), written[0].clone()]);
        assert_eq!(store.pacing_log(None, 1).unwrap(), vec![written[2].clone()]);
    }
}
