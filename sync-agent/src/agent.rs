//! `shofar-sync run`: the agent's tasks and the loop that publishes.
//!
//! Tasks, each owned by one `JoinSet` and stopped together:
//! - the broker connection ([`crate::mqtt::run`]);
//! - the publisher (this module's [`Publisher`]): opt-outs first, then records
//!   written since the connection came up (live), then the backlog — within the
//!   configured publishes per second, bytes per second and unacknowledged
//!   messages; and what arrives (do-not-call changes, model notices);
//! - the uploader ([`crate::upload`]): record batches and opt-out change objects
//!   to S3;
//! - the downloader: catch-up from S3 (at start, when the broker lost the
//!   session, every `catchup_minutes`) and models.
//!
//! Every read of SQLite or redb runs on the blocking pool.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use rumqttc::{AsyncClient, QoS};
use shofar_store::Store;
use shofar_store::sync::{FeedHead, SyncRecord};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::SyncConfig;
use crate::counters::Counters;
use crate::down::{self, InstalledModel, Merger, ModelCheck};
use crate::lanes::Lane;
use crate::mqtt::{self, LinkEvent};
use crate::s3::S3;
use crate::state::State;
use crate::status::{LinkState, Shared};
use crate::upload;
use crate::wire::{self, DncOp, Inbound, Keys, Name, RecordBatch, Topics};

/// How far behind the records may be when a connection comes up before the rest
/// counts as backlog (sent after what is written from then on).
const LIVE_GAP: i64 = 1000;
/// Records per MQTT message at most (and never above the payload target).
const RECORDS_PER_MESSAGE: usize = 400;
/// Opt-outs per MQTT message at most.
const OPTOUTS_PER_MESSAGE: usize = 200;
/// SQLite's page cache on the agent's reading connections: they walk the feed
/// and the records in order once, so the store's 64 MiB (sized for an import's
/// random index inserts) would only hold pages never read again — 64 MiB more
/// resident memory per connection in a backlog. The OS's page cache serves the
/// second reader.
pub(crate) const READER_CACHE_PRAGMA: &str = "PRAGMA cache_size = -8192";

pub(crate) const LANE_OPTOUTS: &str = "lane:optouts_mqtt";
pub(crate) const LANE_RECORDS: &str = "lane:records_mqtt";
pub(crate) const INSTALLED_MODEL: &str = "model";
pub(crate) const COUNTERS: &str = "counters";

/// Everything the tasks share.
pub struct Agent {
    pub config: SyncConfig,
    pub me: Name,
    pub topics: Topics,
    pub keys: Keys,
    pub state: Arc<State>,
    pub s3: S3,
    pub counters: Arc<Counters>,
    pub shared: Arc<Shared>,
    pub merger: Arc<Mutex<Merger>>,
    /// Wakes the downloader for a catch-up now.
    pub catch_up_now: Notify,
    pub stop: CancellationToken,
}

