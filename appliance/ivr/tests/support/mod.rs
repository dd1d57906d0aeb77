//! What the interpreter tests share: a simulated driver that checks the protocol on
//! every event, a transcript `check` helper, and a generator of random valid flows.

#![allow(dead_code)] // Each test binary uses a different part.

use std::collections::BTreeSet;

use proptest::prelude::*;
use shofar_ivr::{
    ActionSpec, Command, Event, Flow, FlowDefinition, Invalid, Node, OrderedMap, PHONE_KEYS,
    Session, Timeout, step,
};

/// The most commands one event may produce in a flow of `nodes` nodes: a chain of
/// actions at most as long as the flow, plus a stop, a play or timer, and an end.
pub fn command_bound(flow: &Flow) -> usize {
    flow.definition().nodes.len() + 4
}

/// A driver that remembers which playback and timer are current, as a real one
/// would, and asserts the engine's side of the protocol on every event.
#[derive(Debug, Clone)]
pub struct Driver {
    pub flow: Flow,
    pub session: Session,
    pub playing: Option<u32>,
    pub timer: Option<u32>,
    /// Every id the engine handed out, for sending stale events.
    pub ids: Vec<u32>,
    /// Every command so far, in order.
    pub log: Vec<Command>,
}

impl Driver {
    pub fn start(flow: &Flow) -> (Driver, Vec<Command>) {
        let (session, commands) = Session::start(flow);
        let mut driver = Driver {
            flow: flow.clone(),
            session,
            playing: None,
            timer: None,
            ids: Vec::new(),
            log: Vec::new(),
        };
        driver.apply(&commands);
        (driver, commands)
    }

    /// Sends one event, checks every protocol rule, and returns the commands.
    pub fn send(&mut self, event: Event) -> Vec<Command> {
        let before = self.session.clone();
        let was_finished = before.is_finished();
        let stale = match event {
            Event::PlaybackFinished { id } => self.playing != Some(id),
            Event::TimerFired { id } => self.timer != Some(id),
            _ => false,
        };

        // Determinism: the pure form and the method agree, and twice is the same.
        let (pure_state, pure_commands) = step(&self.flow, &before, event.clone());
        let (again_state, again_commands) = step(&self.flow, &before, event.clone());
        assert_eq!(pure_state, again_state);
        assert_eq!(pure_commands, again_commands);
        let commands = self.session.handle(&self.flow, event.clone());
        assert_eq!(pure_state, self.session);
        assert_eq!(pure_commands, commands);

        assert!(
            commands.len() <= command_bound(&self.flow),
            "{} commands for one event: {commands:?}",
            commands.len()
        );
        if was_finished {
            assert!(commands.is_empty(), "commands after the end: {commands:?}");
            assert_eq!(before, self.session, "a finished session changed");
        }
        if stale || matches!(event, Event::Hangup) {
            assert!(commands.is_empty(), "{event:?} yielded {commands:?}");
        }
        if stale {
            assert_eq!(before, self.session, "stale {event:?} changed the session");
        }
        if let Event::Digit(key) = event
            && !before.takes_digits()
        {
            assert!(
                commands.is_empty(),
                "ignored key {key} yielded {commands:?}"
            );
        }
        if matches!(event, Event::Hangup) {
            assert!(self.session.is_finished());
        }

        // The playback or timer the event reports is over, whatever comes next.
        if !stale && !was_finished {
            match event {
                Event::PlaybackFinished { .. } => self.playing = None,
                Event::TimerFired { .. } => self.timer = None,
                _ => {}
            }
        }
        self.apply(&commands);
        if self.session.is_finished() {
            // The channel is gone or handed over; the driver drops what it holds.
            self.playing = None;
            self.timer = None;
        }
        // The session round-trips through serde, so the driver may persist it.
        let json = serde_json::to_string(&self.session).expect("session serializes");
        let back: Session = serde_json::from_str(&json).expect("session deserializes");
        assert_eq!(back, self.session);
        commands
    }

