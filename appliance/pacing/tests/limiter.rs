//! The calls-per-second ceiling and the concurrency limit, checked against their
//! definitions: every start is counted against the sliding window it ends, with the
//! rate in force when it was made, by brute force over the whole history.

use std::collections::BTreeSet;
use std::time::Duration;

use proptest::prelude::*;
use shofar_pacing::{ChannelLimit, ChannelSlot, Cps, CpsLimiter, Monotonic};

const SECOND_NANOS: u64 = 1_000_000_000;

fn cps(value: f64) -> Cps {
    Cps::new(value).unwrap()
}

/// A start the limiter allowed, with the rate in force when it did.
#[derive(Debug, Clone, Copy)]
struct Start {
    at: u64,
    rate: f64,
}

/// The guarantee, from its definition: for each start, at most `floor(rate)` starts
/// (itself included) in the second ending with it; below 1 cps, no other start less
/// than `1/rate` seconds before it. Returns the first offending start.
fn first_violation(starts: &[Start]) -> Option<(usize, String)> {
    for (index, start) in starts.iter().enumerate() {
        let earlier = &starts[..index];
        if start.rate >= 1.0 {
            let in_window = 1 + earlier
                .iter()
                .filter(|other| start.at - other.at < SECOND_NANOS)
                .count();
            if in_window as f64 > start.rate.floor() {
                return Some((
                    index,
                    format!("{in_window} starts in the second ending at {}", start.at),
                ));
            }
        } else if let Some(previous) = earlier.last() {
            // Gap in seconds times the rate must be at least one.
            let gap_times_rate = (start.at - previous.at) as f64 / 1e9 * start.rate;
            if gap_times_rate < 1.0 {
                return Some((
                    index,
                    format!("two starts {} ns apart", start.at - previous.at),
                ));
            }
        }
    }
    None
}

/// Every half-open one-second window, wherever it begins, holds at most
/// `floor(rate)` starts for the rate in force at its end. Only the windows beginning
/// at a start need checking: sliding any other window forward to its first start
/// loses nothing from it.
fn every_window_within(starts: &[Start]) -> bool {
    starts.iter().enumerate().all(|(index, first)| {
        let in_window: Vec<&Start> = starts[index..]
            .iter()
            .take_while(|other| other.at - first.at < SECOND_NANOS)
            .collect();
        let rate_at_end = in_window.last().map_or(first.rate, |last| last.rate);
        rate_at_end < 1.0 || in_window.len() as f64 <= rate_at_end.floor()
    })
}

/// Gaps between attempts: mostly short (so the limiter is pressed hard), sometimes
/// long (so windows empty out), sometimes zero (same-instant attempts).
fn gap_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => 0u64..5_000_000,
        3 => 0u64..300_000_000,
        1 => 0u64..3 * SECOND_NANOS,
        1 => Just(0u64),
    ]
}

fn rate_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.1f64..1.0,
        1.0f64..20.0,
        (1u32..50).prop_map(f64::from),
        20.0f64..1000.0,
    ]
}

#[derive(Debug, Clone)]
enum Action {
    Attempt {
        gap: u64,
    },
    /// Multiplies the rate by this factor (below 1: a decrease).
    ChangeRate {
        factor: f64,
    },
}

fn actions(factor_range: std::ops::Range<f64>) -> impl Strategy<Value = Vec<Action>> {
    prop::collection::vec(
        prop_oneof![
            12 => gap_strategy().prop_map(|gap| Action::Attempt { gap }),
            1 => factor_range.prop_map(|factor| Action::ChangeRate { factor }),
        ],
        1..400,
    )
}

/// Runs the actions; returns the starts made, each with the rate then in force.
fn drive(initial_rate: f64, actions: &[Action]) -> Vec<Start> {
    drive_limiter(CpsLimiter::new(cps(initial_rate)), actions)
}

