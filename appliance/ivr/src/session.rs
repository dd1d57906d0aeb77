//! The interpreter: one call through a flow, as a value that events advance.
//!
//! A [`Session`] is always in exactly one of these situations: a prompt is playing
//! (one playback id is current), the engine waits for the caller (one timer id is
//! current), or the session is finished. A `PlaybackFinished` or `TimerFired` whose
//! id is not the current one is stale (the playback was stopped, the timer
//! cancelled, or the driver delivered it twice) and changes nothing. That single
//! rule is what makes duplicated and late events from the driver harmless.
//!
//! Every event does a bounded amount of work: the chain of nodes entered without
//! waiting (actions and gotos) is at most as long as the flow, because validation
//! rejects a loop that never plays or waits, and the interpreter stops such a chain
//! anyway should it meet one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::flow::{ActionSpec, Flow, Invalid, Node, Timeout};
use crate::validate::PHONE_KEYS;

/// What the driver tells the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The playback started by `Command::Play { id }` finished (or was stopped).
    PlaybackFinished { id: u32 },
    /// The caller pressed a key; anything other than `0-9`, `*` and `#` is ignored.
    Digit(char),
    /// The timer started by `Command::StartTimer { id }` ran out.
    TimerFired { id: u32 },
    /// The caller hung up.
    Hangup,
}

/// What the engine asks the driver to do, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Play one prompt; the engine waits for `PlaybackFinished { id }`.
    Play { id: u32, prompt: String },
    /// Stop the playback `id` because the caller pressed a key during it. The driver
    /// may still deliver its `PlaybackFinished`; it will be ignored.
    StopPlayback { id: u32 },
    /// Start a timer; the engine waits for `TimerFired { id }` or a key.
    StartTimer { id: u32, seconds: u32 },
    /// Cancel the timer `id`. A `TimerFired` already under way will be ignored.
    CancelTimer { id: u32 },
    /// Do something outside the call (record an opt-out, a pledge, send an SMS).
    Run(Action),
    /// Bridge the call to `to`. The engine is finished.
    Transfer { to: String },
    /// Hang up. The engine is finished.
    Hangup,
}

/// An action the driver carries out, with captured values already filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Send an SMS. `variables` are every value captured so far, for the template.
    SendSms {
        template: Option<String>,
        variables: BTreeMap<String, String>,
    },
    /// The caller opted out; add the number to the blacklist.
    Blacklist,
    /// The caller wants to donate. `amount` is the digits of the flow's
    /// `amount_variable`, or `None` when the flow names none or the caller's path
    /// did not pass the capture that sets it.
    Donate { amount: Option<String> },
}

/// How the IVR part of a call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Ended {
    /// The flow hung up: `end_call`, or a play or action node without `next`.
    HangupByFlow,
    /// The caller hung up.
    CallerHungUp,
    /// The flow transferred the call; it continues bridged.
    Transferred { to: String },
    /// The flow passed to [`Session::handle`] lacks the node the session is in,
    /// or a chain of actions did not end; the engine hung up rather than leave the
    /// caller in silence. Only possible when the driver swaps flows under a live
    /// session (validation rules the rest out).
    FlowMismatch { node: String },
}

/// What happened during the call, for the call record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// Every phone key the caller pressed while the IVR ran, in order, including
    /// keys that were ignored (pressed during a `play` node).
    pub keys: String,
    /// Every node entered, in order; the last is where the call was when it ended.
    pub path: Vec<String>,
    /// Every action run, in order.
    pub actions: Vec<Action>,
    /// The values captured, by variable; a later capture of the same variable
    /// replaces the earlier one.
    pub variables: BTreeMap<String, String>,
    /// How the IVR ended; `None` while it runs.
    pub ended: Option<Ended>,
}

impl Trace {
    /// The node the call is in, or was in when it ended.
    pub fn last_node(&self) -> Option<&str> {
        self.path.last().map(String::as_str)
    }
}

/// Where in its node the session is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Phase {
    /// A `play` node plays `prompts[prompt]`; keys are ignored.
    Playing {
        prompt: usize,
        playback: u32,
    },
    /// A menu or capture plays its prompts; a key interrupts them. With a
    /// `notice` (the timeout or invalid prompt before a retry), index 0 is the
    /// notice and the node's prompts follow it.
    Prompting {
        notice: Option<String>,
        prompt: usize,
        playback: u32,
    },
    /// A menu or capture waits for the first key.
    Waiting {
        timer: u32,
    },
    /// A capture has some digits and waits for the next one.
    Collecting {
        timer: u32,
    },
    /// The last timeout or invalid prompt plays before going to `then`; keys are
    /// ignored, since the menu is no longer listening.
    Leaving {
        playback: u32,
        then: String,
    },
    Finished,
}

