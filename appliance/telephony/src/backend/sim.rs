//! A simulated telephone network behind the [`Backend`] trait, for demos and load
//! benchmarks: calls ring, are answered, busy, unanswered, congested or fail in
//! configured shares; people listen to prompts, press keys and hang up; machines
//! answer and AMD finds them. Everything arrives as the [`ChannelEvent`]s the ARI
//! link makes of what Asterisk sends, so a simulated call runs through the very
//! same session, IVR engine and record path as a real one.
//!
//! Each call's fate is drawn from a generator seeded with the configured seed and
//! the channel id: the same ids give the same calls.
//!
//! The simulator also measures what a load benchmark needs: when each call was
//! dialed (the dialing rate over any one-second window) and how long the
//! supervisor took to react to an event that demands a reaction (an answer, a key).
//!
//! It never stands in for a real-Asterisk test of a telephony feature.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::TelephonyError;
use crate::backend::{AgentDial, Backend, CallSignal, ChannelEvent, Dial, Link};

/// How the simulated world behaves. Shares are of dialed calls; whatever the
/// answered, busy, congested and failed shares leave rings out unanswered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Seeds every call's fate (with its channel id).
    pub seed: u64,
    pub answer_rate: f64,
    pub busy_rate: f64,
    pub congestion_rate: f64,
    /// Unreachable: the network cannot place the call at all.
    pub failed_rate: f64,
    /// Of answered calls, the share an answering machine takes.
    pub machine_rate: f64,
    /// Ringing before an answer, uniformly between the two, in seconds.
    pub ring_seconds: [f64; 2],
    /// How long a person stays on the line if the box does not end the call first.
    pub talk_seconds: [f64; 2],
    /// How long every prompt plays.
    pub prompt_seconds: f64,
    /// How long answering-machine detection listens.
    pub amd_seconds: f64,
    /// When a person presses their key, after the first prompt starts.
    pub key_after_seconds: [f64; 2],
    /// Of people (not machines), the share that presses each key once.
    pub keys: KeyShares,
    /// Divides every duration: 10 runs the world ten times faster (for tests).
    pub time_scale: f64,
}

/// Of answering people, the share that presses each key (once, during the first
/// prompt); the rest press nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeyShares {
    /// `1` in the default flow: donate.
    pub one: f64,
    /// `2`: more information.
    pub two: f64,
    /// `9`: opt out.
    pub nine: f64,
    /// `0`: hear it again.
    pub zero: f64,
    /// `7`: not a key the default menu knows.
    pub invalid: f64,
}

impl Default for KeyShares {
    fn default() -> KeyShares {
        KeyShares {
            one: 0.10,
            two: 0.08,
            nine: 0.03,
            zero: 0.02,
            invalid: 0.02,
        }
    }
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            seed: 1,
            answer_rate: 0.62,
            busy_rate: 0.10,
            congestion_rate: 0.02,
            failed_rate: 0.02,
            machine_rate: 0.12,
            ring_seconds: [2.0, 12.0],
            talk_seconds: [8.0, 40.0],
            prompt_seconds: 4.0,
            amd_seconds: 2.5,
            key_after_seconds: [1.0, 3.5],
            keys: KeyShares::default(),
            time_scale: 1.0,
        }
    }
}

