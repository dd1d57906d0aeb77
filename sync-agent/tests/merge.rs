//! The merged do-not-call list (`shofar_sync::merge`): its guarantee, checked on
//! random histories of additions and removals over a few real Israeli numbers, so
//! that numbers and tags collide often.
//!
//! Seed property 13 (do-not-call changes take effect for running campaigns
//! immediately) rests on two parts here: every box computes the same list whatever
//! order the changes reach it in, and the box's own list, kept from the `Change`
//! stream as the changes arrive, is that list at every step.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use proptest::sample::Index;
use shofar_phone::E164;
use shofar_sync::merge::{Change, OrSet};
use shofar_sync::wire::{AddOp, AddSource, DncOp, Name, RemoveOp};

/// Mobiles and landlines as libphonenumber accepts them.
const NUMBERS: &[&str] = &[
    "+972525551234",
    "+972545551234",
    "+97236123456",
    "+97226234567",
    "+972548123456",
];

/// Box opt-outs of two boxes and central additions.
const TAGS: &[&str] = &[
    "tel-aviv:1",
    "tel-aviv:2",
    "tel-aviv:3",
    "haifa:1",
    "haifa:7",
    "central:0123456789abcdef0123456789abcdef",
    "central:fedcba9876543210fedcba9876543210",
];

fn number(index: usize) -> E164 {
    NUMBERS[index].parse().expect("a valid number")
}

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 2, 9, minute, 0).unwrap()
}

fn add(number_index: usize, tag: &str, minute: u32) -> DncOp {
    let source = if tag.starts_with("central:") {
        AddSource::Central
    } else {
        AddSource::UserOptout
    };
    DncOp::Add(AddOp {
        tag: tag.to_owned(),
        e164: NUMBERS[number_index].to_owned(),
        reason: "pressed 9".to_owned(),
        source,
        at: shofar_sync::wire::rfc3339(at(minute)),
        by: "ivr".to_owned(),
    })
}

fn remove(number_index: usize, tags: &[&str], minute: u32) -> DncOp {
    DncOp::Remove(RemoveOp::new(
        number(number_index),
        tags.iter().map(|tag| (*tag).to_owned()).collect(),
        "asked to be called again",
        at(minute),
        "central:dana",
    ))
}

fn op() -> impl Strategy<Value = DncOp> {
    let numbers = 0..NUMBERS.len();
    prop_oneof![
        3 => (numbers.clone(), prop::sample::select(TAGS), 0..3u32)
            .prop_map(|(n, tag, minute)| add(n, tag, minute)),
        2 => (numbers, prop::sample::subsequence(TAGS, 1..4), 0..3u32)
            .prop_map(|(n, tags, minute)| remove(n, &tags, minute)),
    ]
}

fn ops() -> impl Strategy<Value = Vec<DncOp>> {
    prop::collection::vec(op(), 0..40)
}

/// `ops`, and the same operations shuffled with some of them repeated.
fn ops_and_reordering() -> impl Strategy<Value = (Vec<DncOp>, Vec<DncOp>)> {
    (ops(), prop::collection::vec(any::<Index>(), 0..15)).prop_flat_map(|(ops, repeats)| {
        let mut again = ops.clone();
        if !ops.is_empty() {
            again.extend(
                repeats
                    .iter()
                    .map(|index| ops[index.index(ops.len())].clone()),
            );
        }
        (Just(ops), Just(again).prop_shuffle())
    })
}

fn merged(ops: &[DncOp]) -> OrSet {
    let mut set = OrSet::new();
    for op in ops {
        set.apply(op);
    }
    set
}

fn listed(set: &OrSet) -> Vec<E164> {
    set.listed().map(|(e164, _)| e164).collect()
}

