//! Settling ended calls: each contact through its campaign's retry policy, in
//! one write of the store's writer per batch of ended calls. A call task that
//! panicked is settled here too: its record is closed with the reason, its
//! channel hung up and its slot freed, and its contact settled from the record.

use chrono::Utc;
use shofar_campaign::retry::Outcome;
use shofar_store::calls::{CallEnd, CallOutcome};
use shofar_telephony::TelephonyError;
use tokio::task::JoinError;

use crate::metrics::{Metrics, OutcomeLabels};
use crate::recover::{Settled, record_outcome, settle};
use crate::{CallKey, Dialer, DialerError, Ended};

/// Why a record is closed when its call's task panicked.
const PANICKED: &str = "the supervisor's task for this call failed (a bug: please report it with the log); the call was ended";

impl Dialer {
    /// Settles what the joined tasks report: ended calls, and tasks that
    /// panicked (closed first, then settled like the rest).
    pub(crate) async fn on_joined(
        &mut self,
        joined: Vec<Result<(tokio::task::Id, Ended), JoinError>>,
    ) -> Result<(), DialerError> {
        let mut batch = Vec::with_capacity(joined.len());
        for result in joined {
            match result {
                Ok((id, ended)) => {
                    self.tasks.remove(&id);
                    batch.push(ended);
                }
                Err(error) => {
                    let Some(key) = self.tasks.remove(&error.id()) else {
                        tracing::error!(%error, "a call task failed and nobody knows whose it was");
                        continue;
                    };
                    batch.push(self.close_failed_task(key, &error).await);
                }
            }
        }
        self.on_ended(batch).await
    }

    /// A task that panicked (or was aborted) left its call as it was: the
    /// channel is hung up and unrouted, the record closed if still open.
    async fn close_failed_task(&self, key: CallKey, error: &JoinError) -> Ended {
        tracing::error!(call_id = %key.call_id, %error, "a call's task failed; ending the call");
        let backend = self.telephony.backend.clone();
        backend.unregister(&key.call_id);
        let _ = backend.hangup(&key.call_id).await;
        let call_id = key.call_id.clone();
        let closed = self
            .writer
            .write(move |store| {
                store.call_finished(
                    &call_id,
                    &CallEnd {
                        outcome: Some(CallOutcome::Failed),
                        ended_at: Some(Utc::now()),
                        ended_by: Some(shofar_store::calls::EndedBy::Supervisor),
                        detail: Some(PANICKED.to_owned()),
                        ..CallEnd::default()
                    },
                )?;
                store.call_record(&call_id)
            })
            .await;
        let result = match closed {
            Ok(Some(record)) => Ok(record),
            Ok(None) => Err(TelephonyError::Internal(format!(
                "call {}: its task failed before its record was written",
                key.call_id
            ))),
            Err(error) => Err(TelephonyError::Store(error)),
        };
        Ended { key, result }
    }

    /// Settles ended calls' contacts, all in one write.
    async fn on_ended(&mut self, batch: Vec<Ended>) -> Result<(), DialerError> {
        let mut work = Vec::with_capacity(batch.len());
        let mut not_placed = 0u64;
        for ended in &batch {
            let key = &ended.key;
            let Some(run) = self.campaigns.get_mut(&key.campaign) else {
                continue;
            };
            run.active.remove(&key.call_id);
            if let Err(TelephonyError::NotPlaced { reason }) = &ended.result {
                // Neither recorded nor dialed: the contact is given back, and the
                // call does not count as started.
                tracing::debug!(call_id = %key.call_id, %reason, "call not placed");
                run.started = run.started.saturating_sub(1);
                self.summary.calls_started = self.summary.calls_started.saturating_sub(1);
                not_placed += 1;
                work.push((run.campaign.clone(), key.contact_id, key.attempt, None));
                continue;
            }
            let outcome = match &ended.result {
                Ok(record) => Some(record_outcome(record)),
                Err(TelephonyError::Blacklisted { .. }) => Some(Outcome::Blacklisted),
                Err(error) => {
                    tracing::warn!(call_id = %key.call_id, %error, "call failed");
                    None
                }
            };
            if let Some(outcome) = outcome {
                if outcome != Outcome::Blacklisted {
                    run.answers.push_back(matches!(
                        outcome,
                        Outcome::Answered | Outcome::Voicemail | Outcome::OptedOut
                    ));
                    while run.answers.len() > self.config.answer_window {
                        run.answers.pop_front();
                    }
                }
                let name = outcome.as_str();
                *run.ended.entry(name.to_owned()).or_default() += 1;
                self.metrics
                    .calls_ended
                    .get_or_create(&OutcomeLabels {
                        campaign: key.campaign.0.to_string(),
                        outcome: name.to_owned(),
                    })
                    .inc();
            }
            self.metrics
                .calls_active
                .get_or_create(&Metrics::campaign(key.campaign.0))
                .set(run.active.len() as i64);
            work.push((run.campaign.clone(), key.contact_id, key.attempt, outcome));
        }
        self.summary.calls_ended += batch.len() as u64 - not_placed;
        if work.is_empty() {
            return Ok(());
        }
        self.writer
            .write(move |store| {
                let now = Utc::now();
                for (campaign, contact_id, attempt, outcome) in &work {
                    let result: Result<Settled, DialerError> = match outcome {
                        Some(outcome) => shofar_scheduler::call_ended(
                            store,
                            campaign,
                            *contact_id,
                            *outcome,
                            now,
                        )
                        .map(|_| Settled::Applied(*outcome))
                        .map_err(DialerError::from),
                        // The call's end is unknown here: settle from its record.
                        None => settle(store, campaign, *contact_id, *attempt, now),
                    };
                    match result {
                        Ok(_) => {}
                        // A database failure fails the whole write.
                        Err(DialerError::Store(error))
                        | Err(DialerError::Scheduler(shofar_scheduler::SchedulerError::Store(
                            error,
                        ))) => return Err(error),
                        Err(error) => {
                            tracing::warn!(contact = contact_id, %error, "cannot settle a contact");
                        }
                    }
                }
                Ok(())
            })
            .await?;
        Ok(())
    }
}