/// One call's progress through a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    node: String,
    phase: Phase,
    /// The id the next playback or timer gets; ids only grow within a session.
    next_id: u32,
    /// Retries used in the current node; both reset when a node is entered.
    timeout_retries_used: u32,
    invalid_retries_used: u32,
    /// The digits a capture has collected so far.
    digits: String,
    trace: Trace,
}

/// The pure form of [`Session::handle`]: the next state and what to do, leaving
/// `state` as it was.
pub fn step(flow: &Flow, state: &Session, event: Event) -> (Session, Vec<Command>) {
    let mut next = state.clone();
    let commands = next.handle(flow, event);
    (next, commands)
}

impl Session {
    /// The call was answered: enter the flow's start node.
    pub fn start(flow: &Flow) -> (Session, Vec<Command>) {
        let mut session = Session {
            node: flow.start().to_owned(),
            phase: Phase::Finished,
            next_id: 1,
            timeout_retries_used: 0,
            invalid_retries_used: 0,
            digits: String::new(),
            trace: Trace::default(),
        };
        let mut commands = Vec::new();
        session.enter(flow, flow.start(), &mut commands);
        (session, commands)
    }

    /// Advances the session by one event. Once finished, every event yields nothing.
    pub fn handle(&mut self, flow: &Flow, event: Event) -> Vec<Command> {
        let mut commands = Vec::new();
        if self.is_finished() {
            return commands;
        }
        match event {
            // The channel is gone: nothing to stop or say. The driver drops its own
            // timers and playbacks for the call.
            Event::Hangup => self.finish(Ended::CallerHungUp),
            Event::PlaybackFinished { id } => self.playback_finished(flow, id, &mut commands),
            Event::TimerFired { id } => self.timer_fired(flow, id, &mut commands),
            Event::Digit(key) => self.digit(flow, key, &mut commands),
        }
        commands
    }

    pub fn is_finished(&self) -> bool {
        self.trace.ended.is_some()
    }

    /// Whether a key pressed now would be taken as input (a menu or capture is
    /// playing its prompts or waiting) rather than ignored.
    pub fn takes_digits(&self) -> bool {
        matches!(
            self.phase,
            Phase::Prompting { .. } | Phase::Waiting { .. } | Phase::Collecting { .. }
        )
    }

