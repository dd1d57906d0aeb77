//! One call, from the pre-dial check to the call record.
//!
//! `pre-dial check → record (dialing) → originate → ring → answer → [AMD] → IVR →
//! hangup → record (ended)`. The IVR engine decides what to play and do; this
//! module only carries its commands to Asterisk and Asterisk's events back, and
//! writes down what happened as it happens.
//!
//! Invariants:
//! - Nothing is dialed without a fresh [`DialPermit`] from the one pre-dial check,
//!   taken right before the originate; a refused number gets a record with
//!   outcome `blacklisted` and no dial.
//! - The record is written before the originate and ended exactly once.
//! - An opt-out is written to the do-not-call list (and the in-memory index)
//!   before the next IVR command runs: the confirmation prompt plays only once
//!   the number is listed (seed property 12).
//! - No call outlives `max_call`: the session hangs up itself, and a call whose
//!   channel vanished is closed with the reason.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use parking_lot::Mutex;
use shofar_ari::{ChannelState, Event, Originate};
use shofar_dnc::{DialPermit, SharedDnc};
use shofar_ivr::{Action, Command, Flow, Session};
use shofar_phone::E164;
use shofar_store::Store;
use shofar_store::blacklist::{BlacklistSource, NewEntry};
use shofar_store::calls::{CallEnd, CallKind, CallOutcome, CallProgress, CallRecord, NewCall};
use shofar_store::campaigns::CampaignId;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::TelephonyError;
use crate::backend::{Backend, CallSignal};
use crate::outcome::{CallFacts, cause_text, classify};
use crate::render::AMD_CONTEXT;

/// The store, shared by the calls of one process. Store operations are short;
/// they run on the blocking pool so a slow disk never stalls the event loop.
pub type SharedStore = Arc<Mutex<Store>>;

/// What to do when answering-machine detection says a machine answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Amd {
    /// No detection: the IVR starts at once.
    Off,
    /// Detect; on a machine, hang up.
    HangUp,
    /// Detect; on a machine, play this prompt (the voicemail drop), then hang up.
    LeaveMessage { prompt: String },
}

/// One call to place.
#[derive(Debug, Clone)]
pub struct CallRequest {
    /// The channel id. Asterisk matches ids by prefix when it checks for
    /// duplicates (measured: `x-1` is refused while `x-10` is up), so ids must be
    /// of fixed width — a timestamp or a zero-padded counter.
    pub call_id: String,
    pub number: E164,
    pub campaign: Option<CampaignId>,
    pub contact_id: Option<i64>,
    pub attempt: u32,
    pub kind: CallKind,
    /// The number callees see; `None` leaves it to the trunk.
    pub caller_id: Option<String>,
    pub flow: Arc<Flow>,
    /// Prompt name → media URI (`sound:/var/lib/asterisk/sounds/shofar/…`).
    pub prompts: Arc<HashMap<String, String>>,
    pub amd: Amd,
    /// The dial string, e.g. `PJSIP/0525551234@trunk`.
    pub endpoint: String,
    pub ring_timeout: Duration,
    pub max_call: Duration,
    /// Transfers dial `PJSIP/<digits>@<trunk>`: the trunk's name and how to
    /// write a number for it.
    pub transfer: Option<TransferRoute>,
    /// Ends the call from outside (its campaign ended, the supervisor is
    /// shutting down): the supervisor hangs up and records why.
    pub stop: CallStop,
    /// Awaited right before the last pre-dial check and the originate: the
    /// dialer's calls-per-second ceiling, counted at the dial itself.
    pub dial_gate: Option<Arc<dyn DialGate>>,
}

/// Decides when a call may be dialed: [`DialGate::wait_turn`] returns once it
/// may, having counted the dial.
#[async_trait::async_trait]
pub trait DialGate: Send + Sync {
    async fn wait_turn(&self);
}

impl std::fmt::Debug for dyn DialGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DialGate")
    }
}

/// A way to end a running call from outside; cheap to clone. The first reason
/// given is the one recorded.
#[derive(Debug, Clone, Default)]
pub struct CallStop {
    token: CancellationToken,
    reason: Arc<Mutex<Option<String>>>,
}

