//! Who may be called now, and in what order.
//!
//! The scheduler reads campaigns and contacts from the store and decides, for an
//! instant it is given (it never reads the clock), which contacts each running
//! campaign should dial next:
//!
//! - only contacts that are pending, not blacklisted, with attempts left, whose
//!   retry time has come, with consent when the campaign's purpose needs it;
//! - only while the campaign's calling windows are open *in the contact's own zone*
//!   and no quiet period (Shabbat, Yom Tov) covers the instant (properties 6, 8);
//! - contacts inside their predicted best hours first (property 33; brought forward
//!   from the next [`BEST_HOUR_LOOKAHEAD`] of the order), then best score, then
//!   import order — deterministic;
//! - the box's capacity shared between campaigns by weighted max-min fairness, voice
//!   and SMS in separate pools (properties 9, 27).
//!
//! It also moves campaigns along: scheduled → active when the start comes, to
//! completed when nobody is left to call or the end has passed — and at the end it
//! names the campaigns whose calls still up must be ended (property 7).
//!
//! The dialer claims each contact it is given before dialing
//! ([`Store::claim_contact`]), runs the pre-dial do-not-call check, and reports the
//! outcome through [`Scheduler::call_ended`].

use std::collections::BTreeMap;

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use shofar_campaign::{
    BoxCalendar, CallingPolicy, Capacity, Claim, Event, FairShare, Gate, Kind, NextStep, Outcome,
    Pool, Status,
};
use shofar_store::campaigns::{Campaign, CampaignId};
use shofar_store::dispatch::{Candidate, CandidateQuery, Tier};
use shofar_store::{Store, StoreError};

/// How far down the dispatch order contacts in their predicted best hour are
/// brought forward from: it bounds the scan in an hour when few contacts, or none,
/// are predicted to answer (a full scan of a million-contact campaign takes
/// ~150 ms; this many entries, a few).
pub const BEST_HOUR_LOOKAHEAD: usize = 10_000;

/// Who the scheduler says did what, in the audit log.
pub const ACTOR: &str = "scheduler";

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("contact {0} does not exist")]
    NoSuchContact(i64),
}

pub type Result<T, E = SchedulerError> = std::result::Result<T, E>;

/// One round's question: the time, what the box can take, and what each campaign
/// already has in the air.
#[derive(Debug, Clone, Default)]
pub struct Round {
    pub now: DateTime<Utc>,
    pub capacity: Capacity,
    pub in_flight: BTreeMap<CampaignId, u32>,
}

/// One campaign's answer.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignDispatch {
    pub campaign: CampaignId,
    pub gate: Gate,
    /// The contacts to dial now, in order.
    pub contacts: Vec<Candidate>,
}

/// A campaign the scheduler moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    pub campaign: CampaignId,
    pub from: Status,
    pub to: Status,
}

/// One round's answer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub dispatch: Vec<CampaignDispatch>,
    /// Campaigns whose end has passed: calls still up must be ended now.
    pub terminate: Vec<CampaignId>,
    pub changes: Vec<StatusChange>,
}

impl Plan {
    /// The contacts of one campaign in this plan.
    pub fn contacts_of(&self, campaign: CampaignId) -> &[Candidate] {
        self.dispatch
            .iter()
            .find(|d| d.campaign == campaign)
            .map_or(&[], |d| &d.contacts)
    }
}

/// The scheduler: the box's calendar and the fairness credit carried between
/// rounds. Everything else is read from the store each round.
#[derive(Debug, Default)]
pub struct Scheduler {
    calendar: BoxCalendar,
    fair: FairShare,
}

impl Scheduler {
    pub fn new(calendar: BoxCalendar) -> Scheduler {
        Scheduler {
            calendar,
            fair: FairShare::new(),
        }
    }

    pub fn calendar(&self) -> &BoxCalendar {
        &self.calendar
    }

    /// Everything that decides when a campaign may call.
    pub fn policy(&self, campaign: &Campaign) -> CallingPolicy {
        campaign.settings.calling_policy(&self.calendar)
    }