proptest! {
    /// The guarantee, order: any permutation and repetition of the same operations
    /// gives the same list and version (and the same state as a whole), so every
    /// box agrees with every other however the broker delivered (seed property 13).
    #[test]
    fn order_and_repetition_do_not_matter((ops, again) in ops_and_reordering()) {
        let first = merged(&ops);
        let second = merged(&again);
        prop_assert_eq!(listed(&first), listed(&second));
        prop_assert_eq!(first.version(), second.version());
        prop_assert_eq!(first.listed_count(), second.listed_count());
        prop_assert_eq!(&first, &second);
    }

    /// The guarantee, observed remove: an addition whose tag no removal of its
    /// number lists keeps the number listed, whatever else happened; so an
    /// opt-out survives a removal made concurrently by an admin who never saw it.
    #[test]
    fn a_removal_cancels_only_the_tags_it_lists(ops in ops()) {
        let set = merged(&ops);
        for op in &ops {
            let DncOp::Add(add) = op else { continue };
            let cancelled = ops.iter().any(|other| match other {
                DncOp::Remove(remove) => {
                    remove.e164 == add.e164 && remove.tags.contains(&add.tag)
                }
                DncOp::Add(_) => false,
            });
            let e164: E164 = add.e164.parse().unwrap();
            if !cancelled {
                prop_assert!(set.is_listed(e164), "{add:?} is not cancelled but {e164} is not listed");
                prop_assert!(set.alive(e164).iter().any(|alive| alive.tag == add.tag));
            }
        }
        // And a number is listed only by an addition nothing cancelled.
        for (index, _) in NUMBERS.iter().enumerate() {
            let e164 = number(index);
            let expected = ops.iter().any(|op| match op {
                DncOp::Add(add) => add.e164 == NUMBERS[index] && !ops.iter().any(|other| {
                    matches!(other, DncOp::Remove(remove)
                        if remove.e164 == add.e164 && remove.tags.contains(&add.tag))
                }),
                DncOp::Remove(_) => false,
            });
            prop_assert_eq!(set.is_listed(e164), expected, "{}", e164);
        }
    }

    /// Replaying `ops()` (what a snapshot holds) into an empty set rebuilds the same
    /// state: a new box that starts from a snapshot agrees with the old ones.
    #[test]
    fn replaying_ops_rebuilds_the_set(ops in ops()) {
        let set = merged(&ops);
        let replayed = merged(&set.ops().collect::<Vec<_>>());
        prop_assert_eq!(listed(&replayed), listed(&set));
        prop_assert_eq!(replayed.version(), set.version());
        prop_assert_eq!(&replayed, &set);
        prop_assert_eq!(replayed.ops().collect::<Vec<_>>(), set.ops().collect::<Vec<_>>());
    }

    /// The `Change` stream, applied to a plain set as the box applies it to its own
    /// list, gives `is_listed` for every number after every operation: the box's
    /// list is the merged list at every step, so a running campaign sees a change
    /// the moment it is merged (seed property 13, the merge part).
    #[test]
    fn the_change_stream_reproduces_the_list(ops in ops()) {
        let mut set = OrSet::new();
        let mut plain: HashSet<E164> = HashSet::new();
        let mut version = 0;
        for op in &ops {
            let known = set.knows(op);
            match set.apply(op) {
                Change::None => {}
                Change::Listed { e164, by } => {
                    prop_assert!(!known);
                    prop_assert_eq!(e164.to_string(), by.e164);
                    prop_assert!(plain.insert(e164), "{} listed twice", e164);
                }
                Change::Unlisted { e164, by } => {
                    prop_assert!(!known);
                    prop_assert_eq!(e164.to_string(), by.e164);
                    prop_assert!(plain.remove(&e164), "{} unlisted while not listed", e164);
                }
            }
            prop_assert!(set.knows(op));
            prop_assert!(set.version() >= version);
            prop_assert_eq!(set.version() > version, !known);
            version = set.version();
            for index in 0..NUMBERS.len() {
                let e164 = number(index);
                prop_assert_eq!(plain.contains(&e164), set.is_listed(e164), "{}", e164);
            }
            prop_assert_eq!(plain.len(), set.listed_count());
        }
    }

    /// `tags_for` lists every addition of the number, alive or not; a removal of
    /// all of them unlists it until a new opt-out comes.
    #[test]
    fn removing_tags_for_unlists_until_a_new_optout(ops in ops(), index in 0..NUMBERS.len()) {
        let mut set = merged(&ops);
        let e164 = number(index);
        let tags = set.tags_for(e164);
        let known: BTreeSet<String> = ops.iter().filter_map(|op| match op {
            DncOp::Add(add) if add.e164 == NUMBERS[index] => Some(add.tag.clone()),
            _ => None,
        }).collect();
        prop_assert_eq!(tags.iter().cloned().collect::<BTreeSet<_>>(), known);
        if !tags.is_empty() {
            let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
            set.apply(&remove(index, &tags, 59));
            prop_assert!(!set.is_listed(e164));
        }
        let change = set.apply(&add(index, "tel-aviv:999", 59));
        prop_assert!(set.is_listed(e164));
        let listed_now = matches!(change, Change::Listed { .. });
        prop_assert!(listed_now, "{:?}", change);
    }
}