    /// The node the session is in (or ended in).
    pub fn current_node(&self) -> &str {
        &self.node
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    pub fn ended(&self) -> Option<&Ended> {
        self.trace.ended.as_ref()
    }

    fn playback_finished(&mut self, flow: &Flow, id: u32, commands: &mut Vec<Command>) {
        match self.phase.clone() {
            Phase::Playing { prompt, playback } if playback == id => {
                let Some(Node::Play { prompts, next }) = flow.node(&self.node) else {
                    return self.mismatch(commands);
                };
                if let Some(following) = prompts.get(prompt + 1) {
                    let playback = self.play(following, commands);
                    self.phase = Phase::Playing {
                        prompt: prompt + 1,
                        playback,
                    };
                } else {
                    match next {
                        Some(next) => self.enter(flow, next, commands),
                        None => self.hang_up(commands),
                    }
                }
            }
            Phase::Prompting {
                notice,
                prompt,
                playback,
            } if playback == id => {
                let Some(node) = flow.node(&self.node) else {
                    return self.mismatch(commands);
                };
                self.prompt_or_wait(node, notice, prompt + 1, commands);
            }
            Phase::Leaving { playback, then } if playback == id => {
                self.enter(flow, &then, commands);
            }
            _ => {}
        }
    }

    fn timer_fired(&mut self, flow: &Flow, id: u32, commands: &mut Vec<Command>) {
        match self.phase {
            Phase::Waiting { timer } if timer == id => {
                let Some(node) = flow.node(&self.node) else {
                    return self.mismatch(commands);
                };
                self.no_input(node, commands);
            }
            Phase::Collecting { timer } if timer == id => {
                let Some(node) = flow.node(&self.node) else {
                    return self.mismatch(commands);
                };
                let Node::Capture { min_length, .. } = node else {
                    return self.mismatch(commands);
                };
                if self.digit_count() >= *min_length {
                    self.capture_complete(flow, node, commands);
                } else {
                    self.wrong_input(node, commands);
                }
            }
            _ => {}
        }
    }

    fn digit(&mut self, flow: &Flow, key: char, commands: &mut Vec<Command>) {
        if !PHONE_KEYS.contains(&key) {
            return;
        }
        self.trace.keys.push(key);
        let interruption = match self.phase {
            Phase::Prompting { playback, .. } => Command::StopPlayback { id: playback },
            Phase::Waiting { timer } | Phase::Collecting { timer } => {
                Command::CancelTimer { id: timer }
            }
            // A play node and a final error prompt do not listen.
            Phase::Playing { .. } | Phase::Leaving { .. } | Phase::Finished => return,
        };
        let Some(node) = flow.node(&self.node) else {
            commands.push(interruption);
            return self.mismatch(commands);
        };

        let mut consequences = Vec::new();
        match node {
            Node::Menu { keys, .. } => {
                let mut buffer = [0; 4];
                match keys.get(key.encode_utf8(&mut buffer)) {
                    Some(target) => self.enter(flow, target, &mut consequences),
                    None => self.wrong_input(node, &mut consequences),
                }
            }
            Node::Capture {
                max_length,
                terminator,
                inter_digit_seconds,
                ..
            } => {
                if terminator.starts_with(key) {
                    self.capture_end(flow, node, &mut consequences);
                } else if key.is_ascii_digit() {
                    self.digits.push(key);
                    if self.digit_count() >= *max_length {
                        self.capture_complete(flow, node, &mut consequences);
                    } else {
                        let timer = self.start_timer(*inter_digit_seconds, &mut consequences);
                        self.phase = Phase::Collecting { timer };
                    }
                } else {
                    // The other of `*` and `#`: not a digit, not the end.
                    self.wrong_input(node, &mut consequences);
                }
            }
            Node::Play { .. } | Node::Action { .. } => {
                consequences.push(Command::Hangup);
                self.finish(Ended::FlowMismatch {
                    node: self.node.clone(),
                });
            }
        }

        // Actions a key leads to are run before anything else, even before the
        // prompt it interrupted is stopped: an opt-out is recorded first, whatever
        // happens to the call afterwards.
        let leading_runs = consequences
            .iter()
            .take_while(|command| matches!(command, Command::Run(_)))
            .count();
        let rest = consequences.split_off(leading_runs);
        commands.extend(consequences);
        commands.push(interruption);
        commands.extend(rest);
    }

    /// The caller pressed the capture's terminator.
    fn capture_end(&mut self, flow: &Flow, node: &Node, commands: &mut Vec<Command>) {
        let Node::Capture { min_length, .. } = node else {
            return self.mismatch(commands);
        };
        if self.digit_count() >= *min_length {
            self.capture_complete(flow, node, commands);
        } else {
            self.wrong_input(node, commands);
        }
    }

    fn capture_complete(&mut self, flow: &Flow, node: &Node, commands: &mut Vec<Command>) {
        let Node::Capture {
            variable,
            next: Some(next),
            ..
        } = node
        else {
            return self.mismatch(commands);
        };
        let digits = std::mem::take(&mut self.digits);
        self.trace.variables.insert(variable.clone(), digits);
        self.enter(flow, next, commands);
    }

    fn no_input(&mut self, node: &Node, commands: &mut Vec<Command>) {
        let Some((timeout, _)) = waiting_rules(node) else {
            return self.mismatch(commands);
        };
        if self.timeout_retries_used < timeout.retries {
            self.timeout_retries_used += 1;
            self.digits.clear();
            self.prompt_or_wait(node, Some(timeout.prompt.clone()), 0, commands);
        } else {
            self.leave(&timeout.prompt, &timeout.then, commands);
        }
    }

    /// An unmapped key, a capture too short, or a capture interrupted by a key
    /// that is neither a digit nor its terminator.
    fn wrong_input(&mut self, node: &Node, commands: &mut Vec<Command>) {
        let Some((_, invalid)) = waiting_rules(node) else {
            return self.mismatch(commands);
        };
        if self.invalid_retries_used < invalid.retries {
            self.invalid_retries_used += 1;
            self.digits.clear();
            self.prompt_or_wait(node, Some(invalid.prompt.clone()), 0, commands);
        } else {
            self.leave(&invalid.prompt, &invalid.then, commands);
        }
    }

    /// Plays the last error prompt, then goes to `then`.
    fn leave(&mut self, prompt: &str, then: &str, commands: &mut Vec<Command>) {
        self.digits.clear();
        let playback = self.play(prompt, commands);
        self.phase = Phase::Leaving {
            playback,
            then: then.to_owned(),
        };
    }

    /// Plays prompt `index` of a menu or capture (counting the notice first), or
    /// when they are all played, starts waiting for the caller.
    fn prompt_or_wait(
        &mut self,
        node: &Node,
        notice: Option<String>,
        index: usize,
        commands: &mut Vec<Command>,
    ) {
        let prompts = node.prompts();
        let prompt = match &notice {
            Some(notice) if index == 0 => Some(notice.as_str()),
            Some(_) => prompts.get(index - 1).map(String::as_str),
            None => prompts.get(index).map(String::as_str),
        };
        if let Some(prompt) = prompt {
            let playback = self.play(prompt, commands);
            self.phase = Phase::Prompting {
                notice,
                prompt: index,
                playback,
            };
            return;
        }
        let Some((timeout, _)) = waiting_rules(node) else {
            return self.mismatch(commands);
        };
        let timer = self.start_timer(timeout.seconds, commands);
        self.phase = Phase::Waiting { timer };
    }

    /// Enters `target` from another node (or from itself through a key, `next`,
    /// `then` or `goto`, which counts the same): retries start again. Runs action
    /// nodes on the way until a node plays or waits, or the IVR ends.
    fn enter(&mut self, flow: &Flow, target: &str, commands: &mut Vec<Command>) {
        let mut target = target.to_owned();
        // Validation guarantees a chain of actions ends within the flow's size;
        // the bound keeps a hand-built or swapped flow from looping here.
        for _ in 0..=flow.definition().nodes.len() {
            self.node.clone_from(&target);
            self.trace.path.push(target.clone());
            self.timeout_retries_used = 0;
            self.invalid_retries_used = 0;
            self.digits.clear();
            let Some(node) = flow.node(&target) else {
                return self.mismatch(commands);
            };
            match node {
                Node::Play { prompts, next } => match (prompts.first(), next) {
                    (Some(first), _) => {
                        let playback = self.play(first, commands);
                        self.phase = Phase::Playing {
                            prompt: 0,
                            playback,
                        };
                        return;
                    }
                    (None, Some(next)) => target.clone_from(next),
                    (None, None) => return self.hang_up(commands),
                },
                Node::Menu { .. } | Node::Capture { .. } => {
                    return self.prompt_or_wait(node, None, 0, commands);
                }
                Node::Action { action, next } => {
                    let run = match action {
                        ActionSpec::Transfer { to } => {
                            commands.push(Command::Transfer { to: to.clone() });
                            return self.finish(Ended::Transferred { to: to.clone() });
                        }
                        ActionSpec::EndCall {} => return self.hang_up(commands),
                        ActionSpec::Goto { target: goto } => {
                            target.clone_from(goto);
                            continue;
                        }
                        ActionSpec::Blacklist {} => Action::Blacklist,
                        ActionSpec::Donate { amount_variable } => Action::Donate {
                            amount: amount_variable
                                .as_ref()
                                .and_then(|variable| self.trace.variables.get(variable))
                                .cloned(),
                        },
                        ActionSpec::SendSms { template } => Action::SendSms {
                            template: template.clone(),
                            variables: self.trace.variables.clone(),
                        },
                    };
                    self.trace.actions.push(run.clone());
                    commands.push(Command::Run(run));
                    match next {
                        Some(next) => target.clone_from(next),
                        None => return self.hang_up(commands),
                    }
                }
            }
        }
        self.mismatch(commands);
    }

    fn play(&mut self, prompt: &str, commands: &mut Vec<Command>) -> u32 {
        let id = self.new_id();
        commands.push(Command::Play {
            id,
            prompt: prompt.to_owned(),
        });
        id
    }

    fn start_timer(&mut self, seconds: u32, commands: &mut Vec<Command>) -> u32 {
        let id = self.new_id();
        commands.push(Command::StartTimer { id, seconds });
        id
    }

    fn new_id(&mut self) -> u32 {
        let id = self.next_id;
        // Four billion playbacks in one call will not happen; wrapping keeps even
        // that from panicking.
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    fn digit_count(&self) -> u32 {
        u32::try_from(self.digits.len()).unwrap_or(u32::MAX)
    }

    fn hang_up(&mut self, commands: &mut Vec<Command>) {
        commands.push(Command::Hangup);
        self.finish(Ended::HangupByFlow);
    }

    fn mismatch(&mut self, commands: &mut Vec<Command>) {
        commands.push(Command::Hangup);
        self.finish(Ended::FlowMismatch {
            node: self.node.clone(),
        });
    }

    fn finish(&mut self, ended: Ended) {
        self.phase = Phase::Finished;
        self.trace.ended = Some(ended);
    }
}

fn waiting_rules(node: &Node) -> Option<(&Timeout, &Invalid)> {
    match node {
        Node::Menu {
            timeout: Some(timeout),
            invalid: Some(invalid),
            ..
        }
        | Node::Capture {
            timeout: Some(timeout),
            invalid: Some(invalid),
            ..
        } => Some((timeout, invalid)),
        _ => None,
    }
}