    fn apply(&mut self, commands: &[Command]) {
        for command in commands {
            match command {
                Command::Play { id, .. } | Command::StartTimer { id, .. } => {
                    assert_eq!(self.playing, None, "{command:?} while a prompt plays");
                    assert_eq!(self.timer, None, "{command:?} while a timer runs");
                    if let Some(last) = self.ids.last() {
                        assert!(id > last, "id {id} after {last}");
                    }
                    self.ids.push(*id);
                    if matches!(command, Command::Play { .. }) {
                        self.playing = Some(*id);
                    } else {
                        self.timer = Some(*id);
                    }
                }
                Command::StopPlayback { id } => {
                    assert_eq!(self.playing, Some(*id), "{command:?}");
                    self.playing = None;
                }
                Command::CancelTimer { id } => {
                    assert_eq!(self.timer, Some(*id), "{command:?}");
                    self.timer = None;
                }
                Command::Run(_) => {}
                Command::Transfer { .. } | Command::Hangup => {
                    assert_eq!(self.playing, None, "{command:?} while a prompt plays");
                    assert_eq!(self.timer, None, "{command:?} while a timer runs");
                    assert!(self.session.is_finished());
                }
            }
        }
        if !self.session.is_finished() {
            assert!(
                self.playing.is_some() != self.timer.is_some(),
                "a live session must wait on exactly one thing: {commands:?}"
            );
        }
        self.log.extend(commands.iter().cloned());
    }

    /// Finishes the current playback, if any.
    pub fn finish(&mut self) -> Vec<Command> {
        match self.playing {
            Some(id) => self.send(Event::PlaybackFinished { id }),
            None => Vec::new(),
        }
    }

    /// Fires the current timer, if any.
    pub fn fire(&mut self) -> Vec<Command> {
        match self.timer {
            Some(id) => self.send(Event::TimerFired { id }),
            None => Vec::new(),
        }
    }

    pub fn press(&mut self, key: char) -> Vec<Command> {
        self.send(Event::Digit(key))
    }

    /// Finishes playbacks until the engine waits for a key or ends.
    pub fn play_out(&mut self) -> Vec<Command> {
        let mut all = Vec::new();
        for _ in 0..1000 {
            if self.playing.is_none() {
                return all;
            }
            all.extend(self.finish());
        }
        panic!("prompts never stopped: {all:?}");
    }
}

/// Renders commands the way transcripts in tests spell them.
pub fn render(command: &Command) -> String {
    match command {
        Command::Play { id, prompt } => format!("play#{id} {prompt}"),
        Command::StopPlayback { id } => format!("stop#{id}"),
        Command::StartTimer { id, seconds } => format!("timer#{id} {seconds}s"),
        Command::CancelTimer { id } => format!("cancel#{id}"),
        Command::Run(action) => {
            format!("run {}", serde_json::to_string(action).unwrap_or_default())
        }
        Command::Transfer { to } => format!("transfer {to}"),
        Command::Hangup => "hangup".to_owned(),
    }
}

/// Runs a script against a flow and compares the transcript.
///
/// The script is words separated by spaces: `done` finishes the current playback,
/// `time` fires the current timer, `hangup` is the caller hanging up, `stale` sends
/// a finished event for the first id ever used, and anything else is pressed as
/// keys. The transcript starts with what `Session::start` said, then `> word` and
/// the commands for each word.
pub fn check(flow: &Flow, script: &str, expected: &str) {
    let (mut driver, commands) = Driver::start(flow);
    let mut transcript: Vec<String> = commands.iter().map(render).collect();
    for word in script.split_whitespace() {
        transcript.push(format!("> {word}"));
        let commands = match word {
            "done" => driver.finish(),
            "time" => driver.fire(),
            "hangup" => driver.send(Event::Hangup),
            "stale" => driver.send(Event::PlaybackFinished { id: 1 }),
            keys => keys.chars().flat_map(|key| driver.press(key)).collect(),
        };
        transcript.extend(commands.iter().map(render));
    }
    let actual = transcript.join("\n");
    let expected = expected
        .trim()
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        actual, expected,
        "\n--- actual ---\n{actual}\n--- expected ---\n{expected}\n"
    );
}