/// Opens everything, then runs until `stop` is cancelled (SIGTERM, Ctrl-C).
pub async fn run(config: SyncConfig, stop: CancellationToken) -> anyhow::Result<()> {
    let me = config.box_id.clone().context("[sync] box_id is missing")?;
    let mqtt_config = config.mqtt.clone().context("[sync] mqtt_url is missing")?;
    let db_path = config.data_dir.join("shofar.db");
    anyhow::ensure!(
        db_path.exists(),
        "no database at {}: start `shofar serve` once (or give --data-dir) before the sync agent",
        db_path.display()
    );
    let sync_dir = config.data_dir.join("sync");
    let state = Arc::new(
        tokio::task::spawn_blocking({
            let dir = sync_dir.clone();
            move || State::open(&dir)
        })
        .await??,
    );
    let counters = Arc::new(Counters::with(state.get(COUNTERS)?.unwrap_or_default()));
    let merger = {
        let (state, me, path) = (Arc::clone(&state), me.clone(), db_path.clone());
        tokio::task::spawn_blocking(move || -> anyhow::Result<Merger> {
            let store = Store::open(&path)
                .with_context(|| format!("cannot open the database {}", path.display()))?;
            Merger::open(store, state, me)
        })
        .await??
    };
    let options = mqtt::options(&mqtt_config, me.as_str(), config.max_inflight)?;
    let s3 = S3::new(&config.s3)?;
    let shared = Arc::new(Shared::new(&config, &me, state.get(INSTALLED_MODEL)?));
    let agent = Arc::new(Agent {
        topics: Topics::new(&config.org, &me),
        keys: Keys::new(&config.org),
        me,
        state,
        s3,
        counters,
        shared,
        merger: Arc::new(Mutex::new(merger)),
        catch_up_now: Notify::new(),
        stop: stop.clone(),
        config,
    });
    tracing::info!(
        org = agent.config.org.as_str(),
        box_id = agent.me.as_str(),
        "the sync agent is starting"
    );

    let (events_tx, events_rx) = mpsc::channel(1024);
    let mut tasks = JoinSet::new();
    tasks.spawn(mqtt::run(options, events_tx, stop.clone()));
    let events_rx = Arc::new(tokio::sync::Mutex::new(events_rx));
    tasks.spawn(task("publisher", Arc::clone(&agent), move |a| {
        let events = Arc::clone(&events_rx);
        async move {
            let path = db_path_of(&a.config);
            let mut events = events.lock().await;
            Publisher::new(a, &path)?.run(&mut events).await
        }
    }));
    tasks.spawn(task("uploader", Arc::clone(&agent), |a| async move {
        upload::run(a).await
    }));
    tasks.spawn(task("downloader", Arc::clone(&agent), |a| async move {
        downloader(a).await
    }));
    tasks.spawn(task("status", Arc::clone(&agent), |a| async move {
        crate::status::run(a).await
    }));
    while let Some(done) = tasks.join_next().await {
        if let Err(error) = done {
            tracing::error!(%error, "a sync task panicked; stopping the agent so systemd restarts it");
            stop.cancel();
        }
        if !stop.is_cancelled() {
            tracing::error!("a sync task ended early; stopping the agent so systemd restarts it");
            stop.cancel();
        }
    }
    let counts = agent.counters.snapshot().0;
    let state = Arc::clone(&agent.state);
    tokio::task::spawn_blocking(move || state.put(COUNTERS, &counts)).await??;
    tracing::info!("the sync agent stopped");
    Ok(())
}

fn db_path_of(config: &SyncConfig) -> std::path::PathBuf {
    config.data_dir.join("shofar.db")
}

/// Runs one task's body; an error is logged and retried after a pause (the box
/// never stops for a passing fault), until `stop`.
async fn task<F, Fut>(name: &'static str, agent: Arc<Agent>, body: F)
where
    F: Fn(Arc<Agent>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut pause = Duration::from_secs(1);
    loop {
        let outcome = tokio::select! {
            _ = agent.stop.cancelled() => return,
            outcome = body(Arc::clone(&agent)) => outcome,
        };
        match outcome {
            Ok(()) if agent.stop.is_cancelled() => return,
            Ok(()) => {}
            Err(error) => {
                tracing::warn!(
                    task = name,
                    error = format!("{error:#}"),
                    "retrying after a fault"
                );
                agent.counters.error(format!("{name}: {error:#}"));
            }
        }
        tokio::select! {
            _ = agent.stop.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_secs(60));
    }
}

/// Which lane a message in flight belongs to, and what it covers.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    lane: LaneId,
    first: i64,
    last: i64,
    records: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LaneId {
    OptOuts,
    Records,
}

/// A token bucket: `rate` per second, bursts up to one second's worth.
struct Bucket {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: f64) -> Bucket {
        Bucket {
            rate,
            tokens: rate,
            at: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate)
            .min(self.rate.max(1.0));
        self.at = now;
    }

    fn unlimited(&self) -> bool {
        self.rate <= 0.0
    }

    fn has(&mut self, n: f64) -> bool {
        if self.unlimited() {
            return true;
        }
        self.refill();
        self.tokens >= n.min(self.rate.max(1.0))
    }

    fn take(&mut self, n: f64) {
        if !self.unlimited() {
            self.tokens -= n;
        }
    }
}

