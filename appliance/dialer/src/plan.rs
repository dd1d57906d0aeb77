//! Planning rounds: do-not-call changes picked up, the scheduler asked for
//! contacts, the contacts claimed, and the campaigns' call templates kept ready.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::Utc;
use shofar_campaign::Capacity;
use shofar_pacing::{Cps, PaceController, Thresholds};
use shofar_scheduler::Round;
use shofar_store::campaigns::{Campaign, CampaignId};
use shofar_telephony::{CallTemplate, Overrides};
use tokio::time::Instant;

use crate::pace::pace_entry;
use crate::{CampaignRun, Dialer, DialerError, Problem, Queued, REPREPARE};

impl Dialer {
    /// Asks the scheduler for contacts and claims them.
    pub(crate) async fn plan(&mut self) -> Result<(), DialerError> {
        // Enough for the time until the next plan and a little more: a queue
        // short enough that a paused campaign gives back little.
        let horizon = (self.config.plan_interval.as_secs_f64() * 2.0).max(1.0);
        let box_room = self
            .config
            .max_channels
            .saturating_sub(self.active_total() + self.queued_total());
        let box_pace = ((self.box_controller.pace().get() * horizon).ceil() as u32)
            .saturating_sub(self.queued_total());
        let capacity = box_room.min(box_pace);
        // The scheduler gives a campaign at most `max_channels - in_flight`; a
        // campaign's own pace is folded in by counting as in flight what it could
        // not dial before the next plan anyway.
        let in_flight: BTreeMap<CampaignId, u32> = self
            .campaigns
            .iter()
            .map(|(id, run)| {
                let max = run.max_channels();
                let busy = run.active.len() as u32 + run.queue.len() as u32;
                let by_pace = ((run.controller.pace().get() * horizon).ceil() as u32)
                    .saturating_sub(run.queue.len() as u32);
                // A campaign that cannot call (stopped, or missing a prompt) is
                // given nothing: its share goes to the others.
                let allowed = if !run.running || run.template.is_err() {
                    0
                } else {
                    max.saturating_sub(busy).min(by_pace)
                };
                (*id, max - allowed)
            })
            .collect();
        let round = Round {
            now: Utc::now(),
            capacity: Capacity {
                voice: capacity,
                sms: 0,
            },
            in_flight,
        };
        let dnc = self.telephony.dnc.clone();
        let known: Vec<CampaignId> = self.campaigns.keys().copied().collect();
        let (plan, running, claimed, cancelled) = self
            .planning(move |planning| {
                // Do-not-call changes other processes made (the CLI) reach the
                // index before anything of this round is dialed.
                let changes = planning
                    .store
                    .dnc_catch_up(&dnc, &mut planning.dnc_cursor)?;
                if changes > 0 {
                    tracing::info!(changes, "do-not-call changes picked up");
                }
                let plan = planning.scheduler.plan(&mut planning.store, &round)?;
                let running = planning.store.running_campaigns()?;
                let ids: Vec<i64> = plan
                    .dispatch
                    .iter()
                    .flat_map(|d| d.contacts.iter().map(|c| c.contact_id))
                    .collect();
                let claimed: HashMap<i64, u32> = planning
                    .store
                    .claim_contacts(&ids, round.now)?
                    .into_iter()
                    .collect();
                // Of the campaigns dialing, those cancelled: their calls end now.
                let mut cancelled = HashSet::new();
                for id in known {
                    let campaign = planning.store.campaign(id);
                    if campaign.is_ok_and(|c| c.status == shofar_campaign::Status::Cancelled) {
                        cancelled.insert(id);
                    }
                }
                Ok((plan, running, claimed, cancelled))
            })
            .await?;
        for change in &plan.changes {
            tracing::info!(campaign = change.campaign.0, from = %change.from, to = %change.to, "campaign moved");
        }
        self.sync_campaigns(running, &plan.terminate, &cancelled)
            .await?;
        for dispatch in plan.dispatch {
            let Some(run) = self.campaigns.get_mut(&dispatch.campaign) else {
                continue;
            };
            for candidate in dispatch.contacts {
                if let Some(&attempt) = claimed.get(&candidate.contact_id) {
                    run.queue.push_back(Queued {
                        contact_id: candidate.contact_id,
                        number: candidate.e164,
                        attempt,
                    });
                }
            }
        }
        // Contacts claimed for a campaign that cannot call are given back.
        let mut give_back = Vec::new();
        for run in self.campaigns.values_mut() {
            if run.template.is_err() || !run.running {
                give_back.extend(run.queue.drain(..).map(|q| q.contact_id));
            }
        }
        self.give_back(give_back).await?;
        for (id, run) in &self.campaigns {
            self.metrics
                .queued
                .get_or_create(&crate::metrics::Metrics::campaign(id.0))
                .set(run.queue.len() as i64);
        }
        Ok(())
    }

    pub(crate) async fn give_back(&self, contact_ids: Vec<i64>) -> Result<(), DialerError> {
        if contact_ids.is_empty() {
            return Ok(());
        }
        let count = contact_ids.len();
        let returned = self
            .writer
            .write(move |store| store.unclaim_contacts(&contact_ids))
            .await?;
        tracing::debug!(count, returned, "queued contacts given back");
        Ok(())
    }

