//! The adaptive pace: the calls-per-second the dialer may use now, between a floor
//! and the configured ceiling, following the box's health.
//!
//! Each [`Health`] sample is read against [`Thresholds`] as one of three verdicts:
//!
//! - **high**: some reading is above its "high" threshold (or the answer rate below
//!   its "low" one). The pace is multiplied by `decrease_factor`, down to the floor,
//!   unless a decrease happened less than `hold_down` ago: the previous decrease has
//!   not had time to show in the readings yet, and cutting again would overshoot
//!   (properties 36 and 38).
//! - **healthy**: every reading is below its "ok" threshold and the answer rate, if
//!   known, at or above its "ok" one. Once samples have been healthy without a break
//!   for `recover_interval` (and the hold-down has passed), the pace rises by one
//!   step, and the interval starts again: at most one step per interval, back to the
//!   ceiling (property 37).
//! - **in the band** between the two: nothing changes, and the healthy stretch is
//!   broken. This gap between "high" and "ok" is what keeps a reading hovering
//!   around one threshold from moving the pace up and down.
//!
//! When several readings are high at once, the reason names the first of: CPU,
//! memory, load, Asterisk channels, answer rate. A NaN reading is neither high nor
//! healthy, so it holds the pace.
//!
//! Time only moves forward: a sample or ceiling change whose instant is before the
//! latest one seen is ignored (a sample) or applied at the latest instant seen (a
//! ceiling change, which is an operator's decision and must not be lost). Either
//! way the change log stays in time order.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::rate::Cps;
use crate::time::Monotonic;

/// One reading of the box and the campaign, taken at the instant passed with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Health {
    pub cpu_percent: f64,
    pub memory_percent: f64,
    /// The one-minute load average divided by the number of cores.
    pub load_per_core: f64,
    /// Channels Asterisk has up, of every kind.
    pub asterisk_channels: u32,
    /// Answered calls over attempted calls in a recent window, from 0 to 1; `None`
    /// when too few calls ended to say, which counts as healthy.
    pub answer_rate: Option<f64>,
}

/// When the pace moves, and by how much. Every "ok" value must not exceed its "high"
/// value (for the answer rate, "low" must not exceed "ok"); see
/// [`Thresholds::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// Default 85.
    pub cpu_high_percent: f64,
    /// Default 70.
    pub cpu_ok_percent: f64,
    /// Default 90.
    pub memory_high_percent: f64,
    /// Default 80.
    pub memory_ok_percent: f64,
    /// Default 1.5.
    pub load_per_core_high: f64,
    /// Default 1.0.
    pub load_per_core_ok: f64,
    /// High when Asterisk has more channels than this. No default: it is the box's
    /// configured maximum, given to [`Thresholds::for_channels`].
    pub channels_high: u32,
    /// Healthy when Asterisk has fewer channels than this. Default: 80 % of
    /// `channels_high`, rounded up.
    pub channels_ok: u32,
    /// Default 0.15: below it, most calls are wasted on a bad list or a failing trunk.
    pub answer_rate_low: f64,
    /// Default 0.25.
    pub answer_rate_ok: f64,
    /// What a decrease multiplies the pace by, strictly between 0 and 1. Default 0.5.
    pub decrease_factor: f64,
    /// One recovery step, as a fraction of the ceiling, in (0, 1]. Default 0.1.
    pub increase_step_fraction: f64,
    /// How long samples must stay healthy for each step up; more than zero.
    /// Default 10 s.
    pub recover_interval: Duration,
    /// The floor, as a fraction of the ceiling, in (0, 1]. Default 0.05. The floor is
    /// never below [`Cps::MIN`]: with a ceiling of 1 cps the floor is 0.1 cps, not 0.05.
    pub minimum_fraction: f64,
    /// How long after a decrease the pace neither falls nor rises again. Default 15 s.
    pub hold_down: Duration,
}

