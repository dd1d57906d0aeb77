//! What every handler shares: the configuration, the store, the do-not-call index,
//! the login throttle, import jobs and the live figures.

use std::future::Future;
use std::ops::Deref;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use chrono_tz::Tz;
use shofar_campaign::BoxCalendar;
use shofar_dnc::SharedDnc;
use shofar_import::DuplicateRule;
use shofar_phone::Normalizer;
use shofar_telephony::prompts::PromptLibrary;

use crate::auth::{LoginThrottle, SessionPolicy};
use crate::jobs::Jobs;
use crate::live::Live;
use crate::pool::StorePool;

/// The web layer's part of `shofar.toml`, validated by the binary and passed in.
#[derive(Clone)]
pub struct WebConfig {
    /// Uploaded files (imports, their rejected-rows files) go under it.
    pub data_dir: PathBuf,
    pub normalizer: Normalizer,
    pub box_calendar: BoxCalendar,
    pub duplicates: DuplicateRule,
    pub invalid_rows_in_summary: usize,
    pub prompts: PromptLibrary,
    pub sessions: SessionPolicy,
    /// Cookies get `Secure` (set when the API is served over TLS).
    pub secure_cookies: bool,
    /// Reports show times in this zone.
    pub zone: Tz,
    /// The largest contact or blacklist file accepted, in bytes.
    pub max_upload_bytes: u64,
    /// The largest audio file accepted, in bytes.
    pub max_audio_bytes: u64,
    /// The largest backup accepted to restore, in bytes.
    pub max_backup_bytes: u64,
}

/// What the box says about itself that the web layer cannot know: Asterisk's and
/// the trunk's state, and the effective configuration (without secrets).
pub trait SystemProbe: Send + Sync {
    /// Asterisk's version, the trunk's state, calls up; or why it is unreachable.
    fn telephony_status(&self) -> Pin<Box<dyn Future<Output = serde_json::Value> + Send + '_>>;
    /// The configuration in effect, secrets left out.
    fn configuration(&self) -> serde_json::Value;
}

/// One-off calls from the API (`POST /api/v1/calls/test`), placed through the
/// same telephony engine, pre-dial check and records as the dialer's.
pub trait TestCalls: Send + Sync {
    /// Checks that the call can be made (the flow, its prompts, the engine) and
    /// starts it; returns its call id at once, while it rings. `Err` says why
    /// not, for a person.
    fn start(
        &self,
        number: shofar_phone::E164,
        campaign: Option<i64>,
    ) -> Pin<Box<dyn Future<Output = Result<String, TestCallRefused>> + Send + '_>>;
}

/// Why a test call was not placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestCallRefused {
    /// The campaign's flow or prompts are not ready; the message says what is
    /// missing.
    NotReady(String),
    /// Too many test calls are up already.
    Busy,
    /// The telephony engine is unreachable.
    Unavailable(String),
}

/// The dialer's test-call engine, as the API uses it.
impl TestCalls for shofar_dialer::test_calls::TestCallEngine {
    fn start(
        &self,
        number: shofar_phone::E164,
        campaign: Option<i64>,
    ) -> Pin<Box<dyn Future<Output = Result<String, TestCallRefused>> + Send + '_>> {
        use shofar_dialer::test_calls::TestCallError;
        Box::pin(async move {
            shofar_dialer::test_calls::TestCallEngine::start(self, number, campaign)
                .await
                .map_err(|error| match error {
                    TestCallError::NotReady(message) => TestCallRefused::NotReady(message),
                    TestCallError::Busy => TestCallRefused::Busy,
                    TestCallError::Unavailable(message) => TestCallRefused::Unavailable(message),
                })
        })
    }
}

pub struct Shared {
    pub config: WebConfig,
    pub pool: StorePool,
    pub dnc: SharedDnc,
    pub throttle: LoginThrottle,
    pub jobs: Arc<Jobs>,
    pub live: Live,
    pub probe: Option<Arc<dyn SystemProbe>>,
    /// `None` when no telephony engine runs in this process.
    pub calls: Option<Arc<dyn TestCalls>>,
}

/// The state every handler gets; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