    /// One round: promotes and completes campaigns, and chooses who each running
    /// campaign dials now within the capacity given.
    pub fn plan(&mut self, store: &mut Store, round: &Round) -> Result<Plan> {
        let now = round.now;
        let mut plan = Plan::default();
        let mut claims = Vec::new();
        let mut running: Vec<(Campaign, CallingPolicy, Gate)> = Vec::new();
        let mut waiting: Vec<(CampaignId, Gate)> = Vec::new();
        for mut campaign in store.running_campaigns()? {
            let policy = self.policy(&campaign);
            let gate = policy.gate(None, now);
            if gate == Gate::Ended {
                self.move_campaign(store, &mut campaign, Event::Finished, now, &mut plan)?;
                plan.terminate.push(campaign.id);
                continue;
            }
            // An SMS or hybrid campaign running from before SMS start was refused
            // (an upgrade) is never dialed: its people were meant to get a text.
            if !campaign.kind.can_run() {
                waiting.push((campaign.id, gate));
                continue;
            }
            if campaign.status == Status::Scheduled {
                if campaign.settings.start.is_some_and(|start| start > now) {
                    waiting.push((campaign.id, gate));
                    continue;
                }
                self.move_campaign(store, &mut campaign, Event::StartReached, now, &mut plan)?;
            }
            let settings = &campaign.settings;
            if !store.has_work_left(
                campaign.id,
                settings.max_attempts,
                campaign.consent_required(),
            )? {
                self.move_campaign(store, &mut campaign, Event::Finished, now, &mut plan)?;
                continue;
            }
            let in_flight = round.in_flight.get(&campaign.id).copied().unwrap_or(0);
            let limit = settings.pacing.max_channels.saturating_sub(in_flight);
            let (pool, weight) = match campaign.kind {
                Kind::Sms => (Pool::Sms, settings.pacing.cps.ceil() as u32),
                Kind::Voice | Kind::Hybrid => (Pool::Voice, settings.pacing.max_channels),
            };
            claims.push(Claim {
                campaign: campaign.id.0,
                pool,
                weight,
                limit,
                demand: limit,
            });
            running.push((campaign, policy, gate));
        }
        // Read no more contacts than a campaign can be given: first its share as if
        // every campaign wanted its limit; a campaign that comes up short is dry,
        // and the second allocation gives its share to the others, who read on.
        let estimate = FairShare::new().allocate(round.capacity, &claims);
        let mut fetched = Vec::with_capacity(running.len());
        for ((campaign, policy, _), (claim, estimate)) in
            running.iter().zip(claims.iter_mut().zip(estimate))
        {
            let want = claim.limit.min(estimate + 1) as usize;
            let contacts = self.next_contacts(store, campaign, policy, now, want)?;
            if contacts.len() < want {
                claim.demand = contacts.len() as u32;
            }
            fetched.push(contacts);
        }
        // Allocate; a campaign found dry at its share gives the rest back, and the
        // shares are worked out again (each pass finds at least one dry campaign).
        let shares = loop {
            let shares = self.fair.clone().allocate(round.capacity, &claims);
            let mut changed = false;
            for (index, share) in shares.iter().enumerate() {
                let share = *share as usize;
                if fetched[index].len() < share
                    && claims[index].demand as usize > fetched[index].len()
                {
                    let (campaign, policy, _) = &running[index];
                    fetched[index] = self.next_contacts(store, campaign, policy, now, share)?;
                    if fetched[index].len() < share {
                        claims[index].demand = fetched[index].len() as u32;
                        changed = true;
                    }
                }
            }
            if !changed {
                break self.fair.allocate(round.capacity, &claims);
            }
        };
        for ((campaign, _, gate), (mut contacts, share)) in
            running.into_iter().zip(fetched.into_iter().zip(shares))
        {
            contacts.truncate(share as usize);
            plan.dispatch.push(CampaignDispatch {
                campaign: campaign.id,
                gate,
                contacts,
            });
        }
        for (campaign, gate) in waiting {
            plan.dispatch.push(CampaignDispatch {
                campaign,
                gate,
                contacts: Vec::new(),
            });
        }
        Ok(plan)
    }