/// The publishing loop's state.
struct Publisher {
    agent: Arc<Agent>,
    store: Arc<Mutex<Store>>,
    client: Option<AsyncClient>,
    optouts: Lane,
    records: Lane,
    live_from: i64,
    /// Our publishes, in the order handed to the client, waiting for their packet id.
    unsent: VecDeque<InFlight>,
    inflight: HashMap<u16, InFlight>,
    messages: Bucket,
    bytes: Bucket,
    lanes_dirty: bool,
    saved_at: Instant,
    /// After a fault, publishing waits until then.
    paused_until: Option<Instant>,
    /// Records read for the next message: about what fit the last one.
    records_per_message: usize,
    /// The size of the last records message, bytes.
    last_payload: usize,
}

impl Publisher {
    fn new(agent: Arc<Agent>, db_path: &std::path::Path) -> anyhow::Result<Publisher> {
        let store = Store::open(db_path)
            .with_context(|| format!("cannot open the database {}", db_path.display()))?;
        store.connection().execute_batch(READER_CACHE_PRAGMA)?;
        let optouts = agent.state.get(LANE_OPTOUTS)?.unwrap_or_default();
        let records = agent.state.get(LANE_RECORDS)?.unwrap_or_default();
        let messages = Bucket::new(f64::from(agent.config.publish_rate));
        let bytes = Bucket::new(f64::from(agent.config.publish_bytes_per_second));
        Ok(Publisher {
            agent,
            store: Arc::new(Mutex::new(store)),
            client: None,
            optouts,
            records,
            live_from: 0,
            unsent: VecDeque::new(),
            inflight: HashMap::new(),
            messages,
            bytes,
            lanes_dirty: false,
            saved_at: Instant::now(),
            paused_until: None,
            records_per_message: RECORDS_PER_MESSAGE,
            last_payload: 0,
        })
    }