impl Thresholds {
    /// The documented defaults, for a box whose Asterisk should carry at most
    /// `max_channels` channels.
    pub fn for_channels(max_channels: u32) -> Thresholds {
        Thresholds {
            cpu_high_percent: 85.0,
            cpu_ok_percent: 70.0,
            memory_high_percent: 90.0,
            memory_ok_percent: 80.0,
            load_per_core_high: 1.5,
            load_per_core_ok: 1.0,
            channels_high: max_channels,
            channels_ok: max_channels - max_channels / 5,
            answer_rate_low: 0.15,
            answer_rate_ok: 0.25,
            decrease_factor: 0.5,
            increase_step_fraction: 0.1,
            recover_interval: Duration::from_secs(10),
            minimum_fraction: 0.05,
            hold_down: Duration::from_secs(15),
        }
    }

    /// Checks the values make sense together; the first problem found is returned.
    pub fn validate(&self) -> Result<(), InvalidThresholds> {
        let ordered_pairs = [
            ("cpu_ok_percent", self.cpu_ok_percent, self.cpu_high_percent),
            (
                "memory_ok_percent",
                self.memory_ok_percent,
                self.memory_high_percent,
            ),
            (
                "load_per_core_ok",
                self.load_per_core_ok,
                self.load_per_core_high,
            ),
            ("answer_rate_low", self.answer_rate_low, self.answer_rate_ok),
        ];
        for (field, lower, upper) in ordered_pairs {
            if !lower.is_finite() || !upper.is_finite() {
                return Err(InvalidThresholds::new(field, "must be a finite number"));
            }
            if lower > upper {
                return Err(InvalidThresholds::new(
                    field,
                    "must not be above its partner threshold (ok ≤ high, low ≤ ok)",
                ));
            }
        }
        if self.channels_ok > self.channels_high {
            return Err(InvalidThresholds::new(
                "channels_ok",
                "must not be above channels_high",
            ));
        }
        if !(self.decrease_factor > 0.0 && self.decrease_factor < 1.0) {
            return Err(InvalidThresholds::new(
                "decrease_factor",
                "must be strictly between 0 and 1",
            ));
        }
        if !(self.increase_step_fraction > 0.0 && self.increase_step_fraction <= 1.0) {
            return Err(InvalidThresholds::new(
                "increase_step_fraction",
                "must be above 0 and at most 1",
            ));
        }
        if !(self.minimum_fraction > 0.0 && self.minimum_fraction <= 1.0) {
            return Err(InvalidThresholds::new(
                "minimum_fraction",
                "must be above 0 and at most 1",
            ));
        }
        if self.recover_interval.is_zero() {
            return Err(InvalidThresholds::new(
                "recover_interval",
                "must be longer than zero, or recovery would not be gradual",
            ));
        }
        Ok(())
    }
}

/// A [`Thresholds`] value that does not make sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pacing threshold `{field}` {problem}")]
pub struct InvalidThresholds {
    pub field: &'static str,
    pub problem: &'static str,
}

impl InvalidThresholds {
    fn new(field: &'static str, problem: &'static str) -> InvalidThresholds {
        InvalidThresholds { field, problem }
    }
}

/// Why the pace changed. The values are the reading and the threshold it crossed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    CpuHigh {
        percent: f64,
        threshold: f64,
    },
    MemoryHigh {
        percent: f64,
        threshold: f64,
    },
    LoadHigh {
        load_per_core: f64,
        threshold: f64,
    },
    ChannelsHigh {
        channels: u32,
        threshold: u32,
    },
    AnswerRateLow {
        rate: f64,
        threshold: f64,
    },
    /// Healthy for a whole recovery interval: one step back up.
    Recovered,
    /// The operator changed the ceiling.
    CeilingChanged,
}

