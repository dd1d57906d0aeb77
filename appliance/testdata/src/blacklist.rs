//! Do-not-call lists: millions of distinct valid Israeli mobile numbers, fast.
//!
//! Numbers come from whole blocks `05AB-XXXXXX` that libphonenumber's metadata
//! marks valid for every one of the million subscriber numbers (its IL mobile
//! pattern is `5(?:[0-2][02-9]|[36]\d|[49][2-9]|8[3-7])\d{6}` for these; the
//! blocks are checked against libphonenumber at first use and thoroughly in the
//! tests). Index `i` of the list is mapped to a position in those blocks by a
//! keyed permutation (a small Feistel network with cycle walking), so the numbers
//! are distinct without remembering them, and look random.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, ensure};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::numbers::{Kind, libphonenumber_view};

/// The first three digits of the national number of each block of a million
/// mobile numbers used: 050, 052, 053, 054 and 058 (the main operators).
pub(crate) const BLOCKS: [u64; 41] = [
    500, 502, 503, 504, 505, 506, 507, 508, 509, //
    520, 522, 523, 524, 525, 526, 527, 528, 529, //
    530, 531, 532, 533, 534, 535, 536, 537, 538, 539, //
    542, 543, 544, 545, 546, 547, 548, 549, //
    583, 584, 585, 586, 587,
];

const BLOCK_SIZE: u64 = 1_000_000;

/// How many distinct numbers [`blacklist_numbers`] can produce.
pub const BLACKLIST_CAPACITY: usize = BLOCKS.len() * BLOCK_SIZE as usize;

/// Bits of the permuted domain: the smallest even bit count covering the capacity.
const HALF_BITS: u32 = 13;
const HALF_MASK: u64 = (1 << HALF_BITS) - 1;
const ROUNDS: usize = 4;
const _: () = assert!(1u64 << (2 * HALF_BITS) >= BLACKLIST_CAPACITY as u64);

/// The E.164 digits (e.g. `972525551234`) of the number at `position` in the blocks.
fn number_at(position: u64) -> u64 {
    let nsn = BLOCKS[(position / BLOCK_SIZE) as usize] * BLOCK_SIZE + position % BLOCK_SIZE;
    972_000_000_000 + nsn
}

/// Checks that libphonenumber takes the blocks as valid mobile numbers: the first,
/// last and a few inner numbers of each block. Panics if the metadata disagrees.
fn check_blocks() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        for (index, block) in BLOCKS.iter().enumerate() {
            let base = index as u64 * BLOCK_SIZE;
            for offset in [0, 123_456, 505_050, 987_654, BLOCK_SIZE - 1] {
                let e164 = format!("+{}", number_at(base + offset));
                assert!(
                    libphonenumber_view(&e164) == Some((e164.clone(), Kind::Mobile)),
                    "libphonenumber does not take {e164} (block 0{block}) as a valid mobile"
                );
            }
        }
    });
}

/// `count` distinct valid Israeli mobile numbers as E.164 digits
/// (`972525551234`), in an order that depends on `seed`. See [`blacklist_numbers`].
#[derive(Debug, Clone)]
pub struct BlacklistNumbers {
    keys: [u64; ROUNDS],
    next: u64,
    count: u64,
}

/// Streams `count` distinct valid Israeli mobile numbers (E.164 digits, e.g.
/// `972525551234`), deterministic for `seed`. Different seeds give different,
/// overlapping sets.
///
/// # Panics
/// If `count` exceeds [`BLACKLIST_CAPACITY`].
pub fn blacklist_numbers(count: usize, seed: u64) -> BlacklistNumbers {
    assert!(
        count <= BLACKLIST_CAPACITY,
        "at most {BLACKLIST_CAPACITY} distinct numbers, asked for {count}"
    );
    check_blocks();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    BlacklistNumbers {
        keys: std::array::from_fn(|_| rng.random()),
        next: 0,
        count: count as u64,
    }
}

fn mix(mut z: u64) -> u64 {
    // splitmix64's finalizer
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl BlacklistNumbers {
    /// A bijection of `0..2^(2*HALF_BITS)`.
    fn feistel(&self, value: u64) -> u64 {
        let (mut left, mut right) = (value >> HALF_BITS, value & HALF_MASK);
        for key in self.keys {
            let round = mix(right ^ key) & HALF_MASK;
            (left, right) = (right, left ^ round);
        }
        (left << HALF_BITS) | right
    }

    /// A bijection of `0..BLACKLIST_CAPACITY` (cycle walking: apply the Feistel
    /// permutation until the value lands inside the range).
    pub(crate) fn permute(&self, index: u64) -> u64 {
        let mut value = self.feistel(index);
        while value >= BLACKLIST_CAPACITY as u64 {
            value = self.feistel(value);
        }
        value
    }
}

impl Iterator for BlacklistNumbers {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.next == self.count {
            return None;
        }
        let position = self.permute(self.next);
        self.next += 1;
        Some(number_at(position))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.count - self.next) as usize;
        (left, Some(left))
    }
}

impl ExactSizeIterator for BlacklistNumbers {}

/// Why a number is on the list, as the `reason` column says it.
const REASONS: [&str; 6] = [
    "ביקש להסיר",
    "רשימת אל תתקשר",
    "תלונה",
    "לקוח לשעבר",
    "",
    "do not call",
];

/// Writes `count` numbers of [`blacklist_numbers`] as a UTF-8 CSV with header
/// `phone,reason`. Numbers are spelled as people keep them: mostly `0525551234`,
/// some `052-5551234` and `+972525551234`.
pub fn write_blacklist_csv(count: usize, seed: u64, path: &Path) -> anyhow::Result<()> {
    ensure!(
        count <= BLACKLIST_CAPACITY,
        "at most {BLACKLIST_CAPACITY} distinct numbers, asked for {count}"
    );
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6C69_7374);
    out.write_all(b"phone,reason\n")?;
    for digits in blacklist_numbers(count, seed) {
        let nsn = digits - 972_000_000_000;
        let reason = REASONS[rng.random_range(0..REASONS.len())];
        match rng.random_range(0..10) {
            0..7 => writeln!(out, "0{nsn},{reason}")?,
            7..9 => writeln!(
                out,
                "0{}-{:07},{reason}",
                nsn / 10_000_000,
                nsn % 10_000_000
            )?,
            _ => writeln!(out, "+{digits},{reason}")?,
        }
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
