//! How fast the dialer may start calls, as pure logic: a calls-per-second ceiling
//! that never bursts above its rate, a limit on calls up at once, and a controller
//! that lowers the pace when the box or the campaign looks unwell and raises it
//! back, step by step, when it recovers.
//!
//! Invariants, stated as absences:
//!
//! - No I/O, no clock, no threads, no async. Every method that depends on time takes
//!   the time as a [`Monotonic`] value the caller read; the dialer converts its own
//!   `Instant`s. The same inputs always give the same outputs, so the tests can
//!   replay hours in microseconds.
//! - No panics on any input: rates are validated once into [`Cps`], thresholds once by
//!   [`Thresholds::validate`], arithmetic on instants saturates, and a NaN health
//!   reading is read as "unknown", which holds the pace where it is.
//! - No burst above the ceiling: [`CpsLimiter`] refuses any start that would put
//!   more than `floor(cps)` starts in some sliding one-second window (or, below one
//!   call per second, two starts closer than `1/cps` seconds). See [`rate`] for why
//!   neither a plain token bucket nor a plain sliding log is enough on its own.
//! - No oscillation: [`PaceController`] only lowers the pace on a reading above a
//!   "high" threshold, only raises it after readings stayed below every "ok"
//!   threshold for a whole recovery interval, and between the two does nothing.
//! - No silent changes: every change of the pace is returned as exactly one
//!   [`PaceChange`], with the instant of the sample that caused it and the reason.
//!
//! The crate knows nothing about Asterisk, campaigns or tokio. The dialer feeds it
//! health samples and the instants at which it wants to start calls, and obeys what
//! comes back:
//!
//! - one origin `Instant` for the whole process, every instant converted from it,
//!   so the limiter and the controller share one clock;
//! - before each `Originate`, [`CpsLimiter::try_acquire`] and
//!   [`ChannelLimit::try_acquire`]; when refused, sleep until
//!   [`CpsLimiter::next_available`] (or a hangup frees a slot) rather than poll;
//! - every [`PaceChange`] goes to the log and its [`PaceChange::new_cps`] to
//!   [`CpsLimiter::set_rate`];
//! - health samples come much more often than `recover_interval` (every second or
//!   few): a step up needs samples spanning a whole healthy interval.

#![forbid(unsafe_code)]

pub mod channels;
pub mod controller;
pub mod rate;
pub mod time;

pub use channels::{ChannelLimit, ChannelSlot};
pub use controller::{Health, InvalidThresholds, PaceChange, PaceController, Reason, Thresholds};
pub use rate::{Cps, CpsLimiter, InvalidCps};
pub use time::Monotonic;