impl fmt::Display for Reason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reason::CpuHigh { percent, threshold } => {
                write!(formatter, "CPU at {percent:.1} % is above {threshold} %")
            }
            Reason::MemoryHigh { percent, threshold } => {
                write!(formatter, "memory at {percent:.1} % is above {threshold} %")
            }
            Reason::LoadHigh {
                load_per_core,
                threshold,
            } => write!(
                formatter,
                "load of {load_per_core:.2} per core is above {threshold}"
            ),
            Reason::ChannelsHigh {
                channels,
                threshold,
            } => write!(
                formatter,
                "{channels} Asterisk channels are more than {threshold}"
            ),
            Reason::AnswerRateLow { rate, threshold } => write!(
                formatter,
                "answer rate of {:.1} % is below {:.1} %",
                rate * 100.0,
                threshold * 100.0
            ),
            Reason::Recovered => write!(formatter, "the box is healthy again"),
            Reason::CeilingChanged => write!(formatter, "the configured ceiling changed"),
        }
    }
}

/// One change of the pace.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PaceChange {
    /// The instant of the sample (or ceiling change) that caused it.
    pub at: Monotonic,
    pub old_cps: Cps,
    pub new_cps: Cps,
    pub reason: Reason,
}

impl fmt::Display for PaceChange {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "at {}: pace {} → {}: {}",
            self.at, self.old_cps, self.new_cps, self.reason
        )
    }
}

/// What one sample says, against the thresholds.
enum Verdict {
    High(Reason),
    InBand,
    Healthy,
}

fn judge(health: &Health, thresholds: &Thresholds) -> Verdict {
    if health.cpu_percent > thresholds.cpu_high_percent {
        return Verdict::High(Reason::CpuHigh {
            percent: health.cpu_percent,
            threshold: thresholds.cpu_high_percent,
        });
    }
    if health.memory_percent > thresholds.memory_high_percent {
        return Verdict::High(Reason::MemoryHigh {
            percent: health.memory_percent,
            threshold: thresholds.memory_high_percent,
        });
    }
    if health.load_per_core > thresholds.load_per_core_high {
        return Verdict::High(Reason::LoadHigh {
            load_per_core: health.load_per_core,
            threshold: thresholds.load_per_core_high,
        });
    }
    if health.asterisk_channels > thresholds.channels_high {
        return Verdict::High(Reason::ChannelsHigh {
            channels: health.asterisk_channels,
            threshold: thresholds.channels_high,
        });
    }
    if let Some(rate) = health.answer_rate
        && rate < thresholds.answer_rate_low
    {
        return Verdict::High(Reason::AnswerRateLow {
            rate,
            threshold: thresholds.answer_rate_low,
        });
    }
    // Every comparison is written so that NaN makes it false: an unknown reading is
    // not healthy.
    let answer_rate_healthy = match health.answer_rate {
        None => true,
        Some(rate) => rate >= thresholds.answer_rate_ok,
    };
    let healthy = health.cpu_percent < thresholds.cpu_ok_percent
        && health.memory_percent < thresholds.memory_ok_percent
        && health.load_per_core < thresholds.load_per_core_ok
        && health.asterisk_channels < thresholds.channels_ok
        && answer_rate_healthy;
    if healthy {
        Verdict::Healthy
    } else {
        Verdict::InBand
    }
}

/// The adaptive pace; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct PaceController {
    thresholds: Thresholds,
    ceiling: Cps,
    pace: Cps,
    /// The latest instant of any input; earlier samples are ignored.
    latest_input: Option<Monotonic>,
    last_decrease_at: Option<Monotonic>,
    /// Since when the samples have been healthy without a break, or since the last
    /// step up if that is later. `None` while they are not healthy.
    healthy_since: Option<Monotonic>,
}

impl PaceController {
    /// Starts at the ceiling: a box is presumed healthy until a sample says otherwise.
    pub fn new(ceiling: Cps, thresholds: Thresholds) -> Result<PaceController, InvalidThresholds> {
        thresholds.validate()?;
        Ok(PaceController {
            thresholds,
            ceiling,
            pace: ceiling,
            latest_input: None,
            last_decrease_at: None,
            healthy_since: None,
        })
    }

