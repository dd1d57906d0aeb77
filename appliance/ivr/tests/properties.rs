//! Properties of the interpreter, each checked over generated flows and callers.
//! Property numbers are the ones in the IVR specification (issue 4).
//!
//! Every event goes through `support::Driver::send`, which itself checks the
//! protocol on each step: determinism of `step`, stale events changing nothing,
//! one playback or timer at a time, increasing ids, bounded commands per event,
//! silence after the end, and the session surviving a serde round trip.

mod support;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use shofar_ivr::{
    Action, ActionSpec, Command, Ended, Event, Flow, FlowDefinition, Invalid, Node, OrderedMap,
    Timeout, step,
};
use support::{Driver, RawEvent, raw_events, valid_flow};

fn run_kind(action: &Action) -> &'static str {
    match action {
        Action::SendSms { .. } => "send_sms",
        Action::Blacklist => "blacklist",
        Action::Donate { .. } => "donate",
    }
}

/// The actions entering `target` runs, read straight off the definition.
fn expected_runs(flow: &Flow, target: &str) -> Vec<&'static str> {
    let mut kinds = Vec::new();
    let mut at = target.to_owned();
    for _ in 0..=flow.nodes().count() {
        let Some(Node::Action { action, next }) = flow.node(&at) else {
            break;
        };
        match action {
            ActionSpec::Goto { target } => {
                at.clone_from(target);
                continue;
            }
            ActionSpec::Transfer { .. } | ActionSpec::EndCall {} => break,
            ActionSpec::SendSms { .. } | ActionSpec::Blacklist {} | ActionSpec::Donate { .. } => {
                kinds.push(action.kind());
            }
        }
        match next {
            Some(next) => at.clone_from(next),
            None => break,
        }
    }
    kinds
}

