//! Dispatch: a task per claimed contact, within the channel limits. The pace is
//! not counted here but at the dial ([`crate::gate`]): a call waits there for its
//! slot, so dispatch only has to keep enough calls on their way.

use std::sync::Arc;

use shofar_store::calls::CallKind;
use shofar_store::campaigns::CampaignId;
use shofar_telephony::{CallControl, CallPlan, CallStop};

use crate::metrics::Metrics;
use crate::{CallKey, Dialer, Ended, Queued};

impl Dialer {
    /// Starts a call for every queued contact the channel limits allow, taking
    /// the campaigns in turn.
    pub(crate) fn dispatch(&mut self) {
        let ids: Vec<CampaignId> = self.campaigns.keys().copied().collect();
        if ids.is_empty() {
            return;
        }
        loop {
            if self.active_total() >= self.config.max_channels {
                return;
            }
            let mut started = false;
            for offset in 0..ids.len() {
                let id = ids[(self.turn + offset) % ids.len()];
                let Some(run) = self.campaigns.get_mut(&id) else {
                    continue;
                };
                if !run.running
                    || run.template.is_err()
                    || run.active.len() as u32 >= run.max_channels()
                {
                    continue;
                }
                let Some(queued) = run.queue.pop_front() else {
                    continue;
                };
                self.start_call(id, queued);
                started = true;
                if self.active_total() >= self.config.max_channels {
                    break;
                }
            }
            self.turn = (self.turn + 1) % ids.len();
            if !started {
                return;
            }
        }
    }

    fn start_call(&mut self, campaign_id: CampaignId, queued: Queued) {
        self.sequence += 1;
        let call_id = format!(
            "{}{}-{:08}",
            self.config.call_prefix, self.run_id, self.sequence
        );
        let run = self
            .campaigns
            .get_mut(&campaign_id)
            .expect("dispatch starts calls of known campaigns");
        let Ok(template) = run.template.clone() else {
            return;
        };
        let stop = CallStop::new();
        run.active.insert(call_id.clone(), stop.clone());
        run.started += 1;
        let plan = CallPlan {
            call_id: call_id.clone(),
            number: queued.number,
            campaign: Some(campaign_id),
            contact_id: Some(queued.contact_id),
            attempt: queued.attempt,
            kind: CallKind::Campaign,
            template: Arc::clone(&template),
        };
        let control = CallControl {
            stop,
            dial_gate: Some(self.gates.for_call(campaign_id)),
            hold: Some(self.hold.clone()),
        };
        let label = Metrics::campaign(campaign_id.0);
        self.metrics.calls_started.get_or_create(&label).inc();
        self.metrics
            .calls_active
            .get_or_create(&label)
            .set(run.active.len() as i64);
        self.summary.calls_started += 1;
        let key = CallKey {
            campaign: campaign_id,
            contact_id: queued.contact_id,
            attempt: queued.attempt,
            call_id,
        };
        let telephony = self.telephony.clone();
        let task_key = key.clone();
        let task = self.calls.spawn(async move {
            let result = telephony.call(plan, control).await;
            Ended {
                key: task_key,
                result,
            }
        });
        self.tasks.insert(task.id(), key);
    }
}
