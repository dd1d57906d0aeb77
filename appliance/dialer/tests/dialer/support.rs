//! A whole box in one process: a SQLite file, the do-not-call index, the
//! simulated telephone network and the dialer, wired as `shofar serve` wires them
//! (appliance/shofar/src/commands/serve.rs), with campaigns and contacts created
//! through the store as an import would.
//!
//! Nothing here reads or asserts on durations: a limit given to [`wait_until`] is
//! only there so a broken dialer fails the test instead of hanging it.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use parking_lot::Mutex;
use shofar_campaign::windows::TimeRange;
use shofar_campaign::{
    BoxCalendar, Event, Kind, Purpose, QuietSettings, Retry, RetryPolicy, Settings, Status,
    WeeklyWindows,
};
use shofar_dialer::health::FixedHealth;
use shofar_dialer::metrics::{Metrics, OutcomeLabels};
use shofar_dialer::{Dialer, DialerConfig, DialerError, DialerParts, DialerStatus, RunSummary};
use shofar_dnc::SharedDnc;
use shofar_pacing::{Cps, Thresholds};
use shofar_phone::{E164, LineType};
use shofar_scheduler::Scheduler;
use shofar_store::Store;
use shofar_store::calls::{CallFilter, CallRecord};
use shofar_store::campaigns::{CampaignId, NewCampaign};
use shofar_store::contacts::{Contact, ImportCounts, NewContact};
use shofar_store::writer::{Writer, WriterThread};
use shofar_telephony::config::{AsteriskConfig, TrunkConfig};
use shofar_telephony::{CallPlanner, SimConfig, Simulator, Telephony};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Israeli mobile numbers, `+97250…`, `+97252…`, `+97253…`, `+97254…`, `+97258…`
/// in turn; distinct for distinct `first + index`.
pub fn mobile_numbers(first: u64, count: usize) -> Vec<E164> {
    const PREFIXES: [u64; 5] = [50, 52, 53, 54, 58];
    (0..count as u64)
        .map(|index| {
            let n = first + index;
            let prefix = PREFIXES[(n % 5) as usize];
            E164::from_u64(972_000_000_000 + prefix * 10_000_000 + 5_550_000 + n)
                .expect("a 12-digit number")
        })
        .collect()
}

/// The dial string the trunk would use: the national form, `PJSIP/0521234567@trunk`.
pub fn endpoint(number: E164) -> String {
    format!("PJSIP/0{}@trunk", number.as_u64() - 972_000_000_000)
}

/// Calling windows open around the clock every day, and no quiet periods: the
/// test runs whenever it is run (tests/demo/campaign.toml does the same).
pub fn always_open() -> Settings {
    let all_day = || {
        vec![TimeRange {
            start: 0,
            end: 24 * 60,
        }]
    };
    Settings {
        windows: WeeklyWindows::new(std::array::from_fn(|_| all_day())).expect("valid windows"),
        quiet: QuietSettings {
            shabbat: false,
            holidays: false,
            erev_from: None,
            yom_hazikaron: false,
        },
        ..Settings::default()
    }
}

/// No retries: one attempt per contact.
pub fn no_retries() -> RetryPolicy {
    RetryPolicy {
        busy: Retry::Never,
        no_answer: Retry::Never,
        congestion: Retry::Never,
        failed: Retry::Never,
        voicemail: Retry::Never,
    }
}

/// One campaign to create.
#[derive(Debug, Clone)]
pub struct CampaignSpec {
    pub name: String,
    pub kind: Kind,
    pub numbers: Vec<E164>,
    pub cps: f64,
    pub max_channels: u32,
    pub max_attempts: u32,
    pub retry: RetryPolicy,
    /// The campaign's `ivr_flow` setting (`None`: the default flow).
    pub flow: Option<String>,
}

