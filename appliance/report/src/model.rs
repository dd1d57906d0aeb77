//! The report's own domain types: what the caller reads from the store and hands
//! over. They are not wire types and know nothing about SQL or HTTP.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shofar_vocab::{CallOutcome, Stored};

use crate::Totals;

/// The language of a report's labels, headings and outcome names. Hebrew is the
/// product's default; it also makes PDF pages and spreadsheets right-to-left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    He,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::He, Lang::En];

    /// The BCP 47 code: `he` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::He => "he",
            Lang::En => "en",
        }
    }

    /// The language for a BCP 47 code (`he`, `he-IL`, `iw`, `en`, `en-US`, …).
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "he" | "iw" => Some(Lang::He),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn is_rtl(self) -> bool {
        self == Lang::He
    }
}

/// The campaign a report is about, as the store describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignInfo {
    pub id: i64,
    pub name: String,
    /// `voice`, `sms` or `hybrid`.
    pub kind: String,
    /// `donation`, `advertising`, `political`, `informational`, `emergency`.
    pub purpose: String,
    /// `draft`, `scheduled`, `active`, `paused`, `completed`, `cancelled`.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// One call record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRow {
    pub call_id: String,
    pub campaign_id: Option<i64>,
    /// E.164 with its plus: `+972525551234`.
    pub number: String,
    pub attempt: u32,
    /// How the call ended; `None` while it is still in progress. An outcome this
    /// version does not know (a later version's) is counted under its own name.
    pub outcome: Option<Stored<CallOutcome>>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// From the dial to the end.
    pub duration_ms: Option<i64>,
    /// From the answer to the end.
    pub talk_ms: Option<i64>,
    /// Keys pressed, in order.
    pub dtmf: String,
    pub converted: bool,
    pub opted_out: bool,
    pub hangup_cause: Option<String>,
}

/// The period a person means by "from `from` until `until`", dates in `zone`:
/// from `from`'s midnight to the midnight after `until`, so the `until` day is
/// included whole (until 2026-12-07 includes 23:59 that day and excludes 00:00
/// on the 8th). Every endpoint and export reads a date range through this one
/// function; the result is half-open, for [`in_period`]. A midnight that does
/// not exist (a zone that moves its clocks at midnight) is the first instant of
/// the day.
pub fn day_range(
    from: Option<chrono::NaiveDate>,
    until: Option<chrono::NaiveDate>,
    zone: chrono_tz::Tz,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let midnight = |date: chrono::NaiveDate| {
        use chrono::TimeZone;
        let local = date.and_time(chrono::NaiveTime::MIN);
        zone.from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|at| at.with_timezone(&Utc))
    };
    (
        from.and_then(midnight),
        until.and_then(|until| until.succ_opt()).and_then(midnight),
    )
}

/// Whether `instant` is in the half-open period `[from, to)`; an open end is
/// unbounded. This is the one rule for "in the period" everywhere in reports; a
/// query feeding them should select with the same `>=` / `<`.
pub fn in_period(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    instant: DateTime<Utc>,
) -> bool {
    from.is_none_or(|from| from <= instant) && to.is_none_or(|to| instant < to)
}

/// A campaign's report: what it is about, the period, and exact totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub campaign: CampaignInfo,
    /// The period's start (inclusive); `None`: from the first call.
    pub from: Option<DateTime<Utc>>,
    /// The period's end (exclusive); `None`: up to `generated_at`.
    pub to: Option<DateTime<Utc>>,
    /// When the report was made; passed in, never read from a clock.
    pub generated_at: DateTime<Utc>,
    pub totals: Totals,
    /// Keys pressed in each menu of the campaign's flow ([`crate::KeyTally`]);
    /// empty when not counted.
    #[serde(default)]
    pub menus: Vec<crate::MenuKeys>,
    /// The campaign's contacts, when the caller counted them.
    #[serde(default)]
    pub contacts: Option<Contacts>,
}

/// A campaign's contacts as a manager asks about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contacts {
    /// Contacts on the campaign's list.
    pub total: u64,
    /// Different numbers that answered at least once in the period.
    pub reached: u64,
}

impl Report {
    /// A report over the rows given. The rows are the caller's selection (one
    /// campaign, the period): nothing is filtered out here, so the totals always
    /// describe exactly the rows an export of the same selection lists.
    pub fn from_rows<R: std::borrow::Borrow<CallRow>>(
        campaign: CampaignInfo,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        generated_at: DateTime<Utc>,
        rows: impl IntoIterator<Item = R>,
    ) -> Report {
        Report {
            campaign,
            from,
            to,
            generated_at,
            totals: Totals::from_rows(rows),
            menus: Vec::new(),
            contacts: None,
        }
    }
}
