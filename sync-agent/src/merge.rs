//! The organization's do-not-call list, merged from every box and every central
//! admin: an observed-remove set.
//!
//! # The guarantee
//!
//! - **Order does not matter.** Any order and any repetition of the same
//!   operations gives the same list, the same [`OrSet::version`] and the same
//!   [`OrSet::ops`]. Boxes receive changes late, twice, or out of order (MQTT QoS 1,
//!   S3 catch-up after days offline), and all of them still agree.
//! - **A removal cancels only what it saw.** A removal lists the tags of the
//!   additions its author saw; it cancels those additions of its number and nothing
//!   else. An opt-out made on a box while a central admin was removing the number
//!   has a tag the admin never saw, so it survives: the person who just asked not
//!   to be called is not called.
//!
//! Stated per number, which is what the tests verify: a number is listed iff some
//! addition of it is known whose tag no known removal *of that number* lists.
//!
//! # Why tags
//!
//! A plain set with "last writer wins" would need clocks the boxes do not share,
//! and would let an old removal undo a new opt-out. Tags make every addition
//! distinct: a box's opt-out is `{box}:{history id}`, a central addition
//! `central:{random}`; a removal names the additions it cancels instead of the
//! number.
//!
//! # Unordered delivery
//!
//! A removal may arrive before the addition it cancels (a box that was offline
//! hears central's removal before the other box's opt-out it cancels). The set
//! remembers removed tags it has no addition for, so that addition is born
//! removed.
//!
//! # Ties
//!
//! Two different additions with the same tag and number (which the tag scheme
//! never makes) keep the smaller in `Ord`; with the same tag and different numbers,
//! both are kept, each listing its number: a conflict lists more, never less.
//!
//! Invariants:
//! - No I/O and no clock; [`OrSet::apply`] cannot fail. It assumes validated
//!   operations ([`crate::wire::DncOp::validate`]) and ignores an operation whose
//!   number does not parse.
//! - The [`Change`] stream is exact: it reports a number listed or unlisted exactly
//!   when [`OrSet::is_listed`] flips, so a list maintained from Changes alone is
//!   the merged list.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry as MapEntry;

use shofar_phone::E164;

use crate::wire::{AddOp, DncOp, RemoveOp};

/// How one [`OrSet::apply`] changed whether the operation's number is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The number's listed state did not change (or the operation was known).
    None,
    /// The number was not listed and now is.
    Listed {
        /// The number.
        e164: E164,
        /// The addition that listed it (alive).
        by: AddOp,
    },
    /// The number was listed and no longer is.
    Unlisted {
        /// The number.
        e164: E164,
        /// The removal that cancelled its last alive addition.
        by: RemoveOp,
    },
}

/// What the set knows of one number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Number {
    /// Its additions, by tag.
    adds: BTreeMap<String, AddOp>,
    /// Its removed tags (known additions or not), each with the smallest id of
    /// the removals that list it.
    removed: BTreeMap<String, String>,
}

impl Number {
    fn alive(&self) -> impl Iterator<Item = &AddOp> {
        self.adds
            .iter()
            .filter(|(tag, _)| !self.removed.contains_key(*tag))
            .map(|(_, add)| add)
    }

    fn is_listed(&self) -> bool {
        self.alive().next().is_some()
    }
}

/// The merged do-not-call list: every addition and removal known, by number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrSet {
    /// By the number's digits; ordered, so [`OrSet::ops`] is deterministic.
    numbers: BTreeMap<u64, Number>,
    /// Every removal, by id, its tags sorted and each once.
    removes: BTreeMap<String, RemoveOp>,
    /// How many numbers are listed.
    listed: usize,
    /// How many distinct operations were merged.
    version: u64,
}

impl OrSet {
    /// An empty list.
    pub fn new() -> OrSet {
        OrSet::default()
    }

    /// Merges one operation and says how its number's listed state changed.
    /// Applying a known operation again changes nothing and returns
    /// [`Change::None`].
    pub fn apply(&mut self, op: &DncOp) -> Change {
        let Ok(e164) = op.e164().parse::<E164>() else {
            return Change::None;
        };
        match op {
            DncOp::Add(add) => self.add(e164, add),
            DncOp::Remove(remove) => self.remove(e164, remove),
        }
    }