    async fn db<T: Send + 'static>(
        &self,
        body: impl FnOnce(&mut Store) -> shofar_store::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let store = Arc::clone(&self.store);
        Ok(tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
            body(&mut store)
        })
        .await??)
    }

    async fn run(mut self, events: &mut mpsc::Receiver<LinkEvent>) -> anyhow::Result<()> {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = self.agent.stop.cancelled() => {
                    self.save_lanes().await?;
                    return Ok(());
                }
                event = events.recv() => {
                    let Some(event) = event else { return Ok(()) };
                    // A fault is this one event's (a busy database, a full disk):
                    // the loop, and with it the connection's client, carries on.
                    if let Err(error) = self.on_event(event).await {
                        self.fault("handling a broker event", error);
                    }
                    // Drain what else is waiting before publishing again.
                    while let Ok(event) = events.try_recv() {
                        if let Err(error) = self.on_event(event).await {
                            self.fault("handling a broker event", error);
                        }
                    }
                }
                _ = tick.tick() => {}
            }
            if self
                .paused_until
                .is_some_and(|until| Instant::now() < until)
            {
                continue;
            }
            if let Err(error) = self.publish().await {
                self.fault("publishing", error);
            }
            if self.lanes_dirty
                && self.saved_at.elapsed() >= Duration::from_millis(500)
                && let Err(error) = self.save_lanes().await
            {
                self.fault("saving positions", error);
            }
        }
    }

    /// Logs and counts a fault, and pauses publishing for a second.
    fn fault(&mut self, what: &str, error: anyhow::Error) {
        let text = format!("{what}: {error:#}");
        tracing::warn!(error = %text, "sync fault; retrying");
        self.agent.counters.error(text);
        self.paused_until = Some(Instant::now() + Duration::from_secs(1));
    }

    async fn save_lanes(&mut self) -> anyhow::Result<()> {
        let values = [
            (LANE_OPTOUTS, serde_json::to_value(&self.optouts)?),
            (LANE_RECORDS, serde_json::to_value(&self.records)?),
        ];
        let state = Arc::clone(&self.agent.state);
        tokio::task::spawn_blocking(move || {
            let refs: Vec<(&str, serde_json::Value)> =
                values.iter().map(|(k, v)| (*k, v.clone())).collect();
            state.put_all(&refs)
        })
        .await??;
        self.lanes_dirty = false;
        self.saved_at = Instant::now();
        Ok(())
    }

    async fn on_event(&mut self, event: LinkEvent) -> anyhow::Result<()> {
        match event {
            LinkEvent::Up {
                client,
                session_present,
            } => {
                let topics = &self.agent.topics;
                client
                    .subscribe_many([
                        rumqttc::SubscribeFilter::new(topics.dnc_all(), QoS::AtLeastOnce),
                        rumqttc::SubscribeFilter::new(topics.dnc_central(), QoS::AtLeastOnce),
                        rumqttc::SubscribeFilter::new(topics.model(), QoS::AtLeastOnce),
                    ])
                    .await
                    .context("cannot subscribe")?;
                self.client = Some(client);
                let head = self.db(|s| s.sync_head()).await?;
                self.live_from = if head.records - self.records.done_through() > LIVE_GAP {
                    head.records + 1
                } else {
                    0
                };
                self.agent.shared.mqtt(LinkState::up());
                tracing::info!(
                    session_present,
                    backlog = head.records - self.records.done_through(),
                    "connected to the broker"
                );
                if !session_present {
                    // What the broker held for us is gone: S3 has it.
                    self.agent.catch_up_now.notify_one();
                }
                self.agent.counters.add("connections_total", 1);
            }
            LinkEvent::Down(why) => {
                if self.client.take().is_some() || self.agent.shared.mqtt_connected() {
                    tracing::warn!(reason = %why, "lost the broker; everything unacknowledged is sent again after reconnecting");
                }
                self.agent.shared.mqtt(LinkState::down(why));
                self.optouts.lost();
                self.records.lost();
                self.unsent.clear();
                self.inflight.clear();
            }
            LinkEvent::Sent(pkid) => {
                if let Some(message) = self.unsent.pop_front() {
                    self.inflight.insert(pkid, message);
                }
            }
            LinkEvent::Acked(pkid) => {
                if let Some(message) = self.inflight.remove(&pkid) {
                    match message.lane {
                        LaneId::OptOuts => {
                            self.optouts.acked(message.first, message.last);
                            self.agent
                                .counters
                                .add("optouts_published_total", message.records as u64);
                        }
                        LaneId::Records => {
                            self.records.acked(message.first, message.last);
                            self.agent
                                .counters
                                .add("records_published_total", message.records as u64);
                        }
                    }
                    self.lanes_dirty = true;
                }
            }
            LinkEvent::Message(publish) => self.on_message(publish).await?,
        }
        Ok(())
    }

    /// A message arrived: validated, applied, then acknowledged. A refused message
    /// is acknowledged too (it would only come again) after it was counted.
    async fn on_message(&mut self, publish: rumqttc::Publish) -> anyhow::Result<()> {
        let agent = Arc::clone(&self.agent);
        match wire::classify(&agent.config.org, &publish.topic) {
            Some(Inbound::BoxDnc(_)) | Some(Inbound::CentralDnc) => {
                match wire::parse_dnc(
                    &publish.payload,
                    &agent.config.org,
                    agent.config.org_key.as_ref(),
                ) {
                    Ok(message) => {
                        let n = message.ops.len() as u64;
                        let ops = Arc::new(message.ops);
                        let mut tries = 0;
                        loop {
                            let batch = Arc::clone(&ops);
                            let applied = down::blocking(&agent.merger, move |m| {
                                m.apply(&batch, &[]).map(drop)
                            })
                            .await;
                            match applied {
                                Ok(()) => break,
                                Err(error) if tries < 3 => {
                                    tries += 1;
                                    tracing::warn!(
                                        error = format!("{error:#}"),
                                        "cannot apply a do-not-call message yet; trying again"
                                    );
                                    tokio::time::sleep(Duration::from_secs(1)).await;
                                }
                                Err(error) => {
                                    // Not acknowledged: the broker sends it again after
                                    // a reconnect, and the S3 catch-up has it too.
                                    agent.catch_up_now.notify_one();
                                    return Err(error.context(
                                        "a do-not-call message could not be applied; it is left unacknowledged",
                                    ));
                                }
                            }
                        }
                        agent.counters.add("dnc_ops_received_total", n);
                        agent.shared.dnc_applied();
                    }
                    Err(error) => {
                        tracing::warn!(topic = %publish.topic, %error, "a do-not-call message was refused: nothing of it is applied");
                        agent.counters.refused(&error);
                    }
                }
            }
            Some(Inbound::Model) => agent.catch_up_now.notify_one(),
            _ => {
                agent.counters.add("refused_total", 1);
                tracing::warn!(topic = %publish.topic, "a message on a topic the agent does not follow was ignored");
            }
        }
        if let Some(client) = &self.client {
            // Only after the changes are on disk (box's list and agent state).
            let _ = client.ack(&publish).await;
        }
        Ok(())
    }

    /// Publishes while the window, the rate and the data allow: opt-outs, live
    /// records, backlog.
    async fn publish(&mut self) -> anyhow::Result<()> {
        if self.client.is_none() {
            return Ok(());
        }
        let head: FeedHead = self.db(|s| s.sync_head()).await?;
        // SQLite lost its last transactions (power cut with synchronous=NORMAL):
        // positions beyond its head are sent again, duplicates are harmless.
        for _ in 0..64 {
            if self.inflight.len() + self.unsent.len()
                >= usize::from(self.agent.config.max_inflight)
                || !self.messages.has(1.0)
            {
                return Ok(());
            }
            if let Some((first, last)) = self.optouts.next_gap(1, head.history) {
                self.publish_optouts(first, last).await?;
                continue;
            }
            let live = self.records.next_gap(self.live_from.max(1), head.records);
            let gap = live.or_else(|| {
                (self.live_from > 1)
                    .then(|| self.records.next_gap(1, self.live_from - 1))
                    .flatten()
            });
            let Some((first, last)) = gap else {
                return Ok(());
            };
            if !self.publish_records(first, last).await? {
                return Ok(());
            }
        }
        Ok(())
    }

    async fn publish_optouts(&mut self, first: i64, last: i64) -> anyhow::Result<()> {
        let events = self
            .db(move |s| s.sync_optouts_after(first - 1, OPTOUTS_PER_MESSAGE))
            .await?;
        let events: Vec<_> = events
            .into_iter()
            .filter(|e| e.history_id <= last)
            .collect();
        let Some(covered) = events.last().map(|e| e.history_id) else {
            // No opt-outs in the gap: nothing to send for it.
            self.optouts.sent(first, last);
            self.optouts.acked(first, last);
            self.lanes_dirty = true;
            return Ok(());
        };
        let me = self.agent.me.clone();
        let ops: Vec<DncOp> = crate::upload::optout_ops(&me, &events);
        let message = crate::upload::box_message(&self.agent.config.org, &me, ops);
        let payload = serde_json::to_vec(&message)?;
        let topic = self.agent.topics.dnc_mine();
        self.send(
            topic,
            payload,
            false,
            InFlight {
                lane: LaneId::OptOuts,
                first,
                last: covered,
                records: events.len(),
            },
        )
        .await
    }

    /// Returns false when the byte budget is spent for now.
    ///
    /// Reads about as many records as fit one message (learned from the last
    /// message's bytes per record), so each record is read and serialized about
    /// once on its way.
    async fn publish_records(&mut self, first: i64, last: i64) -> anyhow::Result<bool> {
        // Nothing is read before the byte budget allows a message like the last.
        if !self.bytes.has(self.last_payload as f64) {
            return Ok(false);
        }
        let limit = self.records_per_message;
        let records = self
            .db(move |s| s.sync_records_after(first - 1, limit))
            .await?;
        let records: Vec<SyncRecord> = records.into_iter().filter(|r| r.seq() <= last).collect();
        if records.is_empty() {
            self.records.sent(first, last);
            self.records.acked(first, last);
            self.lanes_dirty = true;
            return Ok(true);
        }
        let me = self.agent.me.clone();
        let mut batch = RecordBatch {
            v: wire::VERSION,
            org: self.agent.config.org.clone(),
            r#box: me.clone(),
            first_seq: first,
            last_seq: first,
            records: records.iter().map(|r| upload::to_wire(&me, r)).collect(),
        };
        // Fit the payload target: keep the share of the records that fits, and
        // serialize again (rarely needed once the size per record is learned).
        let payload = loop {
            batch.last_seq = batch.records.last().map_or(first, |r| r.seq());
            let payload = serde_json::to_vec(&batch)?;
            let n = batch.records.len();
            if payload.len() <= wire::TARGET_PAYLOAD || n == 1 {
                break payload;
            }
            let fits = n * wire::TARGET_PAYLOAD / payload.len() * 19 / 20;
            batch.records.truncate(fits.clamp(1, n - 1));
        };
        let n = batch.records.len();
        self.last_payload = payload.len();
        let per_record = (payload.len() / n).max(1);
        self.records_per_message =
            (wire::TARGET_PAYLOAD * 9 / 10 / per_record).clamp(1, RECORDS_PER_MESSAGE);
        if !self.bytes.has(payload.len() as f64) {
            return Ok(false);
        }
        let topic = self.agent.topics.records();
        self.send(
            topic,
            payload,
            false,
            InFlight {
                lane: LaneId::Records,
                first,
                last: batch.last_seq,
                records: n,
            },
        )
        .await?;
        Ok(true)
    }

    async fn send(
        &mut self,
        topic: String,
        payload: Vec<u8>,
        retain: bool,
        message: InFlight,
    ) -> anyhow::Result<()> {
        let Some(client) = &self.client else {
            return Ok(());
        };
        let size = payload.len();
        match client
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .await
        {
            Ok(()) => {
                self.messages.take(1.0);
                self.bytes.take(size as f64);
                match message.lane {
                    LaneId::OptOuts => self.optouts.sent(message.first, message.last),
                    LaneId::Records => self.records.sent(message.first, message.last),
                }
                self.unsent.push_back(message);
            }
            Err(error) => {
                // The connection task is gone or replacing the client: it reports Down.
                tracing::debug!(%error, "publish not handed over");
            }
        }
        Ok(())
    }
}