    /// The call templates of the campaigns that need one made (again), made on
    /// the blocking pool with the scheduler's connection.
    async fn prepare(
        &self,
        campaigns: Vec<Campaign>,
    ) -> Result<Vec<(CampaignId, Result<CallTemplate, Problem>)>, DialerError> {
        if campaigns.is_empty() {
            return Ok(Vec::new());
        }
        let planner = self.telephony.planner.clone();
        self.planning(move |planning| {
            Ok(campaigns
                .iter()
                .map(|campaign| {
                    let template =
                        planner.template(&planning.store, Some(campaign), &Overrides::default());
                    (campaign.id, template)
                })
                .collect())
        })
        .await
    }

    /// Brings the campaigns map in line with the store: new campaigns join,
    /// changed settings apply, stopped ones give their queue back (and, when
    /// cancelled or past their end, their calls are ended).
    async fn sync_campaigns(
        &mut self,
        running: Vec<Campaign>,
        terminate: &[CampaignId],
        cancelled: &HashSet<CampaignId>,
    ) -> Result<(), DialerError> {
        let running_ids: HashSet<CampaignId> = running.iter().map(|c| c.id).collect();
        let now = self.now();
        let mut to_prepare = Vec::new();
        let mut entries = Vec::new();
        for campaign in running {
            let id = campaign.id;
            let ceiling = Cps::clamped(campaign.settings.pacing.cps);
            if !self.campaigns.contains_key(&id) {
                let mut thresholds =
                    Thresholds::for_channels(campaign.settings.pacing.max_channels.max(5));
                thresholds.answer_rate_low = self.config.thresholds.answer_rate_low;
                thresholds.answer_rate_ok = self.config.thresholds.answer_rate_ok;
                let controller = PaceController::new(ceiling, thresholds)?;
                self.gates.set_campaign_rate(id, ceiling);
                tracing::info!(campaign = id.0, name = %campaign.name, cps = ceiling.get(), "campaign running");
                self.campaigns.insert(
                    id,
                    CampaignRun {
                        campaign: campaign.clone(),
                        template: Err(Problem::new("not_prepared", "not prepared yet")),
                        prepared_at: Instant::now(),
                        controller,
                        queue: VecDeque::new(),
                        active: HashMap::new(),
                        answers: VecDeque::new(),
                        running: true,
                        started: 0,
                        ended: BTreeMap::new(),
                    },
                );
            }
            let run = self.campaigns.get_mut(&id).expect("inserted above");
            let settings_changed = run.campaign.settings != campaign.settings;
            run.running = true;
            if settings_changed || run.template.is_err() || run.prepared_at.elapsed() >= REPREPARE {
                run.prepared_at = Instant::now();
                to_prepare.push(campaign.clone());
            }
            if ceiling != run.controller.ceiling()
                && let Some(change) = run.controller.set_ceiling(ceiling, now)
            {
                self.gates.set_campaign_rate(id, change.new_cps);
                entries.push(pace_entry(Some(id), &change, Utc::now()));
            }
            run.campaign = campaign;
        }
        for entry in entries {
            self.log_pace(entry).await?;
        }
        for (id, prepared) in self.prepare(to_prepare).await? {
            let Some(run) = self.campaigns.get_mut(&id) else {
                continue;
            };
            let prepared = prepared.map(Arc::new);
            match (&prepared, &run.template) {
                (Err(problem), Err(old)) if problem != old => {
                    tracing::error!(campaign = id.0, code = problem.code, %problem, "campaign cannot call");
                }
                (Err(problem), Ok(_)) => {
                    tracing::error!(campaign = id.0, code = problem.code, %problem, "campaign can no longer call");
                }
                (Ok(_), Err(_)) => {
                    tracing::info!(campaign = id.0, "campaign ready to call");
                }
                _ => {}
            }
            run.template = prepared;
        }
        // Campaigns no longer running (paused, cancelled, completed).
        let mut stopped = Vec::new();
        for (id, run) in &mut self.campaigns {
            if running_ids.contains(id) {
                continue;
            }
            if run.running {
                tracing::info!(campaign = id.0, "campaign stopped dialing");
                run.running = false;
            }
            stopped.push(*id);
        }
        for id in terminate.iter().copied().chain(stopped.iter().copied()) {
            let ended = terminate.contains(&id);
            if let Some(run) = self.campaigns.get(&id)
                && (ended || cancelled.contains(&id))
            {
                let reason = if ended {
                    "ended by the supervisor: the campaign's end time passed"
                } else {
                    "ended by the supervisor: the campaign was cancelled"
                };
                for stop in run.active.values() {
                    stop.stop(reason);
                }
            }
        }
        // A stopped campaign leaves the map once its calls are over.
        let gates = self.gates.clone();
        self.campaigns.retain(|id, run| {
            let keep = run.running || !run.active.is_empty() || !run.queue.is_empty();
            if !keep {
                gates.remove_campaign(*id);
            }
            keep
        });
        Ok(())
    }
}
