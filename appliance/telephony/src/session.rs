//! One call, from the pre-dial check to the call record.
//!
//! `pre-dial check → record (dialing) → originate → ring → answer → [AMD] → IVR →
//! hangup → record (ended)`. The IVR engine decides what to play and do; this
//! module only carries its commands to Asterisk and Asterisk's events back, and
//! writes down what happened as it happens.
//!
//! Invariants:
//! - Nothing is dialed without a fresh [`DialPermit`](shofar_dnc::DialPermit)
//!   from the one pre-dial check, taken right before the originate and spent on
//!   the [`Dial`] the backend consumes (a permit too old is refused by its own
//!   `spend`, and the check taken again); a refused number gets a record with
//!   outcome `blacklisted` and no dial.
//! - Every write goes through the store's one [`Writer`], in order; nothing here
//!   touches SQLite on the async runtime. A reaction (the next prompt) never
//!   waits for a write, except the opt-out's, which commits before its
//!   confirmation plays; the call's end waits for everything before it.
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
use shofar_dnc::{PermitRefused, SharedDnc};
use shofar_ivr::{Action, Command, Session};
use shofar_store::Store;
use shofar_store::blacklist::{BlacklistSource, NewEntry};
use shofar_store::calls::{
    CallAction, CallEnd, CallOutcome, CallProgress, CallRecord, EndedBy, NewCall,
};
use shofar_store::writer::Writer;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::TelephonyError;
use crate::backend::{AgentDial, Backend, CallSignal, ChannelEvent, Dial};
use crate::outcome::{CallFacts, classify};
use crate::plan::{Amd, CallPlan, CallPlanner};

/// How a call is steered from outside while it runs.
#[derive(Debug, Clone, Default)]
pub struct CallControl {
    /// Ends the call from outside (its campaign ended, the supervisor is
    /// shutting down): the supervisor hangs up and records why.
    pub stop: CallStop,
    /// The dialer's calls-per-second ceilings: the call waits for its slot
    /// before its record is written, and is counted right before the last
    /// pre-dial check and the originate.
    pub dial_gate: Option<Arc<dyn DialGate>>,
    /// Cancelled when no new call may start (the dialer is shutting down): a
    /// call still waiting for its slot is not placed — no record, no dial
    /// ([`TelephonyError::NotPlaced`]); one already recorded goes on.
    pub hold: Option<CancellationToken>,
}

/// Decides when a call may be dialed, in two steps: [`DialGate::wait_slot`]
/// returns at the call's slot on the schedule (before its record is written);
/// [`DialGate::count`] right before the dial counts it, waiting again only if a
/// late dial would break a ceiling.
#[async_trait::async_trait]
pub trait DialGate: Send + Sync {
    async fn wait_slot(&self);
    async fn count(&self);
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

/// Everything a call needs from the process.
#[derive(Clone)]
pub struct Telephony {
    /// Asterisk, or the simulator.
    pub backend: Arc<dyn Backend>,
    /// Every write of every call goes through it.
    pub writer: Writer,
    pub dnc: SharedDnc,
    /// What a call dials: its number's and a transfer's dial strings.
    pub planner: Arc<CallPlanner>,
    /// How long a call waits for the link to come up before it gives up.
    pub link_wait: Duration,
}

async fn with_store<T: Send + 'static>(
    writer: &Writer,
    work: impl FnOnce(&mut Store) -> Result<T, shofar_store::StoreError> + Send + 'static,
) -> Result<T, TelephonyError> {
    writer.write(work).await.map_err(TelephonyError::Store)
}