impl CallStop {
    pub fn new() -> CallStop {
        CallStop::default()
    }

    /// Ends the call (or keeps it from being dialed), for `reason`.
    pub fn stop(&self, reason: &str) {
        self.reason.lock().get_or_insert_with(|| reason.to_owned());
        self.token.cancel();
    }

    pub fn is_stopped(&self) -> bool {
        self.token.is_cancelled()
    }

    fn reason(&self) -> String {
        self.reason.lock().clone().unwrap_or_default()
    }
}

/// Turns a transfer target ("03-6123456") into a dial string, or `None` when the
/// trunk cannot dial it.
pub type EndpointFor = dyn Fn(&str) -> Option<String> + Send + Sync;

/// How a transfer reaches an agent.
#[derive(Clone)]
pub struct TransferRoute {
    pub endpoint_for: Arc<EndpointFor>,
}

impl std::fmt::Debug for TransferRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransferRoute")
    }
}

/// Everything a call needs from the process.
#[derive(Clone)]
pub struct Telephony {
    /// Asterisk, or the simulator.
    pub backend: Arc<dyn Backend>,
    pub store: SharedStore,
    pub dnc: SharedDnc,
    /// How long a call waits for the link to come up before it gives up.
    pub link_wait: Duration,
}

async fn with_store<T: Send + 'static>(
    store: &SharedStore,
    work: impl FnOnce(&mut Store) -> Result<T, shofar_store::StoreError> + Send + 'static,
) -> Result<T, TelephonyError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || work(&mut store.lock()))
        .await
        .map_err(|e| TelephonyError::Internal(format!("a store task failed: {e}")))?
        .map_err(TelephonyError::Store)
}

impl Telephony {
    /// Places one call and runs it to its end; returns its record.
    pub async fn call(&self, request: CallRequest) -> Result<CallRecord, TelephonyError> {
        let missing: Vec<&String> = request
            .flow
            .prompts()
            .iter()
            .chain(match &request.amd {
                Amd::LeaveMessage { prompt } => Some(prompt),
                _ => None,
            })
            .filter(|p| !request.prompts.contains_key(*p))
            .collect();
        if !missing.is_empty() {
            return Err(TelephonyError::MissingPrompts(
                missing.into_iter().cloned().collect(),
            ));
        }
        // Never originate while the event socket is down.
        self.backend.wait_up(self.link_wait).await?;

        let new_call = NewCall {
            call_id: request.call_id.clone(),
            campaign: request.campaign,
            contact_id: request.contact_id,
            e164: request.number,
            attempt: request.attempt,
            kind: request.kind,
            dnc_version: None,
            started_at: Utc::now(),
        };
        // The last moment before the dial: the one pre-dial check.
        let permit = match self.dnc.predial_check(request.number) {
            Ok(permit) => permit,
            Err(refusal) => {
                let call = NewCall {
                    dnc_version: Some(refusal_version(&refusal)),
                    ..new_call
                };
                let call_id = call.call_id.clone();
                let detail = format!("not dialed: {refusal}");
                with_store(&self.store, move |store| store.call_refused(&call, &detail)).await?;
                tracing::info!(call_id = %call_id, "number is on the do-not-call list; not dialed");
                return Err(TelephonyError::Blacklisted {
                    number: request.number,
                    call_id,
                });
            }
        };
        let call = NewCall {
            dnc_version: Some(permit.list_version()),
            ..new_call
        };
        with_store(&self.store, move |store| store.call_started(&call)).await?;

        let (sender, receiver) = mpsc::unbounded_channel();
        self.backend.register(&request.call_id, sender.clone());
        let mut call = CallRun::new(self.clone(), request, sender, receiver);
        let result = call.run(permit).await;
        self.backend.unregister(&call.request.call_id);
        if let Some(agent) = &call.agent {
            self.backend.unregister(&agent.channel_id);
        }
        result
    }
}

fn refusal_version(refusal: &shofar_dnc::DialRefusal) -> u64 {
    match refusal {
        shofar_dnc::DialRefusal::Blacklisted { list_version } => *list_version,
    }
}

/// What a transfer has set up.
struct Agent {
    channel_id: String,
    bridge_id: String,
}