impl SimConfig {
    /// Every problem with the values, named by key.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let share = |name: &str, value: f64, problems: &mut Vec<String>| {
            if !(0.0..=1.0).contains(&value) {
                problems.push(format!("{name} = {value} is not a share between 0 and 1"));
            }
        };
        share("answer_rate", self.answer_rate, &mut problems);
        share("busy_rate", self.busy_rate, &mut problems);
        share("congestion_rate", self.congestion_rate, &mut problems);
        share("failed_rate", self.failed_rate, &mut problems);
        share("machine_rate", self.machine_rate, &mut problems);
        let fates = self.answer_rate + self.busy_rate + self.congestion_rate + self.failed_rate;
        if fates > 1.0 + 1e-9 {
            problems.push(format!(
                "answer_rate + busy_rate + congestion_rate + failed_rate = {fates:.3} is more than 1"
            ));
        }
        let keys = &self.keys;
        for (name, value) in [
            ("keys.one", keys.one),
            ("keys.two", keys.two),
            ("keys.nine", keys.nine),
            ("keys.zero", keys.zero),
            ("keys.invalid", keys.invalid),
        ] {
            share(name, value, &mut problems);
        }
        let key_total = keys.one + keys.two + keys.nine + keys.zero + keys.invalid;
        if key_total > 1.0 + 1e-9 {
            problems.push(format!(
                "the key shares add up to {key_total:.3}, more than 1"
            ));
        }
        for (name, [low, high]) in [
            ("ring_seconds", self.ring_seconds),
            ("talk_seconds", self.talk_seconds),
            ("key_after_seconds", self.key_after_seconds),
        ] {
            if !(low >= 0.0 && high >= low && high.is_finite()) {
                problems.push(format!(
                    "{name} = [{low}, {high}] must be two seconds, the first not above the second"
                ));
            }
        }
        for (name, value) in [
            ("prompt_seconds", self.prompt_seconds),
            ("amd_seconds", self.amd_seconds),
        ] {
            if !(value > 0.0 && value.is_finite()) {
                problems.push(format!("{name} = {value} must be more than 0"));
            }
        }
        if !(self.time_scale > 0.0 && self.time_scale.is_finite()) {
            problems.push(format!(
                "time_scale = {} must be more than 0",
                self.time_scale
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// What the simulator measured.
#[derive(Debug, Clone, Default)]
pub struct SimStats {
    /// When each call was dialed, and its dial string, in order.
    pub dialed: Vec<(Instant, String)>,
    /// Microseconds from an event that demands a reaction (an answer, a key) to
    /// the supervisor's next command on that channel.
    pub reaction_us: Vec<u64>,
    /// The most channels up at once.
    pub max_channels: usize,
}

/// A command the supervisor sent to one simulated channel.
#[derive(Debug)]
enum Command {
    Play { playback_id: String },
    StopPlayback { playback_id: String },
    Hangup,
    Amd,
}

struct Inner {
    config: SimConfig,
    app: String,
    prefix: String,
    routes: Mutex<HashMap<String, mpsc::UnboundedSender<CallSignal>>>,
    channels: Mutex<HashMap<String, mpsc::UnboundedSender<Command>>>,
    /// Playback id → its channel.
    playbacks: Mutex<HashMap<String, String>>,
    stats: Mutex<SimStats>,
    shutdown: CancellationToken,
    /// Every channel's task: each ends with its call or the shutdown token.
    tasks: TaskTracker,
}

/// The simulated network. Cheap to clone.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

impl Simulator {
    /// A simulator that is up at once. Its calls end when `shutdown` is cancelled
    /// (as a process's calls do when it is killed: nothing more is reported).
    pub fn new(
        config: SimConfig,
        app: &str,
        prefix: &str,
        shutdown: CancellationToken,
    ) -> Result<Simulator, TelephonyError> {
        config
            .validate()
            .map_err(|problem| TelephonyError::Config(format!("[simulator] {problem}")))?;
        Ok(Simulator {
            inner: Arc::new(Inner {
                config,
                app: app.to_owned(),
                prefix: prefix.to_owned(),
                routes: Mutex::default(),
                channels: Mutex::default(),
                playbacks: Mutex::default(),
                stats: Mutex::default(),
                shutdown,
                tasks: TaskTracker::new(),
            }),
        })
    }

    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    /// A copy of what was measured so far.
    pub fn stats(&self) -> SimStats {
        self.inner.stats.lock().clone()
    }

    /// Channels up now.
    pub fn active(&self) -> usize {
        self.inner.channels.lock().len()
    }

    fn start_channel(
        &self,
        channel_id: &str,
        endpoint: &str,
        agent: bool,
        ring_timeout: Duration,
    ) -> Result<(), TelephonyError> {
        let (sender, receiver) = mpsc::unbounded_channel();
        {
            let mut channels = self.inner.channels.lock();
            if channels.contains_key(channel_id) {
                return Err(TelephonyError::Backend(format!(
                    "channel {channel_id} already exists"
                )));
            }
            channels.insert(channel_id.to_owned(), sender);
            let mut stats = self.inner.stats.lock();
            stats.dialed.push((Instant::now(), endpoint.to_owned()));
            stats.max_channels = stats.max_channels.max(channels.len());
        }
        let channel = SimChannel::new(self.inner.clone(), channel_id, agent, ring_timeout);
        // The channel's task ends when its call does, or at the simulator's
        // shutdown (`pause` and `answered` select on it).
        self.inner.tasks.spawn(channel.run(receiver));
        Ok(())
    }

    fn send(&self, channel_id: &str, command: Command) -> Result<(), TelephonyError> {
        let sender = self.inner.channels.lock().get(channel_id).cloned();
        match sender {
            Some(sender) if sender.send(command).is_ok() => Ok(()),
            _ => Err(TelephonyError::Backend(format!(
                "channel {channel_id} does not exist"
            ))),
        }
    }
}

#[async_trait]
impl Backend for Simulator {
    fn kind(&self) -> &'static str {
        "simulator"
    }

    fn app(&self) -> &str {
        &self.inner.app
    }

    fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    fn link(&self) -> Link {
        if self.inner.shutdown.is_cancelled() {
            Link::Down {
                error: Some("the simulator was shut down".to_owned()),
            }
        } else {
            Link::Up { generation: 1 }
        }
    }

    async fn wait_up(&self, _limit: Duration) -> Result<u64, TelephonyError> {
        match self.link() {
            Link::Up { generation } => Ok(generation),
            Link::Down { error } => Err(TelephonyError::LinkDown {
                error: error.unwrap_or_default(),
            }),
        }
    }

    fn register(&self, channel_id: &str, sender: mpsc::UnboundedSender<CallSignal>) {
        self.inner
            .routes
            .lock()
            .insert(channel_id.to_owned(), sender);
    }

    fn unregister(&self, channel_id: &str) {
        self.inner.routes.lock().remove(channel_id);
    }

    fn routed(&self) -> usize {
        self.inner.routes.lock().len()
    }

    async fn originate(&self, dial: Dial) -> Result<(), TelephonyError> {
        self.start_channel(&dial.channel_id, &dial.endpoint, false, dial.ring_timeout)
    }

    async fn originate_agent(&self, dial: AgentDial) -> Result<(), TelephonyError> {
        self.start_channel(&dial.channel_id, &dial.endpoint, true, dial.ring_timeout)
    }

    async fn hangup(&self, channel_id: &str) -> Result<(), TelephonyError> {
        self.send(channel_id, Command::Hangup)
    }

    async fn play(
        &self,
        channel_id: &str,
        playback_id: &str,
        _media: &str,
    ) -> Result<(), TelephonyError> {
        self.inner
            .playbacks
            .lock()
            .insert(playback_id.to_owned(), channel_id.to_owned());
        self.send(
            channel_id,
            Command::Play {
                playback_id: playback_id.to_owned(),
            },
        )
        .inspect_err(|_| {
            self.inner.playbacks.lock().remove(playback_id);
        })
    }

    async fn stop_playback(&self, playback_id: &str) -> Result<(), TelephonyError> {
        let channel = self.inner.playbacks.lock().get(playback_id).cloned();
        match channel {
            Some(channel) => self.send(
                &channel,
                Command::StopPlayback {
                    playback_id: playback_id.to_owned(),
                },
            ),
            None => Err(TelephonyError::Backend(format!(
                "playback {playback_id} does not exist"
            ))),
        }
    }

    async fn detect_machine(&self, channel_id: &str) -> Result<(), TelephonyError> {
        self.send(channel_id, Command::Amd)
    }

    async fn ring(&self, _channel_id: &str) -> Result<(), TelephonyError> {
        Ok(())
    }

    async fn create_bridge(&self, _bridge_id: &str) -> Result<(), TelephonyError> {
        Ok(())
    }

    async fn add_to_bridge(
        &self,
        _bridge_id: &str,
        channel_id: &str,
    ) -> Result<(), TelephonyError> {
        if self.inner.channels.lock().contains_key(channel_id) {
            Ok(())
        } else {
            Err(TelephonyError::Backend(format!(
                "channel {channel_id} does not exist"
            )))
        }
    }

    async fn destroy_bridge(&self, _bridge_id: &str) -> Result<(), TelephonyError> {
        Ok(())
    }

    async fn finished(&self) {
        self.inner.shutdown.cancelled().await;
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    async fn channels(&self) -> Result<Vec<String>, TelephonyError> {
        Ok(self.inner.channels.lock().keys().cloned().collect())
    }
}

/// What the far end of one call does.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    Busy,
    Congestion,
    Failed,
    NoAnswer,
    /// Answered after ringing this long; by a machine or not.
    Answer {
        ring: Duration,
        machine: bool,
    },
}

struct SimChannel {
    inner: Arc<Inner>,
    id: String,
    /// A transfer's agent, not a callee.
    agent: bool,
    ring_timeout: Duration,
    rng: rand_chacha::ChaCha8Rng,
    /// When the event that demands a reaction was sent, until the reaction comes.
    awaiting_reaction: Option<Instant>,
    /// Playbacks queued on the channel; the first is playing, until the instant.
    playing: VecDeque<String>,
    playing_until: Option<Instant>,
    /// The person's key and when they press it (set when the first prompt starts).
    key: Option<char>,
    key_at: Option<Instant>,
    amd_at: Option<Instant>,
    hangup_at: Option<Instant>,
    machine: bool,
    prompts_heard: usize,
}

/// A reaction slower than this is not a reaction to the marked event (a timer
/// fired instead); it is not counted.
const REACTION_HORIZON: Duration = Duration::from_secs(5);

impl SimChannel {
    /// The generator depends on the seed and the channel id only, not on the
    /// order of the originates, which concurrent sessions do not fix.
    fn new(inner: Arc<Inner>, id: &str, agent: bool, ring_timeout: Duration) -> SimChannel {
        let mut seed = inner.config.seed;
        for byte in id.bytes() {
            seed = seed.rotate_left(5) ^ u64::from(byte);
            seed = seed.wrapping_mul(0x0100_0000_01b3);
        }
        SimChannel {
            id: id.to_owned(),
            agent,
            ring_timeout: Duration::from_secs(ring_timeout.as_secs().max(1)),
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed),
            inner,
            awaiting_reaction: None,
            playing: VecDeque::new(),
            playing_until: None,
            key: None,
            key_at: None,
            amd_at: None,
            hangup_at: None,
            machine: false,
            prompts_heard: 0,
        }
    }

    fn scaled(&self, seconds: f64) -> Duration {
        Duration::from_secs_f64((seconds / self.inner.config.time_scale).max(0.0))
    }

    fn between(&mut self, [low, high]: [f64; 2]) -> Duration {
        let seconds = if high > low {
            self.rng.random_range(low..high)
        } else {
            low
        };
        self.scaled(seconds)
    }

    fn draw_fate(&mut self) -> Fate {
        let config = self.inner.config.clone();
        // An agent leg of a transfer always answers: agents are at their desks.
        if self.agent {
            return Fate::Answer {
                ring: self.between([1.0, 3.0]),
                machine: false,
            };
        }
        let draw: f64 = self.rng.random();
        let mut edge = config.answer_rate;
        if draw < edge {
            let ring = self.between(config.ring_seconds);
            let machine = self.rng.random::<f64>() < config.machine_rate;
            return Fate::Answer { ring, machine };
        }
        edge += config.busy_rate;
        if draw < edge {
            return Fate::Busy;
        }
        edge += config.congestion_rate;
        if draw < edge {
            return Fate::Congestion;
        }
        edge += config.failed_rate;
        if draw < edge {
            return Fate::Failed;
        }
        Fate::NoAnswer
    }

    fn draw_key(&mut self) -> Option<char> {
        let keys = self.inner.config.keys.clone();
        let draw: f64 = self.rng.random();
        let mut edge = 0.0;
        for (share, key) in [
            (keys.one, '1'),
            (keys.two, '2'),
            (keys.nine, '9'),
            (keys.zero, '0'),
            (keys.invalid, '7'),
        ] {
            edge += share;
            if draw < edge {
                return Some(key);
            }
        }
        None
    }

    fn emit(&self, event: ChannelEvent) {
        let sender = self.inner.routes.lock().get(&self.id).cloned();
        if let Some(sender) = sender {
            let _ = sender.send(CallSignal {
                channel_id: self.id.clone(),
                event,
            });
        }
    }

    fn playback_finished(&self, playback_id: String) {
        self.emit(ChannelEvent::PlaybackFinished { playback_id });
    }

    fn dial_status(&self, status: &str) {
        self.emit(ChannelEvent::DialStatus(status.to_owned()));
    }

    /// The channel is removed before its end is reported, as Asterisk does: a
    /// session that saw `ChannelDestroyed` finds the channel gone from
    /// `active()` and `channels()`.
    fn destroyed(&self, cause: i64, text: &str) {
        self.remove();
        self.emit(ChannelEvent::Ended {
            cause,
            cause_text: text.to_owned(),
        });
    }

    /// The channel is gone: no more commands reach it.
    fn remove(&self) {
        self.inner.channels.lock().remove(&self.id);
        let mut playbacks = self.inner.playbacks.lock();
        for playback in &self.playing {
            playbacks.remove(playback);
        }
    }

    /// Waits, while handling commands; returns `false` if the call ended (the
    /// supervisor hung up or the process is shutting down).
    async fn pause(
        &mut self,
        duration: Duration,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> bool {
        let until = Instant::now() + duration;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(until) => return true,
                () = self.inner.shutdown.cancelled() => return false,
                command = commands.recv() => match command {
                    Some(Command::Hangup) | None => {
                        self.destroyed(16, "Normal Clearing");
                        return false;
                    }
                    // Nothing plays before the answer.
                    Some(_) => {}
                },
            }
        }
    }

    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        self.run_to_end(&mut commands).await;
        self.remove();
    }

    async fn run_to_end(&mut self, commands: &mut mpsc::UnboundedReceiver<Command>) {
        let fate = self.draw_fate();
        let trying = self.between([0.02, 0.2]);
        if !self.pause(trying, commands).await {
            return;
        }
        match fate {
            Fate::Busy => {
                let delay = self.between([0.3, 1.5]);
                if self.pause(delay, commands).await {
                    self.dial_status("BUSY");
                    self.destroyed(17, "User busy");
                }
            }
            Fate::Congestion => {
                let delay = self.between([0.1, 0.6]);
                if self.pause(delay, commands).await {
                    self.dial_status("CONGESTION");
                    self.destroyed(34, "Circuit/channel congestion");
                }
            }
            Fate::Failed => {
                let delay = self.between([0.5, 3.0]);
                if self.pause(delay, commands).await {
                    self.dial_status("CHANUNAVAIL");
                    self.destroyed(3, "No route to destination");
                }
            }
            Fate::NoAnswer => {
                self.start_ringing();
                let timeout = self.scaled(self.ring_timeout.as_secs_f64());
                if self.pause(timeout, commands).await {
                    self.dial_status("NOANSWER");
                    self.destroyed(19, "No user responding");
                }
            }
            Fate::Answer { ring, machine } => {
                self.start_ringing();
                if ring >= self.scaled(self.ring_timeout.as_secs_f64()) {
                    // Rang longer than the box waits.
                    let timeout = self.scaled(self.ring_timeout.as_secs_f64());
                    if self.pause(timeout, commands).await {
                        self.dial_status("NOANSWER");
                        self.destroyed(19, "No user responding");
                    }
                    return;
                }
                if !self.pause(ring, commands).await {
                    return;
                }
                self.machine = machine;
                self.answered(commands).await;
            }
        }
    }

    fn start_ringing(&self) {
        self.emit(ChannelEvent::Ringing);
    }

    fn mark_reaction_due(&mut self) {
        self.awaiting_reaction = Some(Instant::now());
    }

    fn reacted(&mut self) {
        if let Some(since) = self.awaiting_reaction.take() {
            let elapsed = since.elapsed();
            if elapsed <= REACTION_HORIZON {
                self.inner
                    .stats
                    .lock()
                    .reaction_us
                    .push(elapsed.as_micros() as u64);
            }
        }
    }

    async fn answered(&mut self, commands: &mut mpsc::UnboundedReceiver<Command>) {
        self.dial_status("ANSWER");
        let talk = self.inner.config.talk_seconds;
        self.hangup_at = Some(Instant::now() + self.between(talk));
        if !self.machine {
            self.key = self.draw_key();
        }
        self.mark_reaction_due();
        self.emit(ChannelEvent::Answered);
        loop {
            let next = [self.playing_until, self.key_at, self.amd_at, self.hangup_at]
                .into_iter()
                .flatten()
                .min();
            let command = tokio::select! {
                () = sleep_until_some(next) => None,
                () = self.inner.shutdown.cancelled() => return,
                command = commands.recv() => Some(command),
            };
            match command {
                Some(Some(command)) => {
                    if !self.on_command(command) {
                        return;
                    }
                }
                Some(None) => return,
                None => {
                    if !self.on_time() {
                        return;
                    }
                }
            }
        }
    }

    /// Returns `false` once the channel is gone.
    fn on_command(&mut self, command: Command) -> bool {
        match command {
            Command::Play { playback_id } => {
                self.reacted();
                if self.playing.is_empty() {
                    self.playing_until =
                        Some(Instant::now() + self.scaled(self.inner.config.prompt_seconds));
                    self.prompt_started();
                }
                self.playing.push_back(playback_id);
            }
            Command::StopPlayback { playback_id } => {
                let Some(index) = self.playing.iter().position(|p| *p == playback_id) else {
                    return true;
                };
                self.playing.remove(index);
                self.inner.playbacks.lock().remove(&playback_id);
                self.playback_finished(playback_id);
                if index == 0 {
                    self.next_prompt();
                }
            }
            Command::Amd => {
                self.reacted();
                self.amd_at = Some(Instant::now() + self.scaled(self.inner.config.amd_seconds));
            }
            Command::Hangup => {
                self.reacted();
                self.destroyed(16, "Normal Clearing");
                return false;
            }
        }
        true
    }

    fn prompt_started(&mut self) {
        self.prompts_heard += 1;
        if self.prompts_heard == 1 && self.key.is_some() {
            let delay = self.between(self.inner.config.key_after_seconds);
            self.key_at = Some(Instant::now() + delay);
        }
    }

    fn next_prompt(&mut self) {
        self.playing_until = if self.playing.is_empty() {
            None
        } else {
            self.prompt_started();
            Some(Instant::now() + self.scaled(self.inner.config.prompt_seconds))
        };
    }

    /// Something timed came due. Returns `false` once the channel is gone.
    fn on_time(&mut self) -> bool {
        let now = Instant::now();
        if self.hangup_at.is_some_and(|at| at <= now) {
            self.emit(ChannelEvent::HangupRequested);
            self.destroyed(16, "Normal Clearing");
            return false;
        }
        if self.amd_at.is_some_and(|at| at <= now) {
            self.amd_at = None;
            self.mark_reaction_due();
            let verdict = if self.machine { "MACHINE" } else { "HUMAN" };
            self.emit(ChannelEvent::MachineDetection(verdict.to_owned()));
        }
        if self.key_at.is_some_and(|at| at <= now) {
            self.key_at = None;
            if let Some(key) = self.key.take() {
                self.mark_reaction_due();
                self.emit(ChannelEvent::Key(key));
            }
        }
        if self.playing_until.is_some_and(|at| at <= now)
            && let Some(playback_id) = self.playing.pop_front()
        {
            self.inner.playbacks.lock().remove(&playback_id);
            self.playback_finished(playback_id);
            self.next_prompt();
        }
        true
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