impl CampaignSpec {
    pub fn voice(name: &str, numbers: Vec<E164>, cps: f64, max_channels: u32) -> CampaignSpec {
        CampaignSpec {
            name: name.to_owned(),
            kind: Kind::Voice,
            numbers,
            cps,
            max_channels,
            max_attempts: 1,
            retry: no_retries(),
            flow: None,
        }
    }
}

/// The box's call planner for tests: the simulator (no audio needed), the
/// default trunk (national dial strings, [`endpoint`]), 20 s of ringing and calls
/// of at most 5 minutes.
pub fn planner() -> CallPlanner {
    let asterisk = AsteriskConfig {
        ring_timeout_seconds: 20,
        max_call_seconds: 300,
        ..AsteriskConfig::default()
    };
    let trunk = TrunkConfig {
        caller_id: Some("+97236123456".to_owned()),
        ..TrunkConfig::default()
    };
    let normalizer = shofar_phone::Normalizer::new("IL", &["IL".to_owned()]).expect("Israel");
    CallPlanner::new(&asterisk, trunk, normalizer, true)
}

/// A campaign's `ivr_flow` that cannot be read: the planner reports the campaign
/// as unable to call (`flow_missing`), as a real box does.
pub const MISSING_FLOW: &str = "/nonexistent/shofar-test/flow.json";

/// A dialer configuration for tests: fast plans, health read often, channel
/// thresholds out of the way (tests that want them set them).
pub fn dialer_config(ceiling: f64, max_channels: u32) -> DialerConfig {
    let mut config = DialerConfig::new(Cps::new(ceiling).expect("a valid rate"), max_channels);
    let mut thresholds = Thresholds::for_channels(100_000);
    thresholds.channels_ok = 90_000;
    config.thresholds = thresholds;
    config.health_interval = Duration::from_millis(250);
    config.grace = Duration::from_secs(60);
    config
}

/// The box under test.
pub struct World {
    _dir: tempfile::TempDir,
    pub db: PathBuf,
    /// The test's own connection, as an operator's command would have.
    pub store: Arc<Mutex<Store>>,
    /// The writer every call writes its record through (`Telephony::writer`).
    pub writer: Writer,
    _writer_thread: WriterThread,
    /// The index the calls check; shared with the dialer's [`Telephony`].
    pub dnc: SharedDnc,
    /// The `blacklist_history` position `dnc` reflects (what `load_dnc`
    /// returned). `DialerParts` has no place for it yet: see
    /// `blacklist::a_number_listed_while_the_box_starts_reaches_the_dialers_index`.
    pub dnc_cursor: i64,
    pub sim: Simulator,
    /// Stops the simulated network (its calls end with it, as a killed
    /// process's would). The dialer's own shutdown is separate.
    pub engine_stop: CancellationToken,
    pub metrics: Arc<Metrics>,
    pub health: FixedHealth,
}

impl World {
    /// A new database and a simulated network; the dialer's calls carry
    /// `DialerConfig`'s default prefix, `shofar-d-`.
    pub fn new(sim: SimConfig) -> World {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = dir.path().join("shofar.db");
        let store = Store::open(&db).expect("a new database");
        let (index, dnc_cursor) = store.load_dnc().expect("an empty list");
        let (writer, writer_thread) =
            shofar_store::writer::spawn(Store::open(&db).expect("the database opens again"));
        let engine_stop = CancellationToken::new();
        let sim = Simulator::new(sim, "shofar", "shofar-d-", engine_stop.clone())
            .expect("a valid simulator");
        World {
            _dir: dir,
            db,
            store: Arc::new(Mutex::new(store)),
            writer,
            _writer_thread: writer_thread,
            dnc: SharedDnc::new(index),
            dnc_cursor,
            sim,
            engine_stop,
            metrics: Arc::new(Metrics::new()),
            health: FixedHealth::default(),
        }
    }

    /// Another connection to the same database file, as another process has.
    pub fn open_store(&self) -> Store {
        Store::open(&self.db).expect("the database opens again")
    }

