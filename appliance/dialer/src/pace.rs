//! Pacing: once a second the box's health and each campaign's answer rate go into
//! the pace controllers; every change moves the gate's ceilings and is written
//! to the pacing log (seed property 39); the figures are published.

use chrono::Utc;
use shofar_pacing::{Health, PaceChange};
use shofar_store::campaigns::CampaignId;
use shofar_store::pacing::PaceLogEntry;

use crate::metrics::Metrics;
use crate::{CampaignStatus, Dialer, DialerError, DialerStatus};

impl Dialer {
    pub(crate) async fn observe_health(&mut self) -> Result<(), DialerError> {
        let local = self.health.read();
        let backend = self.telephony.backend.clone();
        let up = backend.is_up();
        let channels = if up {
            backend
                .channels()
                .await
                .map(|c| c.len() as u32)
                .unwrap_or(0)
        } else {
            0
        };
        self.metrics.telephony_up.set(i64::from(up));
        self.metrics.cpu_percent.set(local.cpu_percent);
        self.metrics.memory_percent.set(local.memory_percent);
        self.metrics.load_per_core.set(local.load_per_core);
        self.metrics.asterisk_channels.set(i64::from(channels));
        let health = Health {
            cpu_percent: local.cpu_percent,
            memory_percent: local.memory_percent,
            load_per_core: local.load_per_core,
            asterisk_channels: channels,
            answer_rate: None,
        };
        self.last_health = health;
        let now = self.now();
        let mut entries = Vec::new();
        if let Some(change) = self.box_controller.observe(now, &health) {
            self.gates.set_box_rate(change.new_cps);
            entries.push(pace_entry(None, &change, Utc::now()));
        }
        self.metrics
            .box_pace_cps
            .set(self.box_controller.pace().get());
        for (id, run) in &mut self.campaigns {
            // A campaign's own controller reads only its answer rate: the box's
            // health already paces the box.
            let campaign_health = Health {
                cpu_percent: 0.0,
                memory_percent: 0.0,
                load_per_core: 0.0,
                asterisk_channels: 0,
                answer_rate: run.answer_rate(self.config.answer_min_calls),
            };
            if let Some(change) = run.controller.observe(now, &campaign_health) {
                self.gates.set_campaign_rate(*id, change.new_cps);
                entries.push(pace_entry(Some(*id), &change, Utc::now()));
                if matches!(change.reason, shofar_pacing::Reason::AnswerRateLow { .. }) {
                    // Fewer calls, better answered: start over on the new pace.
                    run.answers.clear();
                }
            }
            self.metrics
                .pace_cps
                .get_or_create(&Metrics::campaign(id.0))
                .set(run.controller.pace().get());
        }
        for entry in entries {
            self.log_pace(entry).await?;
        }
        self.metrics.dial_rate_cps.set(self.gates.dial_rate());
        self.publish(up);
        Ok(())
    }

    pub(crate) async fn log_pace(&self, entry: PaceLogEntry) -> Result<(), DialerError> {
        tracing::info!(
            campaign = entry.campaign.map(|c| c.0),
            old_cps = entry.old_cps,
            new_cps = entry.new_cps,
            reason = %entry.reason,
            "pace changed"
        );
        self.metrics.pace_changes.inc();
        self.writer
            .write(move |store| store.log_pace_change(&entry))
            .await?;
        Ok(())
    }

    pub(crate) fn publish(&self, up: bool) {
        let status = DialerStatus {
            at: Some(Utc::now()),
            backend: self.telephony.backend.kind().to_owned(),
            telephony_up: up,
            ceiling_cps: self.box_controller.ceiling().get(),
            pace_cps: self.box_controller.pace().get(),
            dial_rate_cps: self.gates.dial_rate(),
            active: self.active_total(),
            queued: self.queued_total(),
            max_channels: self.config.max_channels,
            cpu_percent: self.last_health.cpu_percent,
            memory_percent: self.last_health.memory_percent,
            load_per_core: self.last_health.load_per_core,
            asterisk_channels: self.last_health.asterisk_channels,
            campaigns: self
                .campaigns
                .iter()
                .map(|(id, run)| CampaignStatus {
                    campaign: *id,
                    name: run.campaign.name.clone(),
                    running: run.running,
                    problem: run.template.as_ref().err().cloned(),
                    active: run.active.len() as u32,
                    queued: run.queue.len() as u32,
                    pace_cps: run.controller.pace().get(),
                    ceiling_cps: run.controller.ceiling().get(),
                    answer_rate: run.answer_rate(self.config.answer_min_calls),
                    started: run.started,
                    ended: run.ended.clone(),
                })
                .collect(),
        };
        self.status_tx.send_replace(status);
    }
}

/// A pace change as the pacing log keeps it (property 39: when, from what to
/// what, and why).
pub fn pace_entry(
    campaign: Option<CampaignId>,
    change: &PaceChange,
    at: chrono::DateTime<Utc>,
) -> PaceLogEntry {
    PaceLogEntry {
        at,
        campaign,
        old_cps: change.old_cps.get(),
        new_cps: change.new_cps.get(),
        old_channels: None,
        new_channels: None,
        reason: change.reason.to_string(),
        reason_detail: serde_json::to_value(change.reason).ok(),
    }
}