    fn move_campaign(
        &self,
        store: &mut Store,
        campaign: &mut Campaign,
        event: Event,
        now: DateTime<Utc>,
        plan: &mut Plan,
    ) -> Result<()> {
        let reason = match event {
            Event::StartReached => "the start time has come",
            Event::Finished if campaign.settings.end.is_some_and(|end| end <= now) => {
                "the end time has passed"
            }
            _ => "no contact is left to call",
        };
        let (from, to) = store.campaign_event(campaign.id, event, now, ACTOR, Some(reason))?;
        campaign.status = to;
        plan.changes.push(StatusChange {
            campaign: campaign.id,
            from,
            to,
        });
        Ok(())
    }

    /// Up to `limit` contacts of a campaign that may be dialed at `now`, in dispatch
    /// order: zone by zone only where the windows are open for that zone, contacts in
    /// their predicted best hour first, then best score, then import order. Reads at
    /// most `limit` rows per zone and tier, never the whole campaign.
    pub fn next_contacts(
        &self,
        store: &Store,
        campaign: &Campaign,
        policy: &CallingPolicy,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Candidate>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut open: Vec<(Option<String>, u32)> = Vec::new();
        for zone in store.dispatch_zones(campaign.id)? {
            // A zone the tz database does not know falls back to the campaign's.
            let tz = zone.as_deref().and_then(|name| name.parse::<Tz>().ok());
            if policy.is_open(tz, now) {
                let hour = now.with_timezone(&tz.unwrap_or(policy.zone)).hour();
                open.push((zone, 1 << hour));
            }
        }
        fn query<'z>(
            campaign: &Campaign,
            now: DateTime<Utc>,
            zone: &'z Option<String>,
            tier: Tier,
            limit: usize,
        ) -> CandidateQuery<'z> {
            CandidateQuery {
                campaign: campaign.id,
                zone: zone.as_deref(),
                now,
                max_attempts: campaign.settings.max_attempts,
                consent_required: campaign.consent_required(),
                tier,
                limit,
            }
        }
        // First, contacts in their predicted best hour (property 33) ...
        let mut chosen = Vec::with_capacity(limit);
        for (zone, bit) in &open {
            let tier = Tier::InWindow {
                bit: *bit,
                lookahead: BEST_HOUR_LOOKAHEAD.max(limit),
            };
            chosen.extend(store.dispatch_candidates(&query(campaign, now, zone, tier, limit))?);
        }
        chosen.sort_by(dispatch_order);
        chosen.truncate(limit);
        // ... then everyone else in order, skipping those already chosen.
        if chosen.len() < limit {
            let taken: std::collections::HashSet<i64> =
                chosen.iter().map(|c| c.contact_id).collect();
            let mut rest = Vec::new();
            for (zone, _) in &open {
                let page = store.dispatch_candidates(&query(
                    campaign,
                    now,
                    zone,
                    Tier::All,
                    limit + taken.len(),
                ))?;
                rest.extend(page.into_iter().filter(|c| !taken.contains(&c.contact_id)));
            }
            rest.sort_by(|a, b| {
                b.score
                    .total_cmp(&a.score)
                    .then(a.contact_id.cmp(&b.contact_id))
            });
            rest.truncate(limit - chosen.len());
            chosen.extend(rest);
        }
        Ok(chosen)
    }

    /// Records how a call ended: the contact's attempts stay counted (the claim
    /// counted it), and the campaign's retry policy decides whether and when it is
    /// due again.
    pub fn call_ended(
        &self,
        store: &mut Store,
        campaign: &Campaign,
        contact_id: i64,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> Result<NextStep> {
        call_ended(store, campaign, contact_id, outcome, now)
    }
}

/// [`Scheduler::call_ended`], for those that settle calls without the
/// scheduler's round state (the dialer's store writer): it needs none.
pub fn call_ended(
    store: &mut Store,
    campaign: &Campaign,
    contact_id: i64,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> Result<NextStep> {
    {
        let (attempts, _) = store
            .contact_attempts(contact_id)?
            .ok_or(SchedulerError::NoSuchContact(contact_id))?;
        let step = campaign.settings.retry.after_call(
            outcome,
            attempts,
            campaign.settings.max_attempts,
            now,
        );
        store.finish_attempt(contact_id, step)?;
        Ok(step)
    }
}

/// Best score first, then import order.
pub fn dispatch_order(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    b.in_predicted_window
        .cmp(&a.in_predicted_window)
        .then(b.score.total_cmp(&a.score))
        .then(a.contact_id.cmp(&b.contact_id))
}