fn runs(commands: &[Command]) -> Vec<&'static str> {
    commands
        .iter()
        .filter_map(|command| match command {
            Command::Run(action) => Some(run_kind(action)),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Property 15: each press of a mapped menu key whose target is an action node
    /// runs that action (and the chain of actions after it) exactly once, before
    /// anything else, however many stale or duplicated events the driver mixes in.
    /// Along the way: any caller, any driver, never a panic; a hangup always ends
    /// the session.
    #[test]
    fn property_15_a_mapped_key_runs_its_action_exactly_once(
        flow in valid_flow(),
        events in raw_events(60),
    ) {
        let (mut driver, _) = Driver::start(&flow);
        for raw in &events {
            let event = driver.concrete(raw);
            let before = driver.session.clone();
            let commands = driver.send(event.clone());
            let Event::Digit(key) = event else { continue };
            if !before.takes_digits() {
                continue;
            }
            let Some(Node::Menu { keys, .. }) = flow.node(before.current_node()) else {
                continue;
            };
            let Some(target) = keys.get(&key.to_string()) else {
                prop_assert!(runs(&commands).is_empty());
                continue;
            };
            let expected = expected_runs(&flow, target);
            prop_assert_eq!(runs(&commands), expected.clone(), "{:?}", commands);
            // The actions come first, then the stop of what the key interrupted.
            prop_assert!(commands[..expected.len()].iter().all(|c| matches!(c, Command::Run(_))));
            let interrupted = matches!(
                commands.get(expected.len()),
                Some(Command::StopPlayback { .. } | Command::CancelTimer { .. })
            );
            prop_assert!(interrupted, "{:?}", commands);
        }
        // The trace agrees with what the driver was told.
        let told: Vec<_> = driver
            .log
            .iter()
            .filter_map(|command| match command {
                Command::Run(action) => Some(action.clone()),
                _ => None,
            })
            .collect();
        prop_assert_eq!(&driver.session.trace().actions, &told);

        driver.send(Event::Hangup);
        prop_assert!(driver.session.is_finished());
        prop_assert!(driver.session.trace().ended.is_some());
        // Nothing happens after the end, whatever arrives.
        for raw in &events {
            let event = driver.concrete(raw);
            prop_assert!(driver.send(event).is_empty());
        }
    }

    /// Determinism: `step` is a function of the state and the event; two calls,
    /// and a call on a clone, agree exactly.
    #[test]
    fn determinism_same_state_and_event_give_the_same_result(
        flow in valid_flow(),
        events in raw_events(40),
        probe in raw_events(8),
    ) {
        let (mut driver, _) = Driver::start(&flow);
        for raw in &events {
            let event = driver.concrete(raw);
            driver.send(event);
            for raw in &probe {
                let event = driver.concrete(raw);
                let state = driver.session.clone();
                let first = step(&flow, &state, event.clone());
                let second = step(&flow, &state.clone(), event);
                prop_assert_eq!(&state, &driver.session, "step changed its input");
                prop_assert_eq!(first, second);
            }
        }
    }

    /// With no input at all, a session only plays and waits: each event yields a
    /// bounded number of commands, and a flow whose no-input paths end does end.
    #[test]
    fn no_input_never_runs_away(flow in valid_flow()) {
        let (mut driver, _) = Driver::start(&flow);
        for _ in 0..500 {
            if driver.session.is_finished() {
                break;
            }
            if driver.playing.is_some() {
                driver.finish();
            } else {
                driver.fire();
            }
        }
        // Whether it ended or loops through timeouts forever (a flow may do that
        // on purpose), `send` checked every event's command count.
    }
}

// ---------------------------------------------------------------------------
// Properties 16 and 18: retries of one menu.

/// A caller's misstep in the menu.
#[derive(Debug, Clone)]
enum Misstep {
    /// Presses nothing until the timer fires.
    Silence,
    /// Presses an unmapped key after `moment` playbacks of the round finished.
    WrongKey { moment: usize },
}

fn retry_flow(prompt_count: usize, timeout_retries: u32, invalid_retries: u32) -> Flow {
    let nodes = vec![
        (
            "main".to_owned(),
            Node::Menu {
                prompts: (0..prompt_count).map(|p| format!("menu-{p}")).collect(),
                keys: OrderedMap(vec![("1".to_owned(), "after".to_owned())]),
                timeout: Some(Timeout {
                    seconds: 7,
                    prompt: "no-input".to_owned(),
                    retries: timeout_retries,
                    then: "after".to_owned(),
                }),
                invalid: Some(Invalid {
                    prompt: "invalid".to_owned(),
                    retries: invalid_retries,
                    then: "after".to_owned(),
                }),
            },
        ),
        (
            "after".to_owned(),
            Node::Play {
                prompts: vec!["after".to_owned()],
                next: None,
            },
        ),
    ];
    Flow::new(FlowDefinition {
        version: 1,
        name: "retries".to_owned(),
        start: "main".to_owned(),
        nodes: OrderedMap(nodes),
    })
    .unwrap_or_else(|errors| panic!("{errors}"))
}

fn plays(commands: &[Command]) -> Vec<String> {
    commands
        .iter()
        .filter_map(|command| match command {
            Command::Play { prompt, .. } => Some(prompt.clone()),
            _ => None,
        })
        .collect()
}

/// Drives the menu through `missteps` (then silence until it gives up) and checks
/// every prompt against a model of the retry rules: an error prompt, then the
/// menu's prompts again while retries remain, separate counters for timeouts and
/// wrong keys, and `then` once a counter is used up.
fn check_retries(
    prompt_count: usize,
    timeout_retries: u32,
    invalid_retries: u32,
    missteps: &[Misstep],
) -> Result<(), TestCaseError> {
    let flow = retry_flow(prompt_count, timeout_retries, invalid_retries);
    let prompts: Vec<String> = (0..prompt_count).map(|p| format!("menu-{p}")).collect();
    let (mut driver, _) = Driver::start(&flow);

    let mut expected: Vec<String> = Vec::new();
    let (mut timeouts_used, mut invalids_used) = (0, 0);
    let mut notice: Option<&str> = None;
    let silence_forever = std::iter::repeat(Misstep::Silence);
    for misstep in missteps.iter().cloned().chain(silence_forever).take(100) {
        let round: Vec<String> = notice
            .iter()
            .map(|n| n.to_string())
            .chain(prompts.iter().cloned())
            .collect();
        let (used, retries, error_prompt) = match misstep {
            Misstep::Silence => {
                expected.extend(round.iter().cloned());
                driver.play_out();
                let commands = driver.fire();
                prop_assert_eq!(commands.len(), 1, "{:?}", commands);
                (&mut timeouts_used, timeout_retries, "no-input")
            }
            Misstep::WrongKey { moment } => {
                let moment = moment % (round.len() + 1);
                expected.extend(round.iter().take(moment + 1).cloned());
                for _ in 0..moment {
                    driver.finish();
                }
                let interrupted = if moment < round.len() {
                    Command::StopPlayback {
                        id: driver.playing.unwrap_or_default(),
                    }
                } else {
                    Command::CancelTimer {
                        id: driver.timer.unwrap_or_default(),
                    }
                };
                let commands = driver.press('5');
                prop_assert_eq!(commands.first(), Some(&interrupted));
                prop_assert_eq!(commands.len(), 2, "{:?}", commands);
                (&mut invalids_used, invalid_retries, "invalid")
            }
        };
        if *used < retries {
            *used += 1;
            notice = Some(error_prompt);
        } else {
            expected.push(error_prompt.to_owned());
            expected.push("after".to_owned());
            driver.play_out();
            break;
        }
    }
    prop_assert_eq!(plays(&driver.log), expected);
    prop_assert_eq!(driver.log.last(), Some(&Command::Hangup));
    prop_assert_eq!(driver.session.ended(), Some(&Ended::HangupByFlow));
    prop_assert_eq!(driver.session.trace().last_node(), Some("after"));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Property 16: an unmapped key, pressed during any prompt or while waiting,
    /// plays the invalid prompt and then the menu again, until the retries are
    /// used up and `invalid.then` runs.
    #[test]
    fn property_16_an_unmapped_key_plays_invalid_then_the_menu_again(
        prompt_count in 1..=3usize,
        retries in 0..=10u32,
        moments in prop::collection::vec(any::<usize>(), 11),
    ) {
        let missteps: Vec<_> = moments
            .into_iter()
            .map(|moment| Misstep::WrongKey { moment })
            .collect();
        check_retries(prompt_count, 10, retries, &missteps)?;
    }

    /// Property 18: no input plays the timeout prompt and then the menu again,
    /// and after the retries `timeout.then` runs. With `retries: 2` the menu plays
    /// three times.
    #[test]
    fn property_18_no_input_times_out_retries_then_goes_on(
        prompt_count in 1..=3usize,
        retries in 0..=10u32,
    ) {
        check_retries(prompt_count, retries, 10, &[])?;
    }

    /// Properties 16 and 18 together: the two counters are separate.
    #[test]
    fn properties_16_and_18_count_timeouts_and_wrong_keys_separately(
        prompt_count in 1..=3usize,
        timeout_retries in 0..=4u32,
        invalid_retries in 0..=4u32,
        missteps in prop::collection::vec(
            prop_oneof![
                Just(Misstep::Silence),
                any::<usize>().prop_map(|moment| Misstep::WrongKey { moment }),
            ],
            0..12,
        ),
    ) {
        check_retries(prompt_count, timeout_retries, invalid_retries, &missteps)?;
    }
}

#[test]
fn retries_2_plays_the_menu_three_times() {
    let flow = retry_flow(1, 2, 2);
    let (mut driver, _) = Driver::start(&flow);
    for _ in 0..3 {
        driver.play_out();
        driver.fire();
    }
    driver.play_out();
    assert_eq!(
        plays(&driver.log),
        [
            "menu-0", "no-input", "menu-0", "no-input", "menu-0", "no-input", "after"
        ]
    );
}

// ---------------------------------------------------------------------------
// Property 17: menu trees.

#[derive(Debug, Clone)]
enum Tree {
    Leaf,
    Menu(Vec<(char, Tree)>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let keys = prop::sample::select(shofar_ivr::PHONE_KEYS);
    let children = move |inner: BoxedStrategy<Tree>| {
        prop::collection::vec((keys.clone(), inner), 1..5).prop_map(|children| {
            // A key maps once; keep the first child for each.
            let mut seen = std::collections::BTreeSet::new();
            Tree::Menu(
                children
                    .into_iter()
                    .filter(|(key, _)| seen.insert(*key))
                    .collect(),
            )
        })
    };
    // The root is a menu and the recursion adds up to three more levels: depth 4.
    let inner = Just(Tree::Leaf).prop_recursive(3, 40, 4, move |inner| {
        prop_oneof![Just(Tree::Leaf), children.clone()(inner.boxed())]
    });
    let keys = prop::sample::select(shofar_ivr::PHONE_KEYS);
    prop::collection::vec((keys, inner), 1..5).prop_map(|children| {
        let mut seen = std::collections::BTreeSet::new();
        Tree::Menu(
            children
                .into_iter()
                .filter(|(key, _)| seen.insert(*key))
                .collect(),
        )
    })
}

/// One node per tree position, named by its key path: `m`, `m1`, `m1*`.
fn tree_nodes(id: &str, tree: &Tree, nodes: &mut Vec<(String, Node)>) {
    match tree {
        Tree::Leaf => nodes.push((
            id.to_owned(),
            Node::Play {
                prompts: vec![format!("leaf {id}")],
                next: None,
            },
        )),
        Tree::Menu(children) => {
            nodes.push((
                id.to_owned(),
                Node::Menu {
                    prompts: vec![format!("menu {id}"), "choose".to_owned()],
                    keys: children
                        .iter()
                        .map(|(key, _)| (key.to_string(), format!("{id}{key}")))
                        .collect(),
                    timeout: Some(Timeout {
                        seconds: 5,
                        prompt: "no-input".to_owned(),
                        retries: 1,
                        then: "bye".to_owned(),
                    }),
                    invalid: Some(Invalid {
                        prompt: "invalid".to_owned(),
                        retries: 1,
                        then: "bye".to_owned(),
                    }),
                },
            ));
            for (key, child) in children {
                tree_nodes(&format!("{id}{key}"), child, nodes);
            }
        }
    }
}

fn tree_flow(tree: &Tree) -> Flow {
    let mut nodes = Vec::new();
    tree_nodes("m", tree, &mut nodes);
    nodes.push((
        "bye".to_owned(),
        Node::Action {
            action: ActionSpec::EndCall {},
            next: None,
        },
    ));
    Flow::new(FlowDefinition {
        version: 1,
        name: "tree".to_owned(),
        start: "m".to_owned(),
        nodes: OrderedMap(nodes),
    })
    .unwrap_or_else(|errors| panic!("{errors}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Property 17: in a menu tree up to four levels deep, a path of keys, each
    /// pressed at any moment of its menu, arrives exactly at the node the
    /// definition says, and that node's prompt is what plays.
    #[test]
    fn property_17_a_key_path_navigates_to_the_node_the_definition_says(
        tree in tree(),
        choices in prop::collection::vec((any::<usize>(), 0..=2usize), 1..6),
    ) {
        let flow = tree_flow(&tree);
        let (mut driver, _) = Driver::start(&flow);
        let mut at = &tree;
        let mut id = "m".to_owned();
        for (choice, moment) in choices {
            let Tree::Menu(children) = at else { break };
            let (key, child) = &children[choice % children.len()];
            for _ in 0..moment {
                driver.finish();
            }
            let commands = driver.press(*key);
            id.push(*key);
            at = child;
            prop_assert_eq!(driver.session.current_node(), id.as_str());
            let expected_prompt = match at {
                Tree::Leaf => format!("leaf {id}"),
                Tree::Menu(_) => format!("menu {id}"),
            };
            prop_assert_eq!(plays(&commands), vec![expected_prompt]);
        }
        if matches!(at, Tree::Leaf) {
            prop_assert_eq!(driver.finish(), vec![Command::Hangup]);
        }
    }
}

// ---------------------------------------------------------------------------
// Property 12: opting out in the default flow.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Property 12: in the default flow, 9 pressed at any moment of the main menu
    /// (during either prompt, while waiting, after timeouts and wrong keys, with
    /// stale events from the driver in between) runs the blacklist first, then
    /// stops what played, then plays the confirmation, then hangs up; the
    /// blacklist runs once.
    #[test]
    fn property_12_nine_in_the_default_flow_blacklists_first_and_once(
        missteps in prop::collection::vec((any::<bool>(), any::<usize>(), any::<bool>()), 0..4),
        moment in 0..=4usize,
        stale_after in any::<bool>(),
    ) {
        let flow = Flow::default_flow();
        let (mut driver, _) = Driver::start(&flow);
        let (mut timeouts, mut wrong_keys) = (0, 0);
        let stale = |driver: &mut Driver| {
            let current = [driver.playing, driver.timer];
            if let Some(&old) = driver.ids.iter().find(|id| !current.contains(&Some(**id))) {
                driver.send(Event::PlaybackFinished { id: old });
                driver.send(Event::TimerFired { id: old });
            }
        };
        // Retries are 2 for each; stay within them so the menu is still there.
        for (silence, moment, with_stale) in missteps {
            if silence && timeouts < 2 {
                timeouts += 1;
                driver.play_out();
                driver.fire();
            } else if !silence && wrong_keys < 2 {
                wrong_keys += 1;
                for _ in 0..moment % 4 {
                    driver.finish();
                }
                driver.press('5');
            }
            if with_stale {
                stale(&mut driver);
            }
        }
        for _ in 0..moment {
            driver.finish();
        }
        prop_assert!(driver.session.takes_digits());
        prop_assert_eq!(driver.session.current_node(), "main");
        let interrupted = match (driver.playing, driver.timer) {
            (Some(id), _) => Command::StopPlayback { id },
            (None, Some(id)) => Command::CancelTimer { id },
            (None, None) => return Err(TestCaseError::fail("nothing is current")),
        };
        let commands = driver.press('9');
        prop_assert_eq!(commands.len(), 3, "{:?}", commands);
        prop_assert_eq!(&commands[0], &Command::Run(Action::Blacklist));
        prop_assert_eq!(&commands[1], &interrupted);
        let confirms =
            matches!(&commands[2], Command::Play { prompt, .. } if prompt == "optout-confirm");
        prop_assert!(confirms, "{:?}", commands);
        if stale_after {
            stale(&mut driver);
        }
        prop_assert_eq!(driver.finish(), vec![Command::Hangup]);
        let blacklists = driver
            .log
            .iter()
            .filter(|command| **command == Command::Run(Action::Blacklist))
            .count();
        prop_assert_eq!(blacklists, 1);
        prop_assert_eq!(&driver.session.trace().actions, &vec![Action::Blacklist]);
        prop_assert_eq!(driver.session.ended(), Some(&Ended::HangupByFlow));
    }
}

#[test]
fn raw_events_cover_every_kind() {
    // Keeps the generator honest: a change that stopped producing stale events
    // would quietly weaken property 15.
    let runner = &mut proptest::test_runner::TestRunner::deterministic();
    let mut seen = [false; 6];
    for _ in 0..50 {
        let events = raw_events(60).new_tree(runner).unwrap().current();
        for event in events {
            let index = match event {
                RawEvent::Finish => 0,
                RawEvent::Fire => 1,
                RawEvent::Key(_) => 2,
                RawEvent::Stale { .. } => 3,
                RawEvent::Junk(_) => 4,
                RawEvent::Hangup => 5,
            };
            seen[index] = true;
        }
    }
    assert_eq!(seen, [true; 6]);
}