// ---------------------------------------------------------------------------
// Random valid flows.

#[derive(Debug, Clone)]
pub enum RawAction {
    SendSms(Option<u8>),
    Transfer,
    Blacklist,
    Donate(bool),
    EndCall,
    Goto(usize),
}

#[derive(Debug, Clone)]
pub struct RawWait {
    seconds: u32,
    retries: u32,
    then: usize,
}

#[derive(Debug, Clone)]
pub enum RawNode {
    Play {
        prompts: usize,
        next: Option<usize>,
    },
    Menu {
        prompts: usize,
        keys: Vec<(char, usize)>,
        timeout: RawWait,
        invalid: RawWait,
    },
    Capture {
        prompts: usize,
        variable: u8,
        min_length: u32,
        extra_length: u32,
        star: bool,
        timeout: RawWait,
        invalid: RawWait,
        next: usize,
    },
    Action {
        action: RawAction,
        next: Option<usize>,
    },
}

fn raw_wait() -> impl Strategy<Value = RawWait> {
    (1..=60u32, 0..=3u32, any::<usize>()).prop_map(|(seconds, retries, then)| RawWait {
        seconds,
        retries,
        then,
    })
}

fn raw_node() -> impl Strategy<Value = RawNode> {
    let target = any::<usize>();
    prop_oneof![
        1 => (1..=3usize, proptest::option::of(target))
            .prop_map(|(prompts, next)| RawNode::Play { prompts, next }),
        3 => (
            1..=3usize,
            prop::collection::vec((prop::sample::select(PHONE_KEYS), target), 1..6),
            raw_wait(),
            raw_wait()
        )
            .prop_map(|(prompts, keys, timeout, invalid)| RawNode::Menu {
                prompts,
                keys,
                timeout,
                invalid
            }),
        1 => (
            1..=2usize,
            0..3u8,
            1..=4u32,
            0..=3u32,
            any::<bool>(),
            raw_wait(),
            raw_wait(),
            target
        )
            .prop_map(
                |(prompts, variable, min_length, extra_length, star, timeout, invalid, next)| {
                    RawNode::Capture {
                        prompts,
                        variable,
                        min_length,
                        extra_length,
                        star,
                        timeout,
                        invalid,
                        next,
                    }
                }
            ),
        3 => (
            prop_oneof![
                1 => proptest::option::of(0..3u8).prop_map(RawAction::SendSms),
                1 => Just(RawAction::Transfer),
                2 => Just(RawAction::Blacklist),
                2 => any::<bool>().prop_map(RawAction::Donate),
                1 => Just(RawAction::EndCall),
                1 => target.prop_map(RawAction::Goto),
            ],
            proptest::option::of(target)
        )
            .prop_map(|(action, next)| RawNode::Action { action, next }),
    ]
}

/// Random flows that are valid by construction: raw nodes pointing anywhere, then
/// repaired the way an operator would (a node that cannot end the call gets a way
/// out to `end`), then pruned of what the start cannot reach.
pub fn valid_flow() -> impl Strategy<Value = Flow> {
    prop::collection::vec(raw_node(), 1..10).prop_map(|raw| build_flow(&raw))
}

fn name(index: usize, count: usize) -> String {
    // One more than the raw nodes: the last index is always `end`.
    let index = index % (count + 1);
    if index == count {
        "end".to_owned()
    } else {
        format!("n{index}")
    }
}

fn wait(raw: &RawWait, prompt: &str, count: usize) -> (u32, String, u32, String) {
    (
        raw.seconds,
        prompt.to_owned(),
        raw.retries,
        name(raw.then, count),
    )
}