/// Catch-up from S3 and models: at start, when woken, every `catchup_minutes`.
async fn downloader(agent: Arc<Agent>) -> anyhow::Result<()> {
    let every = Duration::from_secs(agent.config.catchup_minutes * 60);
    let mut failed: Option<String> = None;
    loop {
        match down::catch_up(
            &agent.s3,
            &agent.keys,
            &agent.config.org,
            &agent.me,
            agent.config.org_key.as_ref(),
            &agent.merger,
            &agent.counters,
        )
        .await
        {
            Ok(report) => {
                agent.shared.s3(LinkState::up());
                if report.ops > 0 {
                    agent.shared.dnc_applied();
                }
                if report.objects > 0 {
                    tracing::info!(
                        objects = report.objects,
                        ops = report.ops,
                        refused = report.refused,
                        "caught up with the organization's do-not-call changes from S3"
                    );
                }
            }
            Err(error) => {
                agent.shared.s3(LinkState::down(format!("{error:#}")));
                agent.counters.error(format!("catch-up from S3: {error:#}"));
            }
        }
        let installed = agent.shared.model();
        let room = agent
            .config
            .max_disk_bytes
            .saturating_sub(agent.state.size_bytes());
        match down::check_model(
            &agent.s3,
            &agent.keys,
            &agent.config.org,
            agent.config.org_key.as_ref(),
            &agent.config.models_dir,
            installed.as_ref(),
            room,
        )
        .await
        {
            Ok(ModelCheck::Installed(model)) => {
                tracing::info!(name = %model.name, version = %model.version, "installed a new model");
                let state = Arc::clone(&agent.state);
                let saved: InstalledModel = model.clone();
                tokio::task::spawn_blocking(move || state.put(INSTALLED_MODEL, &saved)).await??;
                agent.shared.set_model(model);
                agent.counters.add("models_installed_total", 1);
                failed = None;
            }
            Ok(_) => failed = None,
            Err(error) => {
                let text = format!("{error:#}");
                if failed.as_ref() != Some(&text) {
                    tracing::warn!(error = %text, "the published model was refused; the installed one is kept");
                    agent.counters.add("models_refused_total", 1);
                    agent.counters.error(format!("model: {text}"));
                }
                failed = Some(text);
            }
        }
        tokio::select! {
            _ = agent.stop.cancelled() => return Ok(()),
            _ = agent.catch_up_now.notified() => {}
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// When a value was written, for status.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}
