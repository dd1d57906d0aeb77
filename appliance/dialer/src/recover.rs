//! Settling contacts and calls: after each call, and after a crash.
//!
//! The order of writes makes every crash recoverable:
//!
//! 1. claim: the contact is `in_progress` and its attempt counted (nothing dialed);
//! 2. the call record is written (`dialing`), then the dial;
//! 3. the record is ended with its outcome;
//! 4. the contact is settled: due again later, or done.
//!
//! After a crash between any two of these, [`recover`] finds the contact in
//! progress and looks for the record of its current attempt: none means it was
//! never dialed (the attempt is given back); an open one is closed (the call is
//! hung up if the engine still has it); an ended one is applied. So no record is
//! lost, no attempt is counted without a record, and no contact ends up with more
//! attempts than its campaign allows.

use std::collections::HashMap;
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use shofar_campaign::retry::Outcome;
use shofar_store::Store;
use shofar_store::calls::{CallEnd, CallOutcome, CallRecord, EndedBy};
use shofar_store::campaigns::{Campaign, CampaignId};

use crate::DialerError;

/// What [`recover`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// Open call records closed.
    pub calls_closed: usize,
    /// Of those, calls the engine still had, hung up.
    pub calls_hung_up: usize,
    /// Contacts whose last call's outcome was applied.
    pub contacts_settled: usize,
    /// Contacts claimed but never dialed, given back.
    pub contacts_returned: usize,
}

/// What became of one contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Its call's outcome was applied.
    Applied(Outcome),
    /// It was never dialed: the attempt was given back.
    Returned,
    /// Its call is still open: nothing done.
    StillOpen,
}

/// The retry policy's view of a record.
pub fn record_outcome(record: &CallRecord) -> Outcome {
    Outcome::of_call(record.known_outcome(), record.opted_out)
}

/// Settles one contact after its attempt `attempt` (see the module doc).
pub fn settle(
    store: &mut Store,
    campaign: &Campaign,
    contact_id: i64,
    attempt: u32,
    now: DateTime<Utc>,
) -> Result<Settled, DialerError> {
    match store.call_for_attempt(contact_id, attempt)? {
        None => {
            store.unclaim_contact(contact_id)?;
            Ok(Settled::Returned)
        }
        Some(record) if record.is_open() => Ok(Settled::StillOpen),
        Some(record) => {
            let outcome = record_outcome(&record);
            shofar_scheduler::call_ended(store, campaign, contact_id, outcome, now)?;
            Ok(Settled::Applied(outcome))
        }
    }
}

/// How a call that was open when the process stopped is closed.
#[derive(Debug, Clone)]
pub struct OpenCall {
    pub call_id: String,
    /// The engine still has the channel.
    pub present: bool,
}

/// Closes a record the previous run left open. `engine` is `"asterisk"` or
/// `"simulator"`, for the explanation.
pub fn close_open_call(
    store: &mut Store,
    record: &CallRecord,
    present: bool,
    engine: &str,
    now: DateTime<Utc>,
) -> Result<(), DialerError> {
    let detail = match (present, engine) {
        (true, _) => {
            "the supervisor restarted during this call and hung it up (the call's menu state was lost)"
        }
        (false, "simulator") => {
            "the supervisor stopped during this call (killed or crashed); a simulated call ends with the process"
        }
        (false, _) => {
            "the supervisor stopped during this call (killed or crashed); Asterisk no longer had the call when it restarted"
        }
    };
    let outcome = if record.answered_at.is_some() {
        if record.amd_result.as_deref() == Some("MACHINE") {
            CallOutcome::Voicemail
        } else {
            CallOutcome::Answered
        }
    } else {
        CallOutcome::Failed
    };
    store.call_finished(
        &record.call_id,
        &CallEnd {
            outcome: Some(outcome),
            ended_at: Some(now),
            ended_by: Some(EndedBy::Reconcile),
            detail: Some(detail.to_owned()),
            ..CallEnd::default()
        },
    )?;
    tracing::info!(call_id = %record.call_id, %outcome, present, "closed a call left open by the previous run");
    Ok(())
}

/// After a start: closes every call record a previous run left open whose call
/// this process may close — those with this dialer's `prefix`, and any other
/// whose channel is gone (a `shofar call` that was killed) — and settles every
/// contact left in progress. `present` is the set of channel ids the engine has
/// up; the caller hangs up the ids returned (the dialer's own calls still up).
pub fn recover(
    store: &mut Store,
    prefix: &str,
    present: &HashSet<String>,
    engine: &str,
    now: DateTime<Utc>,
) -> Result<(Recovery, Vec<String>), DialerError> {
    let mut recovery = Recovery::default();
    let mut hang_up = Vec::new();
    for record in store.open_calls()? {
        let is_present = present.contains(&record.call_id);
        if is_present && !record.call_id.starts_with(prefix) {
            // Another process's call, still going: not ours to close.
            continue;
        }
        close_open_call(store, &record, is_present, engine, now)?;
        recovery.calls_closed += 1;
        if is_present {
            recovery.calls_hung_up += 1;
            hang_up.push(record.call_id);
        }
    }
    let mut campaigns: HashMap<CampaignId, Campaign> = HashMap::new();
    for (contact_id, campaign_id, attempts) in store.in_progress_contacts()? {
        let campaign = match campaigns.entry(campaign_id) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(store.campaign(campaign_id)?)
            }
        };
        match settle(store, campaign, contact_id, attempts, now)? {
            Settled::Applied(_) => recovery.contacts_settled += 1,
            Settled::Returned => recovery.contacts_returned += 1,
            // Another process's call (see above): left to it.
            Settled::StillOpen => {}
        }
    }
    Ok((recovery, hang_up))
}