impl Telephony {
    /// Places one call and runs it to its end; returns its record.
    pub async fn call(
        &self,
        request: CallPlan,
        control: CallControl,
    ) -> Result<CallRecord, TelephonyError> {
        let template = request.template.clone();
        let missing: Vec<&String> = template
            .flow
            .prompts()
            .iter()
            .chain(match &template.amd {
                Amd::LeaveMessage { prompt } => Some(prompt),
                _ => None,
            })
            .filter(|p| !template.prompts.contains_key(*p))
            .collect();
        if !missing.is_empty() {
            return Err(TelephonyError::MissingPrompts(
                missing.into_iter().cloned().collect(),
            ));
        }
        // Never originate while the event socket is down.
        self.backend.wait_up(self.link_wait).await?;
        // The call's slot on the dialer's schedule; a stop or a shutdown before
        // it leaves nothing behind.
        if let Some(gate) = &control.dial_gate {
            let never = CancellationToken::new();
            let hold = control.hold.as_ref().unwrap_or(&never);
            tokio::select! {
                () = gate.wait_slot() => {}
                () = control.stop.token.cancelled() => {
                    return Err(TelephonyError::NotPlaced { reason: control.stop.reason() });
                }
                () = hold.cancelled() => {
                    return Err(TelephonyError::NotPlaced {
                        reason: "the supervisor is shutting down".to_owned(),
                    });
                }
            }
        }

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
                with_store(&self.writer, move |store| {
                    store.call_refused(&call, &detail)
                })
                .await?;
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
        with_store(&self.writer, move |store| store.call_started(&call)).await?;

        let (sender, receiver) = mpsc::unbounded_channel();
        self.backend.register(&request.call_id, sender.clone());
        let mut call = CallRun::new(self.clone(), request, control, sender, receiver);
        let result = call.run().await;
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
    request: CallPlan,
    control: CallControl,
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
    ended_by: Option<EndedBy>,
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
        request: CallPlan,
        control: CallControl,
        sender: mpsc::UnboundedSender<CallSignal>,
        receiver: mpsc::UnboundedReceiver<CallSignal>,
    ) -> CallRun {
        let deadline = Instant::now() + request.template.ring_timeout + request.template.max_call;
        CallRun {
            telephony,
            request,
            control,
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

    /// The check that let the call be recorded is not the one it dials on: the
    /// dial needs a second check, taken after the record was written and right
    /// before the originate, so a number listed meanwhile is still never dialed.
    async fn run(&mut self) -> Result<CallRecord, TelephonyError> {
        if let Some(gate) = self.control.dial_gate.clone() {
            gate.count().await;
        }
        if self.control.stop.is_stopped() {
            let detail = format!("not dialed: {}", self.control.stop.reason());
            return self.finish_unplaced(&detail).await;
        }
        if !self.telephony.backend.is_up() {
            return self
                .finish_unplaced("the link to Asterisk went down before the dial; not dialed")
                .await;
        }
        // The last moment before the dial: the check, spent on the dial at once.
        let dial = match self.last_check() {
            Ok(Ok(dial)) => dial,
            Ok(Err(refused)) => {
                return self
                    .finish_unplaced(&format!("not dialed: {refused}"))
                    .await;
            }
            Err(refusal) => {
                let detail = format!("not dialed: {refusal} (listed while the call was prepared)");
                self.finish(
                    Some(CallOutcome::Blacklisted),
                    EndedBy::Supervisor,
                    Some(detail),
                )
                .await?;
                return Err(TelephonyError::Blacklisted {
                    number: self.request.number,
                    call_id: self.request.call_id.clone(),
                });
            }
        };
        if let Err(error) = self.client().originate(dial).await {
            tracing::warn!(call_id = %self.call_id(), %error, "originate failed");
            return self
                .finish_unplaced(&format!("Asterisk did not place the call: {error}"))
                .await;
        }
        tracing::info!(call_id = %self.call_id(), number = %self.request.number, "dialing");

        let stop = self.control.stop.clone();
        loop {
            let timer = self.timer;
            let signal = tokio::select! {
                signal = self.receiver.recv() => signal,
                () = stop.token.cancelled(), if self.stopped.is_none() => {
                    let reason = stop.reason();
                    tracing::info!(call_id = %self.call_id(), %reason, "ending the call");
                    self.stopped = Some(reason);
                    self.hang_up(EndedBy::Supervisor).await;
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
                        return self.finish(None, EndedBy::Supervisor, Some("the call did not end after the supervisor hung it up".to_owned())).await;
                    }
                    tracing::warn!(call_id = %self.call_id(), "call exceeded its maximum length; hanging up");
                    self.overdue = true;
                    self.progress.actions.push(CallAction::MaxCallLength);
                    self.hang_up(EndedBy::Supervisor).await;
                    self.deadline = Instant::now() + Duration::from_secs(10);
                    continue;
                }
            };
            // The sender half is held by this struct, so the channel never closes.
            let Some(signal) = signal else { continue };
            if let Some(record) = self.on_signal(signal).await? {
                return Ok(record);
            }
        }
    }

    /// The pre-dial check (`Err`: the number is listed), spent on this call's
    /// [`Dial`] the moment it passes. A permit is refused by its own `spend` only
    /// when the thread stalled between the two (longer than
    /// `DialPermit::MAX_AGE`): then the check is taken again, a few times.
    fn last_check(&self) -> Result<Result<Dial, PermitRefused>, shofar_dnc::DialRefusal> {
        let number = self.request.number;
        let mut tries = 0;
        loop {
            let permit = self.telephony.dnc.predial_check(number)?;
            match permit.spend(number, std::time::Instant::now()) {
                Ok(spent) => {
                    return Ok(Ok(Dial::new(
                        spent,
                        self.request.call_id.clone(),
                        self.telephony.planner.endpoint(number),
                        self.request.template.caller_id.clone(),
                        self.request.template.ring_timeout,
                    )));
                }
                Err(refused) if tries < 3 => {
                    tries += 1;
                    tracing::warn!(call_id = %self.call_id(), %refused, "the pre-dial check could not be spent; checking again");
                }
                Err(refused) => return Ok(Err(refused)),
            }
        }
    }

    async fn on_signal(
        &mut self,
        CallSignal { channel_id, event }: CallSignal,
    ) -> Result<Option<CallRecord>, TelephonyError> {
        if channel_id != self.request.call_id {
            self.on_agent_event(&channel_id, event).await;
            return Ok(None);
        }
        match event {
            ChannelEvent::Ringing => self.facts.rang = true,
            ChannelEvent::DialStatus(status) => self.facts.dial_status = Some(status),
            ChannelEvent::MachineDetection(result) => {
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
            ChannelEvent::Answered if !self.facts.answered => {
                self.facts.answered = true;
                let call_id = self.request.call_id.clone();
                let at = Utc::now();
                // Recorded in the writer's order, not waited for: the caller
                // hears the IVR without waiting on the disk.
                self.telephony
                    .writer
                    .write_later("call answered", move |store| {
                        store.call_answered(&call_id, at)
                    });
                tracing::info!(call_id = %self.call_id(), "answered");
                if self.request.template.amd == Amd::Off {
                    self.start_ivr().await?;
                } else if let Err(error) = self.client().detect_machine(&self.request.call_id).await
                {
                    tracing::warn!(call_id = %self.call_id(), %error, "cannot run answering-machine detection; starting the IVR");
                    self.start_ivr().await?;
                }
            }
            ChannelEvent::Answered => {}
            ChannelEvent::Key(key) => {
                self.progress.dtmf.push(key);
                tracing::info!(call_id = %self.call_id(), key = %key, "key pressed");
                if self.ivr.is_some() {
                    self.ivr_events(vec![shofar_ivr::Event::Digit(key)]).await?;
                } else {
                    self.save_progress().await?;
                }
            }
            ChannelEvent::PlaybackFinished { playback_id } => {
                if self.voicemail_playback.as_deref() == Some(playback_id.as_str()) {
                    self.voicemail_playback = None;
                    self.hang_up(EndedBy::Flow).await;
                } else if let Some(id) = self.playbacks.remove(&playback_id) {
                    self.ivr_events(vec![shofar_ivr::Event::PlaybackFinished { id }])
                        .await?;
                }
            }
            ChannelEvent::HangupRequested => {
                if self.ended_by.is_none() {
                    self.ended_by = Some(if self.facts.answered {
                        EndedBy::Callee
                    } else {
                        EndedBy::Network
                    });
                }
            }
            ChannelEvent::Ended { cause, cause_text } => {
                self.facts.cause = Some(cause);
                let ended_by = self.ended_by.unwrap_or(if self.facts.answered {
                    EndedBy::Callee
                } else {
                    EndedBy::Network
                });
                let text = if cause_text.is_empty() {
                    crate::outcome::cause_text(cause).to_owned()
                } else {
                    cause_text
                };
                return self
                    .finish_with_cause(ended_by, cause, text)
                    .await
                    .map(Some);
            }
            ChannelEvent::Vanished { detail } => {
                return self
                    .finish(None, EndedBy::Reconcile, Some(detail))
                    .await
                    .map(Some);
            }
        }
        Ok(None)
    }

    /// An event of a transfer's agent leg.
    async fn on_agent_event(&mut self, channel_id: &str, event: ChannelEvent) {
        let is_agent = self
            .agent
            .as_ref()
            .is_some_and(|agent| agent.channel_id == channel_id);
        if !is_agent {
            return;
        }
        match event {
            ChannelEvent::Answered => self.agent_answered(channel_id).await,
            ChannelEvent::Ended { .. } | ChannelEvent::Vanished { .. } => {
                // The agent left: the transfer is over for the caller too.
                tracing::info!(call_id = %self.call_id(), ?event, "the agent's leg ended");
                // Never bridged: the agent did not answer (busy, no answer).
                if !self
                    .progress
                    .actions
                    .contains(&CallAction::TransferConnected)
                {
                    self.progress.actions.push(CallAction::TransferFailed);
                }
                self.hang_up(EndedBy::Callee).await;
            }
            _ => {}
        }
    }

    async fn start_ivr(&mut self) -> Result<(), TelephonyError> {
        if self.ivr.is_some() {
            return Ok(());
        }
        let (session, commands) = Session::start(&self.request.template.flow);
        self.ivr = Some(session);
        self.execute(commands).await
    }

    async fn on_machine(&mut self) {
        match self.request.template.amd.clone() {
            Amd::LeaveMessage { prompt } => {
                let media = self
                    .request
                    .template
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
                        self.progress.actions.push(CallAction::VoicemailDrop);
                        self.voicemail_playback = Some(playback_id);
                    }
                    Err(error) => {
                        tracing::warn!(call_id = %self.call_id(), %error, "cannot play the voicemail message");
                        self.hang_up(EndedBy::Flow).await;
                    }
                }
            }
            Amd::HangUp | Amd::Off => self.hang_up(EndedBy::Flow).await,
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
            let commands = session.handle(&self.request.template.flow, event);
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
                        .template
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
                Command::Hangup => self.hang_up(EndedBy::Flow).await,
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
                with_store(&self.telephony.writer, move |store| {
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
                self.progress.actions.push(CallAction::Blacklist);
                self.save_progress().await?;
            }
            Action::Donate { amount } => {
                self.progress.converted = true;
                // The thank-you SMS arrives with the SMS issue: recorded as pending.
                self.progress
                    .actions
                    .push(CallAction::donate(amount.as_deref()));
                self.progress.actions.push(CallAction::SendSmsPending);
                self.save_progress().await?;
            }
            Action::SendSms { .. } => {
                self.progress.actions.push(CallAction::SendSmsPending);
                self.save_progress().await?;
            }
        }
        Ok(())
    }

    /// Bridges the caller to an agent dialed through the trunk.
    async fn transfer(&mut self, to: &str) {
        self.progress.actions.push(CallAction::transfer(to));
        let endpoint = self
            .request
            .template
            .transfers
            .then(|| self.telephony.planner.agent_endpoint(to))
            .flatten();
        let Some(endpoint) = endpoint else {
            tracing::warn!(call_id = %self.call_id(), to, "cannot transfer: not a number the trunk can dial");
            self.progress.actions.push(CallAction::TransferFailed);
            self.hang_up(EndedBy::Flow).await;
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
                .originate_agent(AgentDial {
                    channel_id: agent.channel_id.clone(),
                    for_call: self.request.call_id.clone(),
                    endpoint,
                    caller_id: self.request.template.caller_id.clone(),
                    ring_timeout: self.request.template.ring_timeout,
                })
                .await
        };
        let result = setup.await;
        self.agent = Some(agent);
        if let Err(error) = result {
            tracing::warn!(call_id = %self.call_id(), %error, "transfer failed");
            self.progress.actions.push(CallAction::TransferFailed);
            self.hang_up(EndedBy::Flow).await;
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
            self.progress.actions.push(CallAction::TransferConnected);
        }
    }

    async fn hang_up(&mut self, by: EndedBy) {
        self.ended_by.get_or_insert(by);
        self.timer = None;
        if let Err(error) = self.client().hangup(&self.request.call_id).await {
            tracing::warn!(call_id = %self.call_id(), %error, "hangup failed");
        }
    }

    /// Records the call's progress in the writer's order, without waiting for it
    /// (what waits for the disk is the opt-out, before its confirmation, and the
    /// end). Async only so its callers read as the writes they are.
    async fn save_progress(&self) -> Result<(), TelephonyError> {
        let call_id = self.request.call_id.clone();
        let progress = self.progress.clone();
        self.telephony
            .writer
            .write_later("call progress", move |store| {
                store.call_progress(&call_id, &progress)
            });
        Ok(())
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
        ended_by: EndedBy,
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
            ended_by: Some(ended_by),
            detail: self.stopped.clone(),
        };
        self.store_end(end).await
    }

    /// Ends a call whose end Asterisk never reported.
    async fn finish(
        &mut self,
        outcome: Option<CallOutcome>,
        ended_by: EndedBy,
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
            ended_by: Some(ended_by),
            detail,
            ..CallEnd::default()
        };
        self.store_end(end).await
    }

    async fn finish_unplaced(&mut self, detail: &str) -> Result<CallRecord, TelephonyError> {
        self.finish(
            Some(CallOutcome::Failed),
            EndedBy::Supervisor,
            Some(detail.to_owned()),
        )
        .await
    }

    async fn store_end(&mut self, end: CallEnd) -> Result<CallRecord, TelephonyError> {
        self.save_progress().await?;
        let call_id = self.request.call_id.clone();
        let record = with_store(&self.telephony.writer, move |store| {
            store.call_finished(&call_id, &end)?;
            store.call_record(&call_id)
        })
        .await?
        .ok_or_else(|| {
            TelephonyError::Internal(format!("call {} has no record", self.request.call_id))
        })?;
        tracing::info!(
            call_id = %record.call_id,
            outcome = record.outcome.as_ref().map_or("", |o| o.as_str()),
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