/// The running state of one call.
struct CallRun {
    telephony: Telephony,
    request: CallRequest,
    sender: mpsc::UnboundedSender<CallSignal>,
    receiver: mpsc::UnboundedReceiver<CallSignal>,
    facts: CallFacts,
    progress: CallProgress,
    ivr: Option<Session>,
    /// Asterisk playback id → the IVR's playback id.
    playbacks: HashMap<String, u32>,
    /// The IVR's one running timer: (id, when it fires).
    timer: Option<(u32, Instant)>,
    /// The voicemail drop's playback, while it plays.
    voicemail_playback: Option<String>,
    /// Who ended the call, once someone did.
    ended_by: Option<&'static str>,
    agent: Option<Agent>,
    deadline: Instant,
    /// The call outlived its maximum and was hung up by the supervisor.
    overdue: bool,
    /// Why the call was ended from outside, once it was.
    stopped: Option<String>,
}

impl CallRun {
    fn new(
        telephony: Telephony,
        request: CallRequest,
        sender: mpsc::UnboundedSender<CallSignal>,
        receiver: mpsc::UnboundedReceiver<CallSignal>,
    ) -> CallRun {
        let deadline = Instant::now() + request.ring_timeout + request.max_call;
        CallRun {
            telephony,
            request,
            sender,
            receiver,
            facts: CallFacts::default(),
            progress: CallProgress::default(),
            ivr: None,
            playbacks: HashMap::new(),
            timer: None,
            voicemail_playback: None,
            ended_by: None,
            agent: None,
            deadline,
            overdue: false,
            stopped: None,
        }
    }

    fn client(&self) -> &dyn Backend {
        self.telephony.backend.as_ref()
    }

    fn call_id(&self) -> &str {
        &self.request.call_id
    }

    /// `_early` is the permit that let the call be recorded; the dial itself needs
    /// a second check, taken after the record was written and right before the
    /// originate, so a number listed meanwhile is still never dialed.
    async fn run(&mut self, _early: DialPermit) -> Result<CallRecord, TelephonyError> {
        let originate = Originate {
            channel_id: self.request.call_id.clone(),
            endpoint: self.request.endpoint.clone(),
            app_args: vec!["call".to_owned(), self.request.call_id.clone()],
            caller_id: self.request.caller_id.clone(),
            timeout_seconds: self.request.ring_timeout.as_secs().max(1) as u32,
            variables: [("SHOFAR_APP".to_owned(), self.client().app().to_owned())].into(),
        };
        if let Some(gate) = self.request.dial_gate.clone() {
            gate.wait_turn().await;
        }
        if self.request.stop.is_stopped() {
            let detail = format!("not dialed: {}", self.request.stop.reason());
            return self.finish_unplaced(&detail).await;
        }
        if !self.telephony.backend.is_up() {
            return self
                .finish_unplaced("the link to Asterisk went down before the dial; not dialed")
                .await;
        }
        // The last moment before the dial.
        let permit = match self.telephony.dnc.predial_check(self.request.number) {
            Ok(permit) => permit,
            Err(refusal) => {
                let detail = format!("not dialed: {refusal} (listed while the call was prepared)");
                self.finish(Some(CallOutcome::Blacklisted), "supervisor", Some(detail))
                    .await?;
                return Err(TelephonyError::Blacklisted {
                    number: self.request.number,
                    call_id: self.request.call_id.clone(),
                });
            }
        };
        debug_assert_eq!(permit.number(), self.request.number);
        if let Err(error) = self.client().originate(&originate).await {
            tracing::warn!(call_id = %self.call_id(), %error, "originate failed");
            return self
                .finish_unplaced(&format!("Asterisk did not place the call: {error}"))
                .await;
        }
        tracing::info!(call_id = %self.call_id(), number = %self.request.number, "dialing");

        let stop = self.request.stop.clone();
        loop {
            let timer = self.timer;
            let signal = tokio::select! {
                signal = self.receiver.recv() => signal,
                () = stop.token.cancelled(), if self.stopped.is_none() => {
                    let reason = stop.reason();
                    tracing::info!(call_id = %self.call_id(), %reason, "ending the call");
                    self.stopped = Some(reason);
                    self.hang_up("supervisor").await;
                    self.deadline = self.deadline.min(Instant::now() + Duration::from_secs(10));
                    continue;
                }
                () = sleep_until_some(timer.map(|(_, at)| at)) => {
                    let (id, _) = timer.expect("the timer branch runs only with a timer");
                    self.timer = None;
                    self.ivr_events(vec![shofar_ivr::Event::TimerFired { id }]).await?;
                    continue;
                }
                () = tokio::time::sleep_until(self.deadline) => {
                    if self.overdue {
                        // The hangup's events never came (the link is down):
                        // close the record anyway.
                        return self.finish(None, "supervisor", Some("the call did not end after the supervisor hung it up".to_owned())).await;
                    }
                    tracing::warn!(call_id = %self.call_id(), "call exceeded its maximum length; hanging up");
                    self.overdue = true;
                    self.progress.actions.push("max_call_length".to_owned());
                    self.hang_up("supervisor").await;
                    self.deadline = Instant::now() + Duration::from_secs(10);
                    continue;
                }
            };
            // The sender half is held by this struct, so the channel never closes.
            let Some(signal) = signal else { continue };
            match signal {
                CallSignal::Vanished { detail } => {
                    return self.finish(None, "reconcile", Some(detail)).await;
                }
                CallSignal::Ari(event) => {
                    if let Some(record) = self.on_event(event).await? {
                        return Ok(record);
                    }
                }
            }
        }
    }