pub fn build_flow(raw: &[RawNode]) -> Flow {
    let count = raw.len();
    let mut nodes: Vec<(String, Node)> = raw
        .iter()
        .enumerate()
        .map(|(index, node)| {
            let id = format!("n{index}");
            let prompts = |n: usize| (0..n).map(|p| format!("{id}-p{p}")).collect::<Vec<_>>();
            let node = match node {
                RawNode::Play { prompts: n, next } => Node::Play {
                    prompts: prompts(*n),
                    next: next.map(|next| name(next, count)),
                },
                RawNode::Menu {
                    prompts: n,
                    keys,
                    timeout,
                    invalid,
                } => {
                    let mut seen = BTreeSet::new();
                    let keys = keys
                        .iter()
                        .filter(|(key, _)| seen.insert(*key))
                        .map(|(key, target)| (key.to_string(), name(*target, count)))
                        .collect();
                    let (seconds, prompt, retries, then) = wait(timeout, "no-input", count);
                    let (_, invalid_prompt, invalid_retries, invalid_then) =
                        wait(invalid, "invalid", count);
                    Node::Menu {
                        prompts: prompts(*n),
                        keys,
                        timeout: Some(Timeout {
                            seconds,
                            prompt,
                            retries,
                            then,
                        }),
                        invalid: Some(Invalid {
                            prompt: invalid_prompt,
                            retries: invalid_retries,
                            then: invalid_then,
                        }),
                    }
                }
                RawNode::Capture {
                    prompts: n,
                    variable,
                    min_length,
                    extra_length,
                    star,
                    timeout,
                    invalid,
                    next,
                } => {
                    let (seconds, prompt, retries, then) = wait(timeout, "no-input", count);
                    let (_, invalid_prompt, invalid_retries, invalid_then) =
                        wait(invalid, "invalid", count);
                    Node::Capture {
                        prompts: prompts(*n),
                        variable: format!("v{variable}"),
                        min_length: *min_length,
                        max_length: min_length + extra_length,
                        terminator: if *star { "*" } else { "#" }.to_owned(),
                        inter_digit_seconds: seconds.min(10),
                        timeout: Some(Timeout {
                            seconds,
                            prompt,
                            retries,
                            then,
                        }),
                        invalid: Some(Invalid {
                            prompt: invalid_prompt,
                            retries: invalid_retries,
                            then: invalid_then,
                        }),
                        next: Some(name(*next, count)),
                    }
                }
                RawNode::Action { action, next } => {
                    let next = next.map(|next| name(next, count));
                    let (action, next) = match action {
                        RawAction::SendSms(template) => (
                            ActionSpec::SendSms {
                                template: template.map(|t| format!("sms{t}")),
                            },
                            next,
                        ),
                        RawAction::Transfer => (
                            ActionSpec::Transfer {
                                to: "03-6123456".to_owned(),
                            },
                            None,
                        ),
                        RawAction::Blacklist => (ActionSpec::Blacklist {}, next),
                        RawAction::Donate(with_amount) => (
                            ActionSpec::Donate {
                                amount_variable: with_amount.then(|| "v0".to_owned()),
                            },
                            next,
                        ),
                        RawAction::EndCall => (ActionSpec::EndCall {}, None),
                        RawAction::Goto(target) => (
                            ActionSpec::Goto {
                                target: name(*target, count),
                            },
                            None,
                        ),
                    };
                    Node::Action { action, next }
                }
            };
            (id, node)
        })
        .collect();
    nodes.push((
        "end".to_owned(),
        Node::Action {
            action: ActionSpec::EndCall {},
            next: None,
        },
    ));

    repair_loops(&mut nodes);
    let nodes = prune_unreachable(nodes, "n0");

    let captured: BTreeSet<String> = nodes
        .iter()
        .filter_map(|(_, node)| match node {
            Node::Capture { variable, .. } => Some(variable.clone()),
            _ => None,
        })
        .collect();
    let nodes = nodes
        .into_iter()
        .map(|(id, mut node)| {
            if let Node::Action {
                action: ActionSpec::Donate { amount_variable },
                ..
            } = &mut node
                && amount_variable
                    .as_ref()
                    .is_some_and(|v| !captured.contains(v))
            {
                *amount_variable = None;
            }
            (id, node)
        })
        .collect();

    let definition = FlowDefinition {
        version: 1,
        name: "generated".to_owned(),
        start: "n0".to_owned(),
        nodes: OrderedMap(nodes),
    };
    match Flow::new(definition.clone()) {
        Ok(flow) => flow,
        Err(errors) => panic!("generated flow is invalid: {errors}\n{definition:#?}"),
    }
}