fn drive_limiter(mut limiter: CpsLimiter, actions: &[Action]) -> Vec<Start> {
    let mut now = 0u64;
    let mut starts = Vec::new();
    for action in actions {
        match *action {
            Action::Attempt { gap } => {
                now += gap;
                let instant = Monotonic::from_nanos(now);
                let predicted = limiter.next_available(instant);
                let acquired = limiter.try_acquire(instant);
                // `next_available` is exact: it says "now" exactly when a start is allowed.
                assert_eq!(acquired, predicted == instant, "at {now}");
                if acquired {
                    starts.push(Start {
                        at: now,
                        rate: limiter.rate().get(),
                    });
                }
            }
            Action::ChangeRate { factor } => {
                let lowered = (limiter.rate().get() * factor).clamp(Cps::MIN, Cps::MAX);
                limiter.set_rate(cps(lowered));
            }
        }
    }
    starts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The CPS ceiling property: random attempts at random times, with random rate
    /// decreases; starts already made count against the new rate. Every sliding
    /// one-second window holds at most floor(cps) starts, below 1 cps no two starts
    /// are closer than 1/cps, and every window holds at most floor of the rate in
    /// force at its end.
    #[test]
    fn ceiling_holds_over_every_sliding_window_with_rate_decreases(
        initial_rate in rate_strategy(),
        actions in actions(0.05..1.0),
    ) {
        let starts = drive(initial_rate, &actions);
        prop_assert_eq!(first_violation(&starts), None);
        prop_assert!(every_window_within(&starts));
    }

    /// The same with the rate moving both ways: a raised rate must not forget starts
    /// still inside the window (the log is pruned by age, never by count).
    #[test]
    fn ceiling_holds_when_the_rate_goes_down_and_up(
        initial_rate in rate_strategy(),
        actions in actions(0.05..20.0),
    ) {
        let starts = drive(initial_rate, &actions);
        prop_assert_eq!(first_violation(&starts), None);
    }

    /// Property 36 for the dialer's count at the dial (issue 15): a ceiling-only
    /// limiter keeps the same guarantee, with rates moving both ways.
    #[test]
    fn a_ceiling_only_limiter_keeps_the_guarantee(
        initial_rate in rate_strategy(),
        actions in actions(0.05..20.0),
    ) {
        let starts = drive_limiter(CpsLimiter::ceiling_only(cps(initial_rate)), &actions);
        prop_assert_eq!(first_violation(&starts), None);
    }

    /// With a margin, the guarantee holds for starts that happen up to the margin
    /// after they were counted (a dial reaching the network late, issue 15).
    #[test]
    fn a_margin_keeps_the_guarantee_for_late_starts(
        initial_rate in rate_strategy(),
        gaps in prop::collection::vec(gap_strategy(), 1..400),
        delays in prop::collection::vec(0u64..10_000_000, 400),
    ) {
        let actions: Vec<Action> = gaps.into_iter().map(|gap| Action::Attempt { gap }).collect();
        let margin = std::time::Duration::from_millis(10);
        let counted = drive_limiter(
            CpsLimiter::ceiling_only(cps(initial_rate)).with_margin(margin),
            &actions,
        );
        let mut late: Vec<Start> = counted
            .iter()
            .zip(&delays)
            .map(|(start, delay)| Start { at: start.at + delay, rate: start.rate })
            .collect();
        late.sort_by_key(|start| start.at);
        // Below 1 cps the guarantee is the spacing, which a late start can break
        // by its delay; the dialer's rates are 1 cps and above.
        if initial_rate >= 1.0 {
            prop_assert!(every_window_within(&late));
        }
    }

    /// No burst inside the window: consecutive starts are at least 1/cps apart.
    #[test]
    fn starts_are_spread_at_least_one_over_cps_apart(
        initial_rate in rate_strategy(),
        actions in actions(0.05..20.0),
    ) {
        let starts = drive(initial_rate, &actions);
        for pair in starts.windows(2) {
            let gap_times_rate = (pair[1].at - pair[0].at) as f64 / 1e9 * pair[1].rate;
            prop_assert!(gap_times_rate >= 1.0 - 1e-9, "{:?}", pair);
        }
    }

    /// `next_available` is never in the past and the limiter says yes there (and, when
    /// it is later than now, no one nanosecond before).
    #[test]
    fn next_available_is_the_first_instant_allowed(
        initial_rate in rate_strategy(),
        actions in actions(0.05..20.0),
        probe_gap in gap_strategy(),
    ) {
        let starts = drive(initial_rate, &actions);
        // Replays the same starts, each under the rate it was made at.
        let mut limiter = CpsLimiter::new(cps(initial_rate));
        for start in &starts {
            limiter.set_rate(cps(start.rate));
            prop_assert!(limiter.try_acquire(Monotonic::from_nanos(start.at)));
        }
        let now = Monotonic::from_nanos(starts.last().map_or(0, |start| start.at) + probe_gap);
        let next = limiter.next_available(now);
        prop_assert!(next >= now);
        if next > now {
            let mut early = limiter.clone();
            prop_assert!(!early.try_acquire(Monotonic::from_nanos(next.as_nanos() - 1)));
        }
        prop_assert!(limiter.try_acquire(next));
    }

    /// The limiter remembers at most the starts of the last second plus the latest:
    /// its memory is bounded by the rate, however long it runs.
    #[test]
    fn memory_is_bounded_by_the_rate(
        initial_rate in rate_strategy(),
        actions in actions(0.05..1.0),
    ) {
        let mut limiter = CpsLimiter::new(cps(initial_rate));
        let mut now = 0u64;
        for action in &actions {
            if let Action::Attempt { gap } = action {
                now += gap;
                limiter.try_acquire(Monotonic::from_nanos(now));
                prop_assert!(limiter.remembered_starts() <= Cps::MAX as usize + 1);
            }
        }
    }
}