    async fn on_event(&mut self, event: Event) -> Result<Option<CallRecord>, TelephonyError> {
        let is_caller = |id: &str, me: &str| id == me;
        match event {
            Event::Dial { peer, dialstatus } if is_caller(&peer.id, self.call_id()) => {
                match dialstatus.as_str() {
                    "RINGING" | "PROGRESS" => self.facts.rang = true,
                    "" => {}
                    status => self.facts.dial_status = Some(status.to_owned()),
                }
            }
            Event::ChannelStateChange { channel }
                if is_caller(&channel.id, self.call_id())
                    && channel.state == ChannelState::Ringing =>
            {
                self.facts.rang = true;
            }
            Event::StasisStart { channel, args } => {
                if channel.id != self.request.call_id {
                    self.agent_answered(&channel.id).await;
                    return Ok(None);
                }
                match args.first().map(String::as_str) {
                    Some("amd") => {
                        let result = args.get(1).cloned().unwrap_or_default();
                        tracing::info!(call_id = %self.call_id(), amd = %result, "answering-machine detection done");
                        self.progress.amd_result = Some(result.clone());
                        self.facts.amd_result = Some(result.clone());
                        self.save_progress().await?;
                        if result == "MACHINE" {
                            self.on_machine().await;
                        } else {
                            self.start_ivr().await?;
                        }
                    }
                    _ if !self.facts.answered => {
                        self.facts.answered = true;
                        let call_id = self.request.call_id.clone();
                        let at = Utc::now();
                        with_store(&self.telephony.store, move |store| {
                            store.call_answered(&call_id, at)
                        })
                        .await?;
                        tracing::info!(call_id = %self.call_id(), "answered");
                        if self.request.amd == Amd::Off {
                            self.start_ivr().await?;
                        } else if let Err(error) = self
                            .client()
                            .continue_in_dialplan(&self.request.call_id, AMD_CONTEXT, "s")
                            .await
                        {
                            tracing::warn!(call_id = %self.call_id(), %error, "cannot run answering-machine detection; starting the IVR");
                            self.start_ivr().await?;
                        }
                    }
                    _ => {}
                }
            }
            Event::ChannelDtmfReceived { channel, digit, .. }
                if is_caller(&channel.id, self.call_id()) =>
            {
                let Some(key) = digit.chars().next() else {
                    return Ok(None);
                };
                self.progress.dtmf.push(key);
                tracing::info!(call_id = %self.call_id(), key = %key, "key pressed");
                if self.ivr.is_some() {
                    self.ivr_events(vec![shofar_ivr::Event::Digit(key)]).await?;
                } else {
                    self.save_progress().await?;
                }
            }
            Event::PlaybackFinished { playback } => {
                if self.voicemail_playback.as_deref() == Some(playback.id.as_str()) {
                    self.voicemail_playback = None;
                    self.hang_up("flow").await;
                } else if let Some(id) = self.playbacks.remove(&playback.id) {
                    self.ivr_events(vec![shofar_ivr::Event::PlaybackFinished { id }])
                        .await?;
                }
            }
            Event::ChannelHangupRequest { channel, .. }
                if is_caller(&channel.id, self.call_id()) && self.ended_by.is_none() =>
            {
                self.ended_by = Some(if self.facts.answered {
                    "callee"
                } else {
                    "network"
                });
            }
            Event::ChannelDestroyed {
                channel,
                cause,
                cause_txt,
            } => {
                if channel.id != self.request.call_id {
                    // The agent left: the transfer is over for the caller too.
                    if let Some(agent) = &self.agent
                        && agent.channel_id == channel.id
                    {
                        tracing::info!(call_id = %self.call_id(), cause, "the agent's leg ended");
                        // Never bridged: the agent did not answer (busy, no answer).
                        if !self
                            .progress
                            .actions
                            .iter()
                            .any(|a| a == "transfer_connected")
                        {
                            self.progress.actions.push("transfer_failed".to_owned());
                        }
                        self.hang_up("callee").await;
                    }
                    return Ok(None);
                }
                self.facts.cause = Some(cause);
                let ended_by = self.ended_by.unwrap_or(if self.facts.answered {
                    "callee"
                } else {
                    "network"
                });
                let text = if cause_txt.is_empty() {
                    cause_text(cause).to_owned()
                } else {
                    cause_txt
                };
                return self
                    .finish_with_cause(ended_by, cause, text)
                    .await
                    .map(Some);
            }
            _ => {}
        }
        Ok(None)
    }

