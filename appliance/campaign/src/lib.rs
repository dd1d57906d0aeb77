//! The campaign model, with no I/O: settings and their validation, the lifecycle,
//! calling windows and the calculus that turns them into allowed instants, the retry
//! policy, and the fair sharing of the box between campaigns.
//!
//! The store keeps campaigns; the scheduler reads them through this crate to decide
//! who may be called now.

pub mod lifecycle;
pub mod retry;
pub mod settings;
pub mod share;
pub mod windows;

pub use lifecycle::{Event, IllegalTransition, Status, transition};
pub use retry::{FinalStatus, NextStep, Outcome, Retry, RetryPolicy};
pub use settings::{
    AnsweringMachine, CampaignFile, FieldError, InvalidSettings, Kind, Pacing, Purpose,
    QuietSettings, SMS_UNAVAILABLE, Settings, SettingsFile, ValidCampaign,
};
pub use share::{Capacity, Claim, FairShare, Pool};
pub use windows::{
    BlockReason, Blocked, CallingPlan, CallingPolicy, Gate, TimeRange, WeeklyWindows,
};

use shofar_calendar::{Havdalah, IsraeliCalendar, Location, QuietRules};

/// The box's side of the quiet periods: where it is and its customs. Campaigns
/// choose which quiet periods they keep; the box says when they are.
#[derive(Debug, Clone)]
pub struct BoxCalendar {
    pub location: Location,
    /// `None`: the location's custom (40 in Jerusalem, 30 in Haifa, 20 elsewhere).
    pub candle_lighting_minutes: Option<u32>,
    pub havdalah: Havdalah,
}

impl Default for BoxCalendar {
    fn default() -> BoxCalendar {
        BoxCalendar {
            location: Location::jerusalem(),
            candle_lighting_minutes: None,
            havdalah: Havdalah::Degrees(8.5),
        }
    }
}

impl BoxCalendar {
    /// The calendar for a campaign's choice of quiet periods; `None` when it keeps
    /// none.
    pub fn calendar(&self, quiet: &QuietSettings) -> Option<IsraeliCalendar> {
        let rules = QuietRules {
            shabbat: quiet.shabbat,
            holidays: quiet.holidays,
            erev_from: quiet.erev_from,
            yom_hazikaron: quiet.yom_hazikaron,
            candle_lighting_minutes: self.candle_lighting_minutes,
            havdalah: self.havdalah,
        };
        let keeps_any = rules.shabbat || rules.holidays || rules.yom_hazikaron;
        keeps_any.then(|| IsraeliCalendar::new(self.location.clone(), rules))
    }
}

impl Settings {
    /// Everything that decides when this campaign may call.
    pub fn calling_policy(&self, calendar: &BoxCalendar) -> CallingPolicy {
        CallingPolicy {
            zone: self.time_zone,
            windows: self.windows.clone(),
            start: self.start,
            end: self.end,
            calendar: calendar.calendar(&self.quiet),
        }
    }
}