/// How many starts a limiter hammered every millisecond for ten seconds makes: the
/// long-run rate is floor(cps) above 1 cps and exactly cps below it.
fn check_starts_in_ten_seconds(rate: f64, expected: usize) {
    let mut limiter = CpsLimiter::new(cps(rate));
    let started = (0..10_000u64)
        .filter(|millis| limiter.try_acquire(Monotonic::from_nanos(millis * 1_000_000)))
        .count();
    assert_eq!(started, expected, "at {rate} cps");
}

#[test]
fn long_run_rate_is_floor_of_cps_above_one() {
    check_starts_in_ten_seconds(1.0, 10);
    check_starts_in_ten_seconds(5.0, 50);
    check_starts_in_ten_seconds(2.5, 20);
    check_starts_in_ten_seconds(0.5, 5);
    check_starts_in_ten_seconds(0.1, 1);
    check_starts_in_ten_seconds(1000.0, 10_000);
}

#[test]
fn lowering_the_rate_counts_the_starts_already_made() {
    let mut limiter = CpsLimiter::new(cps(10.0));
    let mut now = 0u64;
    for _ in 0..10 {
        now = limiter
            .next_available(Monotonic::from_nanos(now))
            .as_nanos();
        assert!(limiter.try_acquire(Monotonic::from_nanos(now)));
    }
    // Ten starts at 0, 0.1, …, 0.9 s. At 2 cps the next may come a second after the
    // ninth (0.8 s) and half a second after the tenth: at 1.8 s.
    limiter.set_rate(cps(2.0));
    assert_eq!(
        limiter.next_available(Monotonic::from_nanos(now)),
        Monotonic::from_nanos(1_800_000_000)
    );
}

#[test]
fn an_instant_before_the_latest_start_is_refused() {
    let mut limiter = CpsLimiter::new(cps(1000.0));
    assert!(limiter.try_acquire(Monotonic::from_nanos(5 * SECOND_NANOS)));
    assert!(!limiter.try_acquire(Monotonic::from_nanos(SECOND_NANOS)));
    assert_eq!(limiter.remembered_starts(), 1);
}

#[test]
fn the_end_of_the_clock_does_not_wrap_around() {
    let mut limiter = CpsLimiter::new(cps(1.0));
    assert!(limiter.try_acquire(Monotonic::MAX));
    assert!(!limiter.try_acquire(Monotonic::MAX));
    assert_eq!(limiter.next_available(Monotonic::MAX), Monotonic::MAX);
}