    async fn start_ivr(&mut self) -> Result<(), TelephonyError> {
        if self.ivr.is_some() {
            return Ok(());
        }
        let (session, commands) = Session::start(&self.request.flow);
        self.ivr = Some(session);
        self.execute(commands).await
    }

    async fn on_machine(&mut self) {
        match self.request.amd.clone() {
            Amd::LeaveMessage { prompt } => {
                let media = self
                    .request
                    .prompts
                    .get(&prompt)
                    .cloned()
                    .unwrap_or_default();
                let playback_id = format!("{}.vm", self.request.call_id);
                match self
                    .client()
                    .play(&self.request.call_id, &playback_id, &media)
                    .await
                {
                    Ok(_) => {
                        self.progress.actions.push("voicemail_drop".to_owned());
                        self.voicemail_playback = Some(playback_id);
                    }
                    Err(error) => {
                        tracing::warn!(call_id = %self.call_id(), %error, "cannot play the voicemail message");
                        self.hang_up("flow").await;
                    }
                }
            }
            Amd::HangUp | Amd::Off => self.hang_up("flow").await,
        }
    }

    /// Feeds events to the IVR and carries out what it says, until it has no more.
    async fn ivr_events(&mut self, events: Vec<shofar_ivr::Event>) -> Result<(), TelephonyError> {
        let mut queue: VecDeque<shofar_ivr::Event> = events.into();
        while let Some(event) = queue.pop_front() {
            tracing::debug!(call_id = %self.request.call_id, ?event, "IVR event");
            let Some(session) = self.ivr.as_mut() else {
                return Ok(());
            };
            let commands = session.handle(&self.request.flow, event);
            for synthetic in self.execute_collect(commands).await? {
                queue.push_back(synthetic);
            }
        }
        self.save_progress().await
    }

    async fn execute(&mut self, commands: Vec<Command>) -> Result<(), TelephonyError> {
        let follow_up = self.execute_collect(commands).await?;
        if follow_up.is_empty() {
            self.save_progress().await
        } else {
            self.ivr_events(follow_up).await
        }
    }

