//! The do-not-call index and the pre-dial check.
//!
//! The box's most important safety rule is that a number on the do-not-call list is
//! never dialed or texted. This crate holds the in-memory index that answers "is this
//! number listed?" in well under a microsecond for tens of millions of numbers, and
//! [`SharedDnc::predial_check`], the one function that hands out a [`DialPermit`].
//! Telephony code originates a call only with a permit, and a permit exists only if
//! the number was not listed at the moment it was issued.
//!
//! Invariants:
//! - [`DialPermit`] can be built only by [`SharedDnc::predial_check`]; nothing else
//!   in the workspace can make one.
//! - The index never answers "not listed" for a number the store holds as listed:
//!   the store layer inserts into the index *before* it commits an addition and
//!   removes from it only *after* it committed a removal.
//! - No I/O: persistence is the store's job; this crate cannot fail.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use rustc_hash::FxHashSet;
use shofar_phone::E164;

/// A bijective mix of the 64-bit key (the splitmix64 finaliser): sorted mixed keys
/// spread evenly over the bucket table however clustered the numbers are (Israeli
/// mobiles all start with 9725…), and since the mix is invertible no two numbers
/// ever collide.
fn mix(number: u64) -> u64 {
    let mut x = number;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// An immutable set of mixed keys: sorted, with a bucket table over the top bits
/// so a lookup reads one table entry and about two keys.
#[derive(Debug, Default, Clone)]
struct FrozenSet {
    keys: Vec<u64>,
    /// `buckets[b]..buckets[b + 1]` is the range of keys whose top bits are `b`.
    buckets: Vec<u32>,
    /// How many top bits of a key pick its bucket.
    bits: u32,
}

fn bucket_of(mixed: u64, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        (mixed >> (64 - bits)) as usize
    }
}

impl FrozenSet {
    /// Builds from mixed keys, in any order, possibly repeated.
    fn build(mut keys: Vec<u64>) -> FrozenSet {
        keys.sort_unstable();
        keys.dedup();
        keys.shrink_to_fit();
        // About two keys per bucket: 4 bytes of table per 2 keys of 8 bytes.
        let bits = (keys.len() / 2)
            .max(1)
            .next_power_of_two()
            .trailing_zeros()
            .min(31);
        let mut buckets = vec![0u32; (1usize << bits) + 1];
        for &key in &keys {
            buckets[bucket_of(key, bits) + 1] += 1;
        }
        for bucket in 1..buckets.len() {
            buckets[bucket] += buckets[bucket - 1];
        }
        FrozenSet {
            keys,
            buckets,
            bits,
        }
    }

    fn contains(&self, mixed: u64) -> bool {
        let bucket = bucket_of(mixed, self.bits);
        let (Some(&start), Some(&end)) = (self.buckets.get(bucket), self.buckets.get(bucket + 1))
        else {
            return false;
        };
        self.keys[start as usize..end as usize].contains(&mixed)
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 8 + self.buckets.capacity() * 4
    }
}

/// The set of listed numbers: a frozen bulk part plus small sets of changes since
/// it was built, folded in when they grow.
#[derive(Debug, Default, Clone)]
pub struct DncIndex {
    frozen: FrozenSet,
    added: FxHashSet<u64>,
    removed: FxHashSet<u64>,
    version: u64,
}

/// Changes kept beside the frozen part before they are folded into it.
const MIN_PENDING_BEFORE_REBUILD: usize = 65_536;

impl DncIndex {
    /// An index of `numbers` (repeats are fine) at version 0.
    pub fn from_numbers(numbers: impl IntoIterator<Item = E164>) -> DncIndex {
        DncIndex::from_raw(numbers.into_iter().map(E164::as_u64).collect())
    }

    /// As [`DncIndex::from_numbers`], from the digits of E.164 numbers; reuses the
    /// vector's memory (loading ten million numbers should not need twice the room).
    pub fn from_raw(mut digits: Vec<u64>) -> DncIndex {
        for value in &mut digits {
            *value = mix(*value);
        }
        DncIndex {
            frozen: FrozenSet::build(digits),
            ..DncIndex::default()
        }
    }

    pub fn contains(&self, number: E164) -> bool {
        let key = mix(number.as_u64());
        self.added.contains(&key) || (!self.removed.contains(&key) && self.frozen.contains(key))
    }

    /// Lists `number`; returns whether it was not listed before.
    pub fn insert(&mut self, number: E164) -> bool {
        let key = mix(number.as_u64());
        let newly = if self.frozen.contains(key) {
            self.removed.remove(&key)
        } else {
            self.added.insert(key)
        };
        if newly {
            self.changed();
        }
        newly
    }

    /// Unlists `number`; returns whether it was listed.
    pub fn remove(&mut self, number: E164) -> bool {
        let key = mix(number.as_u64());
        let was = if self.frozen.contains(key) {
            self.removed.insert(key)
        } else {
            self.added.remove(&key)
        };
        if was {
            self.changed();
        }
        was
    }

    fn changed(&mut self) {
        self.version += 1;
        let pending = self.added.len() + self.removed.len();
        if pending > MIN_PENDING_BEFORE_REBUILD.max(self.frozen.len() / 8) {
            self.fold_changes();
        }
    }

    /// Folds the pending changes into the frozen part. Called by itself when they
    /// grow; a bulk import calls it once at the end.
    pub fn fold_changes(&mut self) {
        if self.added.is_empty() && self.removed.is_empty() {
            return;
        }
        let removed = std::mem::take(&mut self.removed);
        let mut keys = std::mem::take(&mut self.frozen.keys);
        keys.retain(|key| !removed.contains(key));
        keys.extend(self.added.drain());
        self.frozen = FrozenSet::build(keys);
    }

