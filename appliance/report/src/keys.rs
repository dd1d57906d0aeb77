//! Keys pressed per menu: for each menu of a campaign's flow, how many callers
//! pressed each of its keys, pressed a key it does not have, or pressed nothing.
//!
//! A call record keeps the keys pressed in order (`dtmf`), not the menus they
//! were pressed in, so each answered call is replayed through the flow with the
//! IVR's own interpreter ([`shofar_ivr::Session`]): prompts are taken to play to
//! their end, and each key is given to the menu the caller is in when it is
//! pressed. A menu the replay is left waiting in when the keys run out counts
//! as "no key" (the caller timed out or hung up). Two things the record does not
//! keep are read the simple way: a key pressed while a `play` node was speaking
//! (the IVR ignored it) is given to the next menu, and a timeout that moved the
//! caller to another node is not followed. Both are rare in campaign flows,
//! whose menus start with the message itself.

use serde::{Deserialize, Serialize};
use shofar_ivr::{Command, Event, Flow, Node, Session};
use shofar_vocab::{CallOutcome, Stored};

use crate::model::CallRow;

/// One menu's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuKeys {
    /// The menu's node in the flow.
    pub menu: String,
    /// Times a caller was in the menu (each return counts again).
    pub reached: u64,
    /// Each key the menu offers, in the flow's order, and how many pressed it.
    pub keys: Vec<KeyCount>,
    /// Times the menu got a key it does not offer.
    pub invalid: u64,
    /// Times a caller left the menu without a key (timed out or hung up).
    pub no_key: u64,
}

/// A key and how many pressed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCount {
    pub key: String,
    /// Where the key leads (a node of the flow).
    pub leads_to: String,
    pub count: u64,
}

/// Counts keys per menu over calls, one at a time.
#[derive(Debug, Clone)]
pub struct KeyTally {
    flow: Flow,
    menus: Vec<MenuKeys>,
}

/// At most this many steps per call: a replay always ends.
const MAX_STEPS: usize = 10_000;

impl KeyTally {
    pub fn new(flow: Flow) -> KeyTally {
        let menus = flow
            .nodes()
            .filter_map(|(id, node)| match node {
                Node::Menu { keys, .. } => Some(MenuKeys {
                    menu: id.to_owned(),
                    reached: 0,
                    keys: keys
                        .iter()
                        .map(|(key, next)| KeyCount {
                            key: key.to_owned(),
                            leads_to: next.clone(),
                            count: 0,
                        })
                        .collect(),
                    invalid: 0,
                    no_key: 0,
                }),
                _ => None,
            })
            .collect();
        KeyTally { flow, menus }
    }

    fn menu(&mut self, id: &str) -> Option<&mut MenuKeys> {
        self.menus.iter_mut().find(|menu| menu.menu == id)
    }

