//! The injected clock: an instant as nanoseconds since an origin the caller chose.
//!
//! The dialer picks one `std::time::Instant` as its origin when it starts and turns
//! every later `Instant` into `Monotonic::from_duration(instant - origin)`. Keeping
//! our own type (rather than `Instant`) is what lets the tests build any instant
//! they like; a `u64` of nanoseconds covers 584 years, far beyond an uptime.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// An instant on a monotonic clock: nanoseconds since an arbitrary origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Monotonic(u64);

impl Monotonic {
    /// The origin.
    pub const ZERO: Monotonic = Monotonic(0);
    /// The last representable instant; arithmetic saturates here instead of
    /// wrapping around to the past.
    pub const MAX: Monotonic = Monotonic(u64::MAX);

    pub const fn from_nanos(nanos_since_origin: u64) -> Monotonic {
        Monotonic(nanos_since_origin)
    }

    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// The instant `since_origin` after the origin, saturating at [`Monotonic::MAX`].
    pub fn from_duration(since_origin: Duration) -> Monotonic {
        Monotonic(duration_as_nanos(since_origin))
    }

    /// How long after the origin this instant is.
    pub fn since_origin(self) -> Duration {
        Duration::from_nanos(self.0)
    }

    /// `self + duration`, or `None` past [`Monotonic::MAX`].
    pub fn checked_add(self, duration: Duration) -> Option<Monotonic> {
        self.0
            .checked_add(duration_as_nanos(duration))
            .map(Monotonic)
    }

    /// `self + duration`, stopping at [`Monotonic::MAX`].
    pub fn saturating_add(self, duration: Duration) -> Monotonic {
        Monotonic(self.0.saturating_add(duration_as_nanos(duration)))
    }

    /// How long after `earlier` this instant is; zero if it is not after it.
    pub fn saturating_duration_since(self, earlier: Monotonic) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Monotonic {
    /// Seconds since the origin, to the millisecond: enough to read a log.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0 / 1_000_000;
        write!(formatter, "{}.{:03} s", millis / 1000, millis % 1000)
    }
}

/// A duration in nanoseconds, saturating: a `Duration` can hold more than a `u64`
/// of nanoseconds, and the excess only ever means "later than anything".
pub(crate) fn duration_as_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