    /// Carries out IVR commands in order; returns events to feed back (a prompt
    /// that could not start counts as finished, so the flow goes on).
    async fn execute_collect(
        &mut self,
        commands: Vec<Command>,
    ) -> Result<Vec<shofar_ivr::Event>, TelephonyError> {
        let mut follow_up = Vec::new();
        tracing::debug!(call_id = %self.request.call_id, ?commands, "IVR commands");
        for command in commands {
            match command {
                Command::Play { id, prompt } => {
                    let media = self
                        .request
                        .prompts
                        .get(&prompt)
                        .cloned()
                        .unwrap_or_default();
                    let playback_id = format!("{}.{id}", self.request.call_id);
                    self.playbacks.insert(playback_id.clone(), id);
                    if let Err(error) = self
                        .client()
                        .play(&self.request.call_id, &playback_id, &media)
                        .await
                    {
                        tracing::debug!(call_id = %self.call_id(), %error, prompt, "prompt did not start");
                        self.playbacks.remove(&playback_id);
                        follow_up.push(shofar_ivr::Event::PlaybackFinished { id });
                    }
                }
                Command::StopPlayback { id } => {
                    let playback_id = format!("{}.{id}", self.request.call_id);
                    self.playbacks.remove(&playback_id);
                    let _ = self.client().stop_playback(&playback_id).await;
                }
                Command::StartTimer { id, seconds } => {
                    self.timer =
                        Some((id, Instant::now() + Duration::from_secs(u64::from(seconds))));
                }
                Command::CancelTimer { id } => {
                    if self.timer.is_some_and(|(current, _)| current == id) {
                        self.timer = None;
                    }
                }
                Command::Run(action) => self.run_action(action).await?,
                Command::Transfer { to } => self.transfer(&to).await,
                Command::Hangup => self.hang_up("flow").await,
            }
        }
        Ok(follow_up)
    }

    async fn run_action(&mut self, action: Action) -> Result<(), TelephonyError> {
        match action {
            Action::Blacklist => {
                // Listed before anything else happens: the next command (the
                // confirmation) runs only after this write committed.
                let entry = NewEntry {
                    e164: self.request.number,
                    reason: "pressed a key to opt out during a call".to_owned(),
                    source: BlacklistSource::UserOptout,
                    checked_on: None,
                    campaign: self.request.campaign,
                };
                let dnc = self.telephony.dnc.clone();
                let call_id = self.request.call_id.clone();
                with_store(&self.telephony.store, move |store| {
                    store.blacklist_add(
                        &dnc,
                        [entry],
                        "ivr",
                        serde_json::json!({ "call_id": call_id }),
                    )
                })
                .await?;
                tracing::info!(call_id = %self.call_id(), number = %self.request.number, "opted out: number listed");
                self.progress.opted_out = true;
                self.progress.actions.push("blacklist".to_owned());
                self.save_progress().await?;
            }
            Action::Donate { amount } => {
                self.progress.converted = true;
                // The thank-you SMS arrives with the SMS issue: recorded as pending.
                self.progress.actions.push(match amount {
                    Some(amount) => format!("donate:{amount}"),
                    None => "donate".to_owned(),
                });
                self.progress.actions.push("send_sms:pending".to_owned());
                self.save_progress().await?;
            }
            Action::SendSms { .. } => {
                self.progress.actions.push("send_sms:pending".to_owned());
                self.save_progress().await?;
            }
        }
        Ok(())
    }

    /// Bridges the caller to an agent dialed through the trunk.
    async fn transfer(&mut self, to: &str) {
        self.progress.actions.push(format!("transfer:{to}"));
        let endpoint = self
            .request
            .transfer
            .as_ref()
            .and_then(|route| (route.endpoint_for)(to));
        let Some(endpoint) = endpoint else {
            tracing::warn!(call_id = %self.call_id(), to, "cannot transfer: not a number the trunk can dial");
            self.progress.actions.push("transfer_failed".to_owned());
            self.hang_up("flow").await;
            return;
        };
        let agent = Agent {
            channel_id: format!("{}-agent", self.request.call_id),
            bridge_id: format!("{}-bridge", self.request.call_id),
        };
        self.telephony
            .backend
            .register(&agent.channel_id, self.sender.clone());
        let client = self.telephony.backend.clone();
        let setup = async {
            client.create_bridge(&agent.bridge_id).await?;
            client
                .add_to_bridge(&agent.bridge_id, &self.request.call_id)
                .await?;
            let _ = client.ring(&self.request.call_id).await;
            client
                .originate(&Originate {
                    channel_id: agent.channel_id.clone(),
                    endpoint,
                    app_args: vec!["agent".to_owned(), self.request.call_id.clone()],
                    caller_id: self.request.caller_id.clone(),
                    timeout_seconds: self.request.ring_timeout.as_secs().max(1) as u32,
                    variables: Default::default(),
                })
                .await
        };
        let result = setup.await;
        self.agent = Some(agent);
        if let Err(error) = result {
            tracing::warn!(call_id = %self.call_id(), %error, "transfer failed");
            self.progress.actions.push("transfer_failed".to_owned());
            self.hang_up("flow").await;
        }
    }