    /// How many numbers are listed.
    pub fn len(&self) -> usize {
        self.frozen.len() + self.added.len() - self.removed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bumped by every change: recorded with each permit as evidence of which list
    /// a dial was checked against.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Approximate heap use, for the benchmark and metrics.
    pub fn heap_bytes(&self) -> usize {
        self.frozen.heap_bytes() + (self.added.capacity() + self.removed.capacity()) * 9
    }
}

/// Permission to dial or text one number, issued by [`SharedDnc::predial_check`].
///
/// Not `Clone`: one check, one dial. It is spent by [`DialPermit::spend`], which
/// refuses a permit older than [`DialPermit::MAX_AGE`] or for another number —
/// the check belongs at the last moment before the dial, not minutes before — and
/// what dials (telephony's `Dial`, the only thing a backend originates) can only
/// be made from the [`SpentPermit`] that returns.
#[derive(Debug, PartialEq, Eq)]
pub struct DialPermit {
    number: E164,
    list_version: u64,
    issued_at: Instant,
}

impl DialPermit {
    /// How long a permit stays good for.
    pub const MAX_AGE: Duration = Duration::from_secs(2);

    pub fn number(&self) -> E164 {
        self.number
    }

    /// The do-not-call list version the number was checked against.
    pub fn list_version(&self) -> u64 {
        self.list_version
    }

    pub fn is_fresh(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.issued_at) <= DialPermit::MAX_AGE
    }

    /// Spends the permit on dialing `number` at `now`: refused when it was issued
    /// for another number or more than [`DialPermit::MAX_AGE`] before `now`.
    /// Consumed either way: a refused permit cannot be tried again.
    pub fn spend(self, number: E164, now: Instant) -> Result<SpentPermit, PermitRefused> {
        if self.number != number {
            return Err(PermitRefused::OtherNumber {
                issued_for: self.number,
                dialing: number,
            });
        }
        let age = now.saturating_duration_since(self.issued_at);
        if age > DialPermit::MAX_AGE {
            return Err(PermitRefused::Stale { age });
        }
        Ok(SpentPermit {
            number: self.number,
            list_version: self.list_version,
        })
    }
}

/// A permit spent on one dial: the proof a dial carries that its number passed
/// the pre-dial check moments before. Only [`DialPermit::spend`] makes one.
#[derive(Debug, PartialEq, Eq)]
pub struct SpentPermit {
    number: E164,
    list_version: u64,
}

impl SpentPermit {
    pub fn number(&self) -> E164 {
        self.number
    }

    pub fn list_version(&self) -> u64 {
        self.list_version
    }
}

/// Why a permit could not be spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PermitRefused {
    #[error("the pre-dial check was {} ms before the dial (at most {} ms): checked again", .age.as_millis(), DialPermit::MAX_AGE.as_millis())]
    Stale { age: Duration },
    #[error("the permit was issued for {issued_for}, not {dialing}")]
    OtherNumber { issued_for: E164, dialing: E164 },
}

/// Why the pre-dial check refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialRefusal {
    /// The number is on the do-not-call list (seed property 11: the attempt's
    /// outcome is "blacklisted" and no dial happens).
    Blacklisted { list_version: u64 },
}

impl std::fmt::Display for DialRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DialRefusal::Blacklisted { list_version } => {
                write!(
                    f,
                    "the number is on the do-not-call list (version {list_version})"
                )
            }
        }
    }
}

impl std::error::Error for DialRefusal {}

/// The index shared between the store (which changes it) and everything that dials
/// (which asks it). Cloning shares the same index.
#[derive(Debug, Clone, Default)]
pub struct SharedDnc {
    /// A read-write lock: checks are reads and never wait on each other; writes
    /// are short (one insert), except the rare fold of pending changes.
    inner: Arc<RwLock<DncIndex>>,
}

impl SharedDnc {
    pub fn new(index: DncIndex) -> SharedDnc {
        SharedDnc {
            inner: Arc::new(RwLock::new(index)),
        }
    }

    /// **The** pre-dial check: call it at the last moment before each dial or SMS.
    /// It is the only way to obtain a [`DialPermit`].
    pub fn predial_check(&self, number: E164) -> Result<DialPermit, DialRefusal> {
        let index = self.inner.read();
        let list_version = index.version();
        if index.contains(number) {
            return Err(DialRefusal::Blacklisted { list_version });
        }
        Ok(DialPermit {
            number,
            list_version,
            issued_at: Instant::now(),
        })
    }

    pub fn contains(&self, number: E164) -> bool {
        self.inner.read().contains(number)
    }

    pub fn len(&self) -> usize {
        self.inner.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn version(&self) -> u64 {
        self.inner.read().version()
    }

    /// Runs `change` with the index locked for writing. For the store layer, which
    /// keeps the index in step with the database.
    pub fn update<T>(&self, change: impl FnOnce(&mut DncIndex) -> T) -> T {
        change(&mut self.inner.write())
    }

    /// Replaces the whole index (after loading it from the store).
    pub fn replace(&self, index: DncIndex) {
        let mut guard = self.inner.write();
        let version = guard.version().max(index.version()) + 1;
        *guard = index;
        guard.version = version;
    }
}

#[cfg(test)]
mod tests;
