//! The limit on calls up at once.
//!
//! Each admitted call holds a [`ChannelSlot`] with its own number, so that releasing
//! is idempotent: a slot released twice (a hangup event seen twice, a cleanup racing
//! the hangup) or a slot this limit never gave out is ignored, and the count can
//! neither underflow nor drift.

use std::collections::BTreeSet;

/// One admitted call's place under the limit. Copyable so the dialer can keep it
/// next to the call; releasing a copy a second time does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChannelSlot(u64);

impl ChannelSlot {
    /// The slot's number, for logs.
    pub fn id(self) -> u64 {
        self.0
    }
}

#[derive(Debug, Clone)]
pub struct ChannelLimit {
    max_concurrent: u32,
    held: BTreeSet<u64>,
    next_slot_id: u64,
}

impl ChannelLimit {
    pub fn new(max_concurrent: u32) -> ChannelLimit {
        ChannelLimit {
            max_concurrent,
            held: BTreeSet::new(),
            next_slot_id: 0,
        }
    }

    pub fn max_concurrent(&self) -> u32 {
        self.max_concurrent
    }

    pub fn in_use(&self) -> u32 {
        // Never more than a `u32` limit admitted, so this never saturates.
        u32::try_from(self.held.len()).unwrap_or(u32::MAX)
    }

    /// How many more calls may start now; zero while a lowered limit is still exceeded.
    pub fn available(&self) -> u32 {
        self.max_concurrent.saturating_sub(self.in_use())
    }

    /// Changes the limit. Calls already up are not cut: lowering below `in_use` only
    /// stops new calls until enough of them have ended.
    pub fn set_max_concurrent(&mut self, max_concurrent: u32) {
        self.max_concurrent = max_concurrent;
    }

    /// A slot if the limit allows one more call, else `None`.
    pub fn try_acquire(&mut self) -> Option<ChannelSlot> {
        if self.in_use() >= self.max_concurrent {
            return None;
        }
        // The counter wraps only after 2^64 calls; skipping numbers still held keeps a
        // slot's number unique even then.
        let slot_id = loop {
            let candidate = self.next_slot_id;
            self.next_slot_id = self.next_slot_id.wrapping_add(1);
            if !self.held.contains(&candidate) {
                break candidate;
            }
        };
        self.held.insert(slot_id);
        Some(ChannelSlot(slot_id))
    }

    /// Gives the slot back. Returns whether it was held: `false` for a slot released
    /// already or never given out by this limit, which changes nothing.
    pub fn release(&mut self, slot: ChannelSlot) -> bool {
        self.held.remove(&slot.0)
    }
}