    async fn agent_answered(&mut self, channel_id: &str) {
        let Some(agent) = &self.agent else { return };
        if agent.channel_id != channel_id {
            return;
        }
        if let Err(error) = self
            .client()
            .add_to_bridge(&agent.bridge_id, channel_id)
            .await
        {
            tracing::warn!(call_id = %self.call_id(), %error, "cannot bridge the agent");
        } else {
            self.progress.actions.push("transfer_connected".to_owned());
        }
    }

    async fn hang_up(&mut self, by: &'static str) {
        self.ended_by.get_or_insert(by);
        self.timer = None;
        if let Err(error) = self.client().hangup(&self.request.call_id).await {
            tracing::warn!(call_id = %self.call_id(), %error, "hangup failed");
        }
    }

    async fn save_progress(&self) -> Result<(), TelephonyError> {
        let call_id = self.request.call_id.clone();
        let progress = self.progress.clone();
        with_store(&self.telephony.store, move |store| {
            store.call_progress(&call_id, &progress)
        })
        .await
    }

    async fn cleanup_transfer(&mut self) {
        if let Some(agent) = &self.agent {
            let client = self.telephony.backend.clone();
            let _ = client.hangup(&agent.channel_id).await;
            let _ = client.destroy_bridge(&agent.bridge_id).await;
        }
    }

    async fn finish_with_cause(
        &mut self,
        ended_by: &str,
        cause: i64,
        cause_text: String,
    ) -> Result<CallRecord, TelephonyError> {
        self.cleanup_transfer().await;
        let end = CallEnd {
            outcome: Some(classify(&self.facts)),
            hangup_code: Some(cause),
            hangup_cause: Some(cause_text),
            dial_status: self
                .facts
                .dial_status
                .clone()
                .or(self.facts.answered.then(|| "ANSWER".to_owned())),
            ended_at: Some(Utc::now()),
            ended_by: Some(ended_by.to_owned()),
            detail: self.stopped.clone(),
        };
        self.store_end(end).await
    }

    /// Ends a call whose end Asterisk never reported.
    async fn finish(
        &mut self,
        outcome: Option<CallOutcome>,
        ended_by: &str,
        detail: Option<String>,
    ) -> Result<CallRecord, TelephonyError> {
        self.cleanup_transfer().await;
        let outcome = outcome.unwrap_or(if self.facts.answered {
            classify(&self.facts)
        } else {
            CallOutcome::Failed
        });
        let end = CallEnd {
            outcome: Some(outcome),
            dial_status: self.facts.dial_status.clone(),
            ended_at: Some(Utc::now()),
            ended_by: Some(ended_by.to_owned()),
            detail,
            ..CallEnd::default()
        };
        self.store_end(end).await
    }

    async fn finish_unplaced(&mut self, detail: &str) -> Result<CallRecord, TelephonyError> {
        self.finish(
            Some(CallOutcome::Failed),
            "supervisor",
            Some(detail.to_owned()),
        )
        .await
    }

    async fn store_end(&mut self, end: CallEnd) -> Result<CallRecord, TelephonyError> {
        self.save_progress().await?;
        let call_id = self.request.call_id.clone();
        let record = with_store(&self.telephony.store, move |store| {
            store.call_finished(&call_id, &end)?;
            store.call_record(&call_id)
        })
        .await?
        .ok_or_else(|| {
            TelephonyError::Internal(format!("call {} has no record", self.request.call_id))
        })?;
        tracing::info!(
            call_id = %record.call_id,
            outcome = record.outcome.as_deref().unwrap_or(""),
            cause = record.hangup_code.unwrap_or(-1),
            keys = %record.dtmf,
            "call ended"
        );
        Ok(record)
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