    /// Another connection takes SQLite's write lock and keeps it for `held`, as
    /// another process writing a long transaction would; returns once released.
    pub async fn hold_write_lock(&self, held: Duration) {
        let other = self.open_store();
        tokio::task::spawn_blocking(move || {
            let holder = other.connection();
            holder
                .execute_batch("BEGIN IMMEDIATE")
                .expect("the write lock");
            std::thread::sleep(held);
            holder.execute_batch("COMMIT").expect("the lock released");
        })
        .await
        .expect("the lock was held");
    }

    /// Creates the campaign, imports its numbers and starts it.
    pub fn campaign(&self, spec: &CampaignSpec) -> CampaignId {
        let mut store = self.store.lock();
        let settings = Settings {
            max_attempts: spec.max_attempts,
            retry: spec.retry,
            pacing: shofar_campaign::Pacing {
                cps: spec.cps,
                max_channels: spec.max_channels,
            },
            // Machines are hung up on, so they end as `voicemail`.
            amd: shofar_campaign::AnsweringMachine::HangUp,
            ivr_flow: spec.flow.clone(),
            ..always_open()
        };
        let id = store
            .insert_campaign(
                &NewCampaign {
                    name: spec.name.clone(),
                    kind: spec.kind,
                    purpose: Purpose::Informational,
                    settings,
                    consent_override: None,
                },
                "test",
            )
            .expect("a new campaign");
        let mut import = store
            .begin_contact_import(&spec.name, false, "contacts.csv", "test")
            .expect("an import");
        for (row, number) in spec.numbers.iter().enumerate() {
            import
                .insert(NewContact {
                    e164: *number,
                    line_type: LineType::Mobile,
                    metadata: "{}".to_owned(),
                    consent: None,
                    blacklisted: false,
                    source_row: row as u64 + 2,
                })
                .expect("a contact");
        }
        import
            .finish(
                ImportCounts::default(),
                &serde_json::json!({}),
                None,
                "test",
            )
            .expect("the import commits");
        store
            .campaign_event(id, Event::Start, Utc::now(), "test", None)
            .expect("the campaign starts");
        id
    }

    /// A dialer wired as `shofar serve` wires it, each part on its own connection.
    pub fn dialer(&self, config: DialerConfig) -> Dialer {
        self.dialer_with(config, Arc::new(self.sim.clone()))
    }

    /// A dialer with another telephony engine than the plain simulator.
    pub fn dialer_with(
        &self,
        config: DialerConfig,
        backend: Arc<dyn shofar_telephony::Backend>,
    ) -> Dialer {
        let telephony = Telephony {
            backend,
            writer: self.writer.clone(),
            dnc: self.dnc.clone(),
            planner: Arc::new(planner()),
            link_wait: Duration::from_secs(5),
        };
        Dialer::new(DialerParts {
            config,
            telephony,
            store: self.open_store(),
            scheduler: Scheduler::new(BoxCalendar::default()),
            metrics: self.metrics.clone(),
            health: Box::new(self.health.clone()),
            dnc_cursor: self.dnc_cursor,
        })
        .expect("a valid dialer configuration")
    }

    /// Starts a dialer on its own task.
    pub fn start(&self, config: DialerConfig) -> Running {
        Running::of(self.dialer(config))
    }
}

impl Running {
    /// Runs `dialer` on its own task.
    pub fn of(dialer: Dialer) -> Running {
        let status = dialer.status();
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(dialer.run(shutdown.clone()));
        Running {
            shutdown,
            status,
            handle,
        }
    }
}

impl World {
    pub fn status_of(&self, campaign: CampaignId) -> Status {
        self.store
            .lock()
            .campaign(campaign)
            .expect("the campaign")
            .status
    }

    pub fn contacts(&self, campaign: CampaignId) -> Vec<Contact> {
        self.store
            .lock()
            .contacts(campaign, 0, u64::MAX >> 1)
            .expect("contacts")
    }