/// An opt-out made on a box while a central admin removed the number: whichever
/// reaches a box first, the number stays listed.
#[test]
fn a_concurrent_optout_survives_the_removal() {
    let earlier = add(0, "central:0123456789abcdef0123456789abcdef", 0);
    let optout = add(0, "tel-aviv:2", 1);
    let removal = remove(0, &["central:0123456789abcdef0123456789abcdef"], 2);
    for order in [
        [&earlier, &optout, &removal],
        [&earlier, &removal, &optout],
        [&removal, &optout, &earlier],
        [&optout, &removal, &earlier],
    ] {
        let mut set = OrSet::new();
        for op in order {
            set.apply(op);
        }
        assert!(set.is_listed(number(0)), "{order:?}");
        let alive: Vec<&str> = set
            .alive(number(0))
            .iter()
            .map(|a| a.tag.as_str())
            .collect();
        assert_eq!(alive, ["tel-aviv:2"]);
    }
}

/// A removal that arrives before the addition it cancels: the addition is born
/// removed, and no `Change` says otherwise.
#[test]
fn an_addition_after_its_removal_is_born_removed() {
    let mut set = OrSet::new();
    let removal = remove(1, &["haifa:7"], 5);
    assert_eq!(set.apply(&removal), Change::None);
    assert_eq!(set.apply(&add(1, "haifa:7", 1)), Change::None);
    assert!(!set.is_listed(number(1)));
    assert_eq!(set.tags_for(number(1)), ["haifa:7"]);
    assert_eq!(set.version(), 2);
    assert_eq!(set.listed_count(), 0);
}

/// A removal cancels tags of its own number only: one that names another number's
/// opt-out by mistake (or malice) leaves that number listed.
#[test]
fn a_removal_of_another_number_cancels_nothing() {
    let mut set = OrSet::new();
    set.apply(&add(2, "haifa:1", 0));
    assert_eq!(set.apply(&remove(3, &["haifa:1"], 1)), Change::None);
    assert!(set.is_listed(number(2)));
}

/// The changes a box sees for a simple history, as its own list applies them.
#[test]
fn changes_name_the_operation_that_made_them() {
    let mut set = OrSet::new();
    let optout = add(0, "tel-aviv:1", 0);
    let DncOp::Add(optout_add) = &optout else {
        unreachable!()
    };
    assert_eq!(
        set.apply(&optout),
        Change::Listed {
            e164: number(0),
            by: optout_add.clone()
        }
    );
    assert_eq!(set.apply(&optout), Change::None, "idempotent");
    assert_eq!(
        set.apply(&add(0, "haifa:1", 1)),
        Change::None,
        "already listed"
    );
    assert_eq!(set.apply(&remove(0, &["tel-aviv:1"], 2)), Change::None);
    let last = remove(0, &["haifa:1", "tel-aviv:1"], 3);
    let DncOp::Remove(last_remove) = &last else {
        unreachable!()
    };
    assert_eq!(
        set.apply(&last),
        Change::Unlisted {
            e164: number(0),
            by: last_remove.clone()
        }
    );
    assert_eq!(set.version(), 4);
    assert_eq!(set.ops().count(), 4);
}

/// A box's opt-out built by the constructor merges like any other.
#[test]
fn a_box_optout_from_the_constructor_lists_its_number() {
    let boxid = Name::boxid("tel-aviv").unwrap();
    let optout = AddOp::box_optout(&boxid, 42, number(4), "pressed 9", at(0), "ivr");
    assert_eq!(optout.tag, "tel-aviv:42");
    let op = DncOp::Add(optout);
    assert_eq!(op.validate(), Ok(number(4)));
    let mut set = OrSet::new();
    assert!(matches!(set.apply(&op), Change::Listed { .. }));
    assert_eq!(listed(&set), [number(4)]);
}

/// An operation whose number does not parse is ignored, not merged.
#[test]
fn a_malformed_number_is_ignored() {
    let mut set = OrSet::new();
    let mut bad = add(0, "tel-aviv:1", 0);
    if let DncOp::Add(add) = &mut bad {
        add.e164 = "050-1234567".to_owned();
    }
    assert_eq!(set.apply(&bad), Change::None);
    assert_eq!(set.version(), 0);
    assert_eq!(set.ops().count(), 0);
}