    fn add(&mut self, e164: E164, add: &AddOp) -> Change {
        let number = self.numbers.entry(e164.as_u64()).or_default();
        let was_listed = number.is_listed();
        match number.adds.entry(add.tag.clone()) {
            MapEntry::Occupied(mut known) => {
                // The same tag twice: keep one, whichever order they came in.
                if add < known.get() {
                    known.insert(add.clone());
                }
                return Change::None;
            }
            MapEntry::Vacant(slot) => {
                slot.insert(add.clone());
            }
        }
        self.version += 1;
        let born_removed = number.removed.contains_key(&add.tag);
        if was_listed || born_removed {
            return Change::None;
        }
        self.listed += 1;
        Change::Listed {
            e164,
            by: add.clone(),
        }
    }

    fn remove(&mut self, e164: E164, remove: &RemoveOp) -> Change {
        let id = remove.id();
        let MapEntry::Vacant(slot) = self.removes.entry(id.clone()) else {
            return Change::None;
        };
        let mut normalized = remove.clone();
        normalized.tags.sort();
        normalized.tags.dedup();
        slot.insert(normalized);
        self.version += 1;

        let number = self.numbers.entry(e164.as_u64()).or_default();
        let was_listed = number.is_listed();
        for tag in &remove.tags {
            match number.removed.entry(tag.clone()) {
                MapEntry::Occupied(mut by) => {
                    if id < *by.get() {
                        by.insert(id.clone());
                    }
                }
                MapEntry::Vacant(by) => {
                    by.insert(id.clone());
                }
            }
        }
        if was_listed && !number.is_listed() {
            self.listed -= 1;
            return Change::Unlisted {
                e164,
                by: remove.clone(),
            };
        }
        Change::None
    }

    /// Whether the operation is already merged (an addition by number and tag, a
    /// removal by id).
    pub fn knows(&self, op: &DncOp) -> bool {
        match op {
            DncOp::Add(add) => add.e164.parse::<E164>().is_ok_and(|e164| {
                self.numbers
                    .get(&e164.as_u64())
                    .is_some_and(|number| number.adds.contains_key(&add.tag))
            }),
            DncOp::Remove(remove) => self.removes.contains_key(&remove.id()),
        }
    }

    /// Whether `e164` is on the list.
    pub fn is_listed(&self, e164: E164) -> bool {
        self.numbers
            .get(&e164.as_u64())
            .is_some_and(Number::is_listed)
    }

    /// The additions that keep `e164` listed, by tag; empty when it is not listed.
    pub fn alive(&self, e164: E164) -> Vec<&AddOp> {
        self.numbers
            .get(&e164.as_u64())
            .map(|number| number.alive().collect())
            .unwrap_or_default()
    }

    /// Every known addition's tag for `e164`, alive or not, sorted: what a central
    /// removal of the number lists.
    pub fn tags_for(&self, e164: E164) -> Vec<String> {
        self.numbers
            .get(&e164.as_u64())
            .map(|number| number.adds.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// How many numbers are listed.
    pub fn listed_count(&self) -> usize {
        self.listed
    }

    /// How many distinct operations were merged: it only grows, and two sets that
    /// merged the same operations have the same version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Every known operation, additions (by number, then tag) then removals (by
    /// id): replayed into an empty set they rebuild this one. What a snapshot
    /// holds.
    pub fn ops(&self) -> impl Iterator<Item = DncOp> + '_ {
        let adds = self
            .numbers
            .values()
            .flat_map(|number| number.adds.values().cloned().map(DncOp::Add));
        let removes = self.removes.values().cloned().map(DncOp::Remove);
        adds.chain(removes)
    }

    /// Every listed number, in order, with its first alive addition (by tag).
    pub fn listed(&self) -> impl Iterator<Item = (E164, &AddOp)> + '_ {
        self.numbers.iter().filter_map(|(digits, number)| {
            let add = number.alive().next()?;
            Some((E164::from_u64(*digits)?, add))
        })
    }
}
