//! The calls-per-second ceiling.
//!
//! # The guarantee
//!
//! With the rate `cps` in force at each start:
//!
//! - `cps >= 1`: every half-open window `[t, t + 1 s)`, wherever it begins, holds at
//!   most `floor(cps)` starts.
//! - `cps < 1`: every half-open window `[t, t + 1/cps s)` holds at most one start.
//!
//! Stated per start, which is what the limiter checks and the tests verify: a start
//! at `t` is allowed only if fewer than `floor(cps)` earlier starts lie in
//! `(t - 1 s, t]`, and only if it comes at least `1/cps` after the previous start.
//!
//! # Why two rules
//!
//! A token bucket of capacity one refilling at `cps` (a minimum spacing of `1/cps`)
//! is smooth but, for a fractional rate, breaks the ceiling: at 2.5 cps the starts
//! at 0, 0.4 and 0.8 s are three in one second, above `floor(2.5) = 2`. A sliding
//! log of the last `floor(cps)` starts keeps the ceiling exactly but lets all of
//! them go at the same instant: a hundred `Originate`s in one millisecond is the
//! burst Asterisk and the trunk take worst. So the limiter applies both: the log
//! bounds every window, the spacing spreads the starts inside it. Each rule alone
//! admits everything the guarantee needs; together they admit only calm traffic.
//!
//! A consequence worth knowing: above one call per second the long-run rate is
//! `floor(cps)`, not `cps`. No schedule can do better: split two seconds into two
//! windows and five starts put three in one of them. Below one call per second the
//! long-run rate is exactly `cps`.
//!
//! # Ceiling only
//!
//! [`CpsLimiter::ceiling_only`] keeps the guarantee and nothing more: at 1 cps and
//! above it drops the spacing rule (which only makes traffic calm) and admits a
//! start whenever the window rule does. The dialer counts the dials themselves
//! with one (their spacing comes from the schedule they reserved on a full
//! limiter); a late dial is then held back only if it would break the ceiling.
//! [`CpsLimiter::with_margin`] widens its window by a margin: when what is
//! counted happens up to that margin after it is counted (a dial reaches the
//! network a moment after the dialer counted it), every one-second window of the
//! real events still holds at most `floor(cps)`.
//!
//! # Rate changes
//!
//! [`CpsLimiter::set_rate`] applies from the next attempt on, and the starts already
//! made count against the new rate: after lowering 10 cps to 2 cps right after ten
//! starts, nothing more starts until a second after the ninth of them, and never
//! sooner than `1/2` s after the tenth. Raising the rate never forgets a start still
//! inside the window.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::time::Monotonic;

const ONE_SECOND: Duration = Duration::from_secs(1);

/// A validated calls-per-second rate, between [`Cps::MIN`] and [`Cps::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Cps(f64);

/// A rate outside what the box can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("calls per second must be between 0.1 and 1000, got {value}")]
pub struct InvalidCps {
    pub value: f64,
}

impl Cps {
    /// One call every ten seconds: slower than that is a paused campaign, not a pace.
    pub const MIN: f64 = 0.1;
    /// Far beyond any trunk the box has; it bounds the limiter's memory (one entry per
    /// start in the last second).
    pub const MAX: f64 = 1000.0;

    pub fn new(value: f64) -> Result<Cps, InvalidCps> {
        // Written so that NaN fails too: every comparison with NaN is false.
        if (Cps::MIN..=Cps::MAX).contains(&value) {
            Ok(Cps(value))
        } else {
            Err(InvalidCps { value })
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }

    /// The nearest valid rate: values outside the range are clamped into it (NaN
    /// becomes the minimum). For values already validated elsewhere (a campaign's
    /// settings) or computed (halved, stepped up), where a rounding slip must never
    /// leave the range.
    pub fn clamped(value: f64) -> Cps {
        if value.is_nan() {
            Cps(Cps::MIN)
        } else {
            Cps(value.clamp(Cps::MIN, Cps::MAX))
        }
    }

    /// The most starts any one-second window may hold at this rate: `floor(cps)`, and
    /// one below 1 cps (where the window that matters is `1/cps` long instead).
    pub fn starts_per_window(self) -> usize {
        // In range, so the cast neither truncates a large value nor sees a NaN.
        (self.0.floor() as usize).max(1)
    }

    /// The shortest gap between two starts: `1/cps`, rounded up to the nanosecond so
    /// rounding can only make the limiter stricter.
    pub fn spacing(self) -> Duration {
        Duration::from_nanos((1e9 / self.0).ceil() as u64)
    }
}

impl TryFrom<f64> for Cps {
    type Error = InvalidCps;