    /// Every call record of a campaign, oldest first.
    pub fn records(&self, campaign: CampaignId) -> Vec<CallRecord> {
        let mut records = self
            .store
            .lock()
            .call_records(&CallFilter {
                campaign: Some(campaign),
                ..CallFilter::default()
            })
            .expect("call records");
        records.reverse();
        records
    }

    pub fn open_calls(&self) -> Vec<CallRecord> {
        self.store.lock().open_calls().expect("open calls")
    }

    /// What `Metrics::calls_ended` counted for a campaign, by outcome.
    pub fn ended_counted(&self, campaign: CampaignId) -> BTreeMap<String, u64> {
        shofar_campaign::Outcome::ALL
            .iter()
            .map(|outcome| {
                let count = self
                    .metrics
                    .calls_ended
                    .get_or_create(&OutcomeLabels {
                        campaign: campaign.0.to_string(),
                        outcome: outcome.as_str().to_owned(),
                    })
                    .get();
                (outcome.as_str().to_owned(), count)
            })
            .filter(|(_, count)| *count > 0)
            .collect()
    }

    pub fn started_counted(&self, campaign: CampaignId) -> u64 {
        self.metrics
            .calls_started
            .get_or_create(&Metrics::campaign(campaign.0))
            .get()
    }

    /// Each retry delay is at least a minute (the settings insist), which a test
    /// cannot wait for: this makes every contact waiting for its retry due now,
    /// as a minute passing would.
    pub fn retries_due_now(&self) -> usize {
        self.store
            .lock()
            .connection()
            .execute(
                "UPDATE contacts SET next_attempt_at = NULL
                  WHERE status = 'pending' AND next_attempt_at IS NOT NULL",
                [],
            )
            .expect("retries made due")
    }
}

/// A dialer running on its own task.
pub struct Running {
    pub shutdown: CancellationToken,
    pub status: watch::Receiver<DialerStatus>,
    pub handle: JoinHandle<Result<RunSummary, DialerError>>,
}

impl Running {
    /// Asks the dialer to stop and waits for its summary.
    pub async fn stop(self) -> RunSummary {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(120), self.handle)
            .await
            .expect("the dialer stops")
            .expect("the dialer task did not panic")
            .expect("the dialer ran without an error")
    }
}

/// Waits until `check` holds, looking every 20 ms. `limit` only keeps a broken
/// dialer from hanging the test; it is far above what any check needs.
pub async fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    loop {
        if check() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting for {what} after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `work` while holding the lock that keeps this binary's timing-sensitive
/// tests from running at once: the CPS limiter works in real time, and two busy
/// tests on a small machine would each measure the other's load.
pub async fn alone<T>(work: impl Future<Output = T>) -> T {
    static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _guard = ALONE.lock().await;
    work.await
}

/// The most instants in any half-open window `[t, t + width)`.
pub fn max_in_window(instants: &[Instant], width: Duration) -> usize {
    let mut sorted = instants.to_vec();
    sorted.sort();
    let mut best = 0;
    let mut end = 0;
    for start in 0..sorted.len() {
        while end < sorted.len() && sorted[end] < sorted[start] + width {
            end += 1;
        }
        best = best.max(end - start);
    }
    best
}

/// The most intervals open at once; an interval ending at the instant another
/// starts does not overlap it.
pub fn max_overlap(intervals: &[(chrono::DateTime<Utc>, chrono::DateTime<Utc>)]) -> usize {
    let mut events: Vec<(chrono::DateTime<Utc>, i32)> = Vec::new();
    for (start, end) in intervals {
        events.push((*start, 1));
        events.push((*end, -1));
    }
    // Ends before starts at the same instant.
    events.sort();
    let mut open = 0i32;
    let mut best = 0i32;
    for (_, change) in events {
        open += change;
        best = best.max(open);
    }
    best as usize
}