    /// The pace the dialer may use now.
    pub fn pace(&self) -> Cps {
        self.pace
    }

    pub fn ceiling(&self) -> Cps {
        self.ceiling
    }

    /// The floor: `minimum_fraction` of the ceiling, and never below [`Cps::MIN`].
    pub fn minimum(&self) -> Cps {
        Cps::clamped(self.ceiling.get() * self.thresholds.minimum_fraction)
    }

    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// One recovery step, in calls per second.
    pub fn step(&self) -> f64 {
        self.ceiling.get() * self.thresholds.increase_step_fraction
    }

    /// Takes a sample taken at `now`. Returns the change it caused, if any; a sample
    /// from before the latest input is ignored and returns `None`.
    pub fn observe(&mut self, now: Monotonic, health: &Health) -> Option<PaceChange> {
        if self.latest_input.is_some_and(|latest| now < latest) {
            return None;
        }
        self.latest_input = Some(now);
        match judge(health, &self.thresholds) {
            Verdict::High(reason) => {
                self.healthy_since = None;
                if !self.hold_down_passed(now) || self.pace <= self.minimum() {
                    return None;
                }
                let lowered =
                    (self.pace.get() * self.thresholds.decrease_factor).max(self.minimum().get());
                self.last_decrease_at = Some(now);
                self.change_to(Cps::clamped(lowered), now, reason)
            }
            Verdict::InBand => {
                self.healthy_since = None;
                None
            }
            Verdict::Healthy => {
                let healthy_since = *self.healthy_since.get_or_insert(now);
                let waited_long_enough = now.saturating_duration_since(healthy_since)
                    >= self.thresholds.recover_interval;
                if self.pace >= self.ceiling || !waited_long_enough || !self.hold_down_passed(now) {
                    return None;
                }
                self.healthy_since = Some(now);
                let raised = self.pace.get() + self.step();
                // Steps are fractions of the ceiling, so after a few of them rounding can
                // leave the pace a hair below it; a hair is not worth another step.
                let raised = if raised >= self.ceiling.get() * (1.0 - 1e-9) {
                    self.ceiling.get()
                } else {
                    raised
                };
                self.change_to(Cps::clamped(raised), now, Reason::Recovered)
            }
        }
    }

    /// Changes the ceiling. A pace that was at the old ceiling follows to the new one;
    /// a lowered pace keeps its value, within the new floor and ceiling, and keeps
    /// recovering (now by steps of the new ceiling). `now` earlier than the latest
    /// input is taken as the latest input.
    pub fn set_ceiling(&mut self, ceiling: Cps, now: Monotonic) -> Option<PaceChange> {
        let at = self.latest_input.map_or(now, |latest| latest.max(now));
        self.latest_input = Some(at);
        let was_at_ceiling = self.pace >= self.ceiling;
        self.ceiling = ceiling;
        let target = if was_at_ceiling {
            ceiling
        } else {
            Cps::clamped(
                self.pace
                    .get()
                    .clamp(self.minimum().get(), self.ceiling.get()),
            )
        };
        self.change_to(target, at, Reason::CeilingChanged)
    }

    fn hold_down_passed(&self, now: Monotonic) -> bool {
        self.last_decrease_at.is_none_or(|decreased_at| {
            now.saturating_duration_since(decreased_at) >= self.thresholds.hold_down
        })
    }

    fn change_to(&mut self, new_pace: Cps, at: Monotonic, reason: Reason) -> Option<PaceChange> {
        if new_pace == self.pace {
            return None;
        }
        let change = PaceChange {
            at,
            old_cps: self.pace,
            new_cps: new_pace,
            reason,
        };
        self.pace = new_pace;
        Some(change)
    }
}