    fn try_from(value: f64) -> Result<Cps, InvalidCps> {
        Cps::new(value)
    }
}

impl From<Cps> for f64 {
    fn from(cps: Cps) -> f64 {
        cps.0
    }
}

impl fmt::Display for Cps {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} cps", self.0)
    }
}

/// The ceiling on call starts; see the [module documentation](self) for the exact
/// guarantee and why it is kept this way.
#[derive(Debug, Clone)]
pub struct CpsLimiter {
    rate: Cps,
    /// Every start less than a second before the latest one, oldest first, and always
    /// the latest one itself (for the spacing rule, which can reach ten seconds back).
    /// Pruned by age, and only when a start is recorded. Trimming it to the new rate's
    /// count in `set_rate` would be wrong: if the rate were then raised again, starts
    /// still inside the window would no longer be counted.
    recent_starts: VecDeque<Monotonic>,
    /// The spacing rule applies at every rate (`new`), or only below 1 cps, where
    /// it is the guarantee itself (`ceiling_only`).
    calm: bool,
    /// The window the count is kept over: a second, plus the margin.
    window: Duration,
}

impl CpsLimiter {
    pub fn new(rate: Cps) -> CpsLimiter {
        CpsLimiter {
            rate,
            recent_starts: VecDeque::new(),
            calm: true,
            window: ONE_SECOND,
        }
    }

    /// The same limiter, counting over a second and `margin` (see the module doc):
    /// stricter, by `margin` of throughput a second.
    pub fn with_margin(self, margin: Duration) -> CpsLimiter {
        CpsLimiter {
            window: ONE_SECOND + margin,
            ..self
        }
    }

    /// A limiter that keeps the guarantee only (see the module doc).
    pub fn ceiling_only(rate: Cps) -> CpsLimiter {
        CpsLimiter {
            calm: false,
            ..CpsLimiter::new(rate)
        }
    }

    pub fn rate(&self) -> Cps {
        self.rate
    }

    /// Changes the rate from the next attempt on. It needs no instant: the starts
    /// already made are kept and count against the new rate.
    pub fn set_rate(&mut self, rate: Cps) {
        self.rate = rate;
    }

    /// Records a start at `now` and returns `true` if the ceiling allows one; else
    /// changes nothing and returns `false`. An instant before the latest start (a
    /// clock read before an earlier start was recorded) is always refused.
    pub fn try_acquire(&mut self, now: Monotonic) -> bool {
        match self.earliest_start() {
            Some(earliest) if now >= earliest => {
                self.recent_starts.push_back(now);
                self.forget_starts_before_window(now);
                true
            }
            _ => false,
        }
    }

    /// The earliest instant, not before `now`, at which [`CpsLimiter::try_acquire`]
    /// will succeed if nothing else starts first. [`Monotonic::MAX`] means never (only
    /// reachable by starting calls at the very end of the clock's range).
    pub fn next_available(&self, now: Monotonic) -> Monotonic {
        self.earliest_start()
            .map_or(Monotonic::MAX, |earliest| earliest.max(now))
    }

    /// How many recorded starts the limiter still remembers (at most those of the last
    /// second, plus the latest).
    pub fn remembered_starts(&self) -> usize {
        self.recent_starts.len()
    }

    /// The first instant both rules allow, or `None` if that lies past the end of the
    /// clock's range.
    fn earliest_start(&self) -> Option<Monotonic> {
        let mut earliest = Monotonic::ZERO;
        if let Some(&latest) = self.recent_starts.back()
            && (self.calm || self.rate.get() < 1.0)
        {
            earliest = earliest.max(latest.checked_add(self.rate.spacing())?);
        }
        // The window rule: once `n` starts are remembered, the n-th most recent must be
        // a full second old, so the new start joins at most `n - 1` others in its
        // window. The log is sorted, so every older start is older still.
        let allowed = self.rate.starts_per_window();
        if let Some(index) = self.recent_starts.len().checked_sub(allowed)
            && let Some(&nth_most_recent) = self.recent_starts.get(index)
        {
            earliest = earliest.max(nth_most_recent.checked_add(self.window)?);
        }
        Some(earliest)
    }

    /// Drops starts that no future window can contain. Only called right after a start
    /// at `now` was recorded, since every later start is then after `now`; pruning by
    /// an instant the caller merely passed in could forget starts a stale clock read
    /// would still need.
    fn forget_starts_before_window(&mut self, now: Monotonic) {
        while self.recent_starts.len() > 1 {
            let Some(&oldest) = self.recent_starts.front() else {
                break;
            };
            let out_of_every_future_window = oldest
                .checked_add(self.window)
                .is_some_and(|window_end| window_end <= now);
            if !out_of_every_future_window {
                break;
            }
            self.recent_starts.pop_front();
        }
    }
}
