//! The dialer's figures as a snapshot, for whoever shows them live (the CLI, and
//! the web API's live feed).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use shofar_store::campaigns::CampaignId;
pub use shofar_telephony::Problem;

/// The whole box, as of `at`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DialerStatus {
    /// `None` until the first snapshot.
    pub at: Option<DateTime<Utc>>,
    /// `asterisk` or `simulator`.
    pub backend: String,
    pub telephony_up: bool,
    pub ceiling_cps: f64,
    /// The pace now, after health adjustments.
    pub pace_cps: f64,
    /// Calls dialed in the last second.
    pub dial_rate_cps: f64,
    pub active: u32,
    pub queued: u32,
    pub max_channels: u32,
    pub cpu_percent: f64,
    pub memory_percent: f64,
    pub load_per_core: f64,
    pub asterisk_channels: u32,
    pub campaigns: Vec<CampaignStatus>,
}

/// One campaign in the dialer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignStatus {
    pub campaign: CampaignId,
    pub name: String,
    /// Still among the running campaigns (a paused one finishes its calls).
    pub running: bool,
    /// Why it cannot call, if it cannot (a missing prompt, say).
    pub problem: Option<Problem>,
    pub active: u32,
    pub queued: u32,
    pub pace_cps: f64,
    pub ceiling_cps: f64,
    /// Over its recent calls; `None` until enough ended.
    pub answer_rate: Option<f64>,
    /// Since this process started.
    pub started: u64,
    /// By outcome, since this process started.
    pub ended: BTreeMap<String, u64>,
}
