//! Test calls from the web UI and the API: one number, a campaign's flow and
//! prompts (or the box's default flow), through the dialer's own engine, records
//! and pre-dial check — the same `Telephony::call` every campaign call takes.
//!
//! At most [`TestCallEngine::MAX_UP`] are up at once; each runs in the engine's
//! task tracker, which [`TestCallEngine::shut_down`] ends and awaits.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use shofar_phone::E164;
use shofar_store::Store;
use shofar_store::calls::CallKind;
use shofar_store::campaigns::CampaignId;
use shofar_telephony::{CallControl, CallPlan, CallStop, Overrides, Telephony};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Why a test call was not placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestCallError {
    /// The campaign's flow or prompts are not ready; the message says what.
    #[error("{0}")]
    NotReady(String),
    /// Too many test calls are up already.
    #[error(
        "{} test calls are up already; wait for one to end",
        TestCallEngine::MAX_UP
    )]
    Busy,
    /// The telephony engine is unreachable.
    #[error("{0}")]
    Unavailable(String),
}

/// Places test calls; see the module doc.
pub struct TestCallEngine {
    telephony: Telephony,
    /// The database, opened per test call on the blocking pool to read the
    /// campaign and its flow.
    db: PathBuf,
    /// The engine's channel-id prefix (the dialer's): ids of test calls add a
    /// `t` and the time, so none is a prefix of another.
    prefix: String,
    sequence: AtomicU64,
    up: Arc<Semaphore>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl TestCallEngine {
    /// Test calls up at once, at most.
    pub const MAX_UP: usize = 3;

    pub fn new(telephony: Telephony, db: PathBuf, prefix: String) -> TestCallEngine {
        TestCallEngine {
            telephony,
            db,
            prefix,
            sequence: AtomicU64::new(0),
            up: Arc::new(Semaphore::new(TestCallEngine::MAX_UP)),
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }

    /// Checks that the call can be made (the flow, its prompts, the engine) and
    /// starts it; returns its call id at once, while it rings.
    pub async fn start(
        &self,
        number: E164,
        campaign: Option<i64>,
    ) -> Result<String, TestCallError> {
        let permit = self
            .up
            .clone()
            .try_acquire_owned()
            .map_err(|_| TestCallError::Busy)?;
        if !self.telephony.backend.is_up() {
            return Err(TestCallError::Unavailable(
                "the telephony engine is not connected; check Asterisk (Settings)".to_owned(),
            ));
        }
        let (db, planner) = (self.db.clone(), self.telephony.planner.clone());
        let template = tokio::task::spawn_blocking(move || {
            let store = Store::open(&db).map_err(|error| error.to_string())?;
            let campaign = campaign
                .map(|id| store.campaign(CampaignId(id)))
                .transpose()
                .map_err(|error| error.to_string())?;
            planner
                .template(&store, campaign.as_ref(), &Overrides::default())
                .map_err(|problem| problem.message)
        })
        .await
        .map_err(|error| TestCallError::NotReady(error.to_string()))?
        .map_err(TestCallError::NotReady)?;
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let call_id = format!(
            "{}t{:013}-{:07}",
            self.prefix,
            chrono::Utc::now().timestamp_millis().max(0),
            sequence % 10_000_000
        );
        let plan = CallPlan {
            call_id: call_id.clone(),
            number,
            campaign: campaign.map(CampaignId),
            contact_id: None,
            attempt: 1,
            kind: CallKind::Test,
            template: Arc::new(template),
        };
        let stopper = CallStop::new();
        let control = CallControl {
            stop: stopper.clone(),
            dial_gate: None,
            hold: None,
        };
        let (telephony, stop, id) = (self.telephony.clone(), self.stop.clone(), call_id.clone());
        self.tasks.spawn(async move {
            let _permit = permit;
            let call = telephony.call(plan, control);
            tokio::pin!(call);
            let result = tokio::select! {
                result = &mut call => result,
                () = stop.cancelled() => {
                    stopper.stop("ended by the supervisor: it was shutting down");
                    call.await
                }
            };
            match result {
                Ok(record) => {
                    tracing::info!(call_id = %id, outcome = ?record.outcome, "test call ended")
                }
                Err(error) => tracing::warn!(call_id = %id, %error, "test call not completed"),
            }
        });
        Ok(call_id)
    }

    /// Ends the test calls up and waits for their records to close.
    pub async fn shut_down(&self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}