    /// Replays one call. Calls that never reached the IVR (not answered, or
    /// answered by a machine) count nowhere.
    pub fn add(&mut self, row: &CallRow) {
        let answered = row.answered_at.is_some()
            && !matches!(
                row.outcome,
                Some(Stored::Known(CallOutcome::Voicemail))
                    | Some(Stored::Known(CallOutcome::Blacklisted))
            );
        if !answered {
            return;
        }
        let flow = self.flow.clone();
        let (mut session, commands) = Session::start(&flow);
        let mut playback = last_playback(&commands, None);
        let mut steps = 0;
        // Plays prompts to their end until the session listens or ends.
        let settle = |session: &mut Session, playback: &mut Option<u32>, steps: &mut usize| {
            while !session.is_finished() && !session.takes_digits() && *steps < MAX_STEPS {
                *steps += 1;
                let Some(id) = *playback else { break };
                let commands = session.handle(&flow, Event::PlaybackFinished { id });
                *playback = last_playback(&commands, None);
            }
        };
        let mut in_menu: Option<String> = None;
        for key in row.dtmf.chars() {
            settle(&mut session, &mut playback, &mut steps);
            if session.is_finished() || steps >= MAX_STEPS {
                break;
            }
            let node = session.current_node().to_owned();
            if let Some(Node::Menu { keys, .. }) = flow.node(&node) {
                let taken = keys.get(&key.to_string()).is_some();
                let first_visit = in_menu.as_deref() != Some(node.as_str());
                if let Some(menu) = self.menu(&node) {
                    if first_visit {
                        menu.reached += 1;
                    }
                    if taken {
                        if let Some(count) = menu.keys.iter_mut().find(|k| k.key == key.to_string())
                        {
                            count.count += 1;
                        }
                    } else {
                        menu.invalid += 1;
                    }
                }
                in_menu = if taken { None } else { Some(node) };
            } else {
                in_menu = None;
            }
            let commands = session.handle(&flow, Event::Digit(key));
            playback = last_playback(&commands, playback);
            steps += 1;
        }
        settle(&mut session, &mut playback, &mut steps);
        if !session.is_finished() && session.takes_digits() {
            let node = session.current_node().to_owned();
            let first_visit = in_menu.as_deref() != Some(node.as_str());
            if let Some(menu) = self.menu(&node) {
                if first_visit {
                    menu.reached += 1;
                }
                menu.no_key += 1;
            }
        }
    }

    /// The menus in the flow's order.
    pub fn finish(self) -> Vec<MenuKeys> {
        self.menus
    }
}

/// The playback the session now waits on: the last `Play` among `commands`, or
/// `before` when they start none.
fn last_playback(commands: &[Command], before: Option<u32>) -> Option<u32> {
    commands
        .iter()
        .rev()
        .find_map(|command| match command {
            Command::Play { id, .. } => Some(*id),
            _ => None,
        })
        .or(before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn answered(keys: &str) -> CallRow {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap();
        CallRow {
            call_id: format!("call-{keys}"),
            campaign_id: Some(1),
            number: "+972525551234".to_owned(),
            attempt: 1,
            outcome: Some(CallOutcome::Answered.into()),
            started_at: at,
            answered_at: Some(at),
            ended_at: Some(at),
            duration_ms: Some(60_000),
            talk_ms: Some(50_000),
            dtmf: keys.to_owned(),
            converted: false,
            opted_out: false,
            hangup_cause: None,
        }
    }

    fn counts(menu: &MenuKeys) -> Vec<(&str, u64)> {
        menu.keys
            .iter()
            .map(|k| (k.key.as_str(), k.count))
            .collect()
    }

    /// Issue 18, item 13: the built-in flow's main menu, over callers who
    /// pressed 1, 2 (then nothing), 9, an invalid 5 then 1, and nothing.
    #[test]
    fn keys_per_menu_of_the_default_flow() {
        let mut tally = KeyTally::new(Flow::default_flow());
        for keys in ["1", "2", "9", "51", "", "1"] {
            tally.add(&answered(keys));
        }
        let mut busy = answered("9");
        busy.outcome = Some(CallOutcome::Busy.into());
        busy.answered_at = None;
        tally.add(&busy);
        let menus = tally.finish();
        assert_eq!(menus.len(), 1);
        let main = &menus[0];
        assert_eq!(main.menu, "main");
        assert_eq!(counts(main), [("1", 3), ("2", 1), ("9", 1), ("0", 0)]);
        assert_eq!(main.invalid, 1);
        // "2" hears the information and comes back to the menu, then leaves it
        // without a key; "" never pressed.
        assert_eq!(main.no_key, 2);
        assert_eq!(main.reached, 7);
    }

    #[test]
    fn endless_and_hostile_keys_end() {
        let mut tally = KeyTally::new(Flow::default_flow());
        tally.add(&answered(&"0".repeat(5_000)));
        tally.add(&answered("x*#"));
        let menus = tally.finish();
        assert!(menus[0].keys.iter().any(|k| k.key == "0" && k.count > 0));
    }
}