fn targets(node: &Node) -> Vec<String> {
    node.edges()
        .into_iter()
        .map(|(_, target)| target.to_owned())
        .collect()
}

/// Gives every node from which the call cannot end a way out to `end`.
fn repair_loops(nodes: &mut [(String, Node)]) {
    let mut can_end: BTreeSet<String> = BTreeSet::new();
    loop {
        let before = can_end.len();
        for (id, node) in nodes.iter() {
            if node.is_terminal() || targets(node).iter().any(|t| can_end.contains(t)) {
                can_end.insert(id.clone());
            }
        }
        if can_end.len() == before {
            break;
        }
    }
    for (id, node) in nodes.iter_mut() {
        if can_end.contains(id) {
            continue;
        }
        match node {
            Node::Play { next, .. } => *next = None,
            Node::Menu { timeout, .. } => {
                if let Some(timeout) = timeout {
                    timeout.then = "end".to_owned();
                }
            }
            Node::Capture { next, .. } => *next = Some("end".to_owned()),
            Node::Action { action, next } => {
                if let ActionSpec::Goto { target } = action {
                    *target = "end".to_owned();
                } else {
                    *next = None;
                }
            }
        }
    }
}

fn prune_unreachable(nodes: Vec<(String, Node)>, start: &str) -> Vec<(String, Node)> {
    let mut reached = BTreeSet::from([start.to_owned()]);
    let mut queue = vec![start.to_owned()];
    while let Some(id) = queue.pop() {
        if let Some((_, node)) = nodes.iter().find(|(name, _)| *name == id) {
            for target in targets(node) {
                if reached.insert(target.clone()) {
                    queue.push(target);
                }
            }
        }
    }
    nodes
        .into_iter()
        .filter(|(id, _)| reached.contains(id))
        .collect()
}

/// One step of a random caller and a random, sloppy driver.
#[derive(Debug, Clone)]
pub enum RawEvent {
    Finish,
    Fire,
    Key(char),
    /// A finished or fired event for some id the engine used before (or never).
    Stale {
        timer: bool,
        pick: usize,
    },
    /// A key outside the keypad, which drivers should not send but might.
    Junk(char),
    Hangup,
}

pub fn raw_events(max: usize) -> impl Strategy<Value = Vec<RawEvent>> {
    prop::collection::vec(
        prop_oneof![
            6 => Just(RawEvent::Finish),
            3 => Just(RawEvent::Fire),
            6 => prop::sample::select(PHONE_KEYS).prop_map(RawEvent::Key),
            3 => (any::<bool>(), any::<usize>())
                .prop_map(|(timer, pick)| RawEvent::Stale { timer, pick }),
            1 => prop::sample::select(vec!['a', 'A', ' ', '\0', 'é', '+']).prop_map(RawEvent::Junk),
            1 => Just(RawEvent::Hangup),
        ],
        0..max,
    )
}

impl Driver {
    /// Turns a raw event into a concrete one for the driver's current state.
    pub fn concrete(&self, raw: &RawEvent) -> Event {
        match raw {
            RawEvent::Finish => Event::PlaybackFinished {
                id: self.playing.unwrap_or(0),
            },
            RawEvent::Fire => Event::TimerFired {
                id: self.timer.unwrap_or(0),
            },
            RawEvent::Key(key) | RawEvent::Junk(key) => Event::Digit(*key),
            RawEvent::Stale { timer, pick } => {
                // Ids used before, plus one never used: all stale unless it is the
                // current one, which `send` tells apart.
                let id = if self.ids.is_empty() {
                    7
                } else {
                    self.ids[pick % self.ids.len()]
                };
                if *timer {
                    Event::TimerFired { id }
                } else {
                    Event::PlaybackFinished { id }
                }
            }
            RawEvent::Hangup => Event::Hangup,
        }
    }
}