#[test]
fn rates_outside_the_range_are_refused() {
    for value in [0.0, 0.09, 1000.5, -1.0, f64::NAN, f64::INFINITY] {
        assert!(Cps::new(value).is_err(), "{value}");
    }
    assert_eq!(
        Cps::new(0.0).unwrap_err().to_string(),
        "calls per second must be between 0.1 and 1000, got 0"
    );
    assert!(Cps::new(0.1).is_ok() && Cps::new(1000.0).is_ok());
}

#[test]
fn monotonic_arithmetic_saturates() {
    let near_end = Monotonic::from_nanos(u64::MAX - 1);
    assert_eq!(
        near_end.saturating_add(Duration::from_secs(1)),
        Monotonic::MAX
    );
    assert_eq!(near_end.checked_add(Duration::from_secs(1)), None);
    assert_eq!(
        Monotonic::ZERO.saturating_duration_since(near_end),
        Duration::ZERO
    );
    assert_eq!(Monotonic::from_duration(Duration::MAX), Monotonic::MAX);
    assert_eq!(Monotonic::from_nanos(1_234_567_890).to_string(), "1.234 s");
}

#[derive(Debug, Clone)]
enum ChannelAction {
    Acquire,
    /// Releases the n-th slot ever handed out (maybe already released).
    ReleaseGiven(usize),
    /// Releases a slot number this limit never handed out.
    ReleaseUnknown(u64),
    SetMax(u32),
}

fn channel_actions() -> impl Strategy<Value = Vec<ChannelAction>> {
    prop::collection::vec(
        prop_oneof![
            4 => Just(ChannelAction::Acquire),
            3 => (0usize..64).prop_map(ChannelAction::ReleaseGiven),
            1 => (1_000u64..1_100).prop_map(ChannelAction::ReleaseUnknown),
            1 => (0u32..12).prop_map(ChannelAction::SetMax),
        ],
        0..200,
    )
}

/// Slot numbers are private; a slot the limit never gave out is made by another
/// limit advanced past any number the limit under test reaches (it hands out fewer
/// than 200 slots).
fn foreign_slot(number: u64) -> ChannelSlot {
    let mut other = ChannelLimit::new(u32::MAX);
    loop {
        let slot = other.try_acquire().unwrap();
        if slot.id() >= number {
            return slot;
        }
    }
}

proptest! {
    /// The concurrency limit against a model: never more held than the limit allowed
    /// at each acquire, a release counts only for a slot held, and nothing underflows.
    #[test]
    fn channel_limit_never_exceeds_max_and_never_underflows(
        initial_max in 0u32..12,
        actions in channel_actions(),
    ) {
        let mut limit = ChannelLimit::new(initial_max);
        let mut given: Vec<ChannelSlot> = Vec::new();
        let mut held: BTreeSet<ChannelSlot> = BTreeSet::new();
        for action in actions {
            match action {
                ChannelAction::Acquire => {
                    let could = (held.len() as u32) < limit.max_concurrent();
                    let slot = limit.try_acquire();
                    prop_assert_eq!(slot.is_some(), could);
                    if let Some(slot) = slot {
                        prop_assert!(held.insert(slot), "slot handed out twice");
                        given.push(slot);
                    }
                }
                ChannelAction::ReleaseGiven(index) => {
                    if let Some(&slot) = given.get(index) {
                        prop_assert_eq!(limit.release(slot), held.remove(&slot));
                    }
                }
                ChannelAction::ReleaseUnknown(number) => {
                    let before = limit.in_use();
                    prop_assert!(!limit.release(foreign_slot(number)));
                    prop_assert_eq!(limit.in_use(), before);
                }
                ChannelAction::SetMax(max) => limit.set_max_concurrent(max),
            }
            prop_assert_eq!(limit.in_use() as usize, held.len());
            prop_assert_eq!(
                limit.available(),
                limit.max_concurrent().saturating_sub(held.len() as u32)
            );
        }
    }
}
