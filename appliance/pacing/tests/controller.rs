//! The adaptive pace: properties 36–39 and the hysteresis band as proptests over
//! random thresholds, ceilings and sample sequences, each checked against a
//! classification of the samples written here from the thresholds' definitions; then
//! a deterministic simulation of a CPU spike whose exact change log is asserted.

use std::time::Duration;

use proptest::prelude::*;
use shofar_pacing::{Cps, Health, Monotonic, PaceChange, PaceController, Reason, Thresholds};

const SECOND_NANOS: u64 = 1_000_000_000;

fn cps(value: f64) -> Cps {
    Cps::new(value).unwrap()
}

fn at_seconds(seconds: u64) -> Monotonic {
    Monotonic::from_nanos(seconds * SECOND_NANOS)
}

fn healthy() -> Health {
    Health {
        cpu_percent: 40.0,
        memory_percent: 50.0,
        load_per_core: 0.5,
        asterisk_channels: 0,
        answer_rate: None,
    }
}

fn with_cpu(cpu_percent: f64) -> Health {
    Health {
        cpu_percent,
        ..healthy()
    }
}

/// What a sample is, from the definitions in the thresholds' documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    High,
    Band,
    Healthy,
}

fn classify(health: &Health, thresholds: &Thresholds) -> Class {
    let high = health.cpu_percent > thresholds.cpu_high_percent
        || health.memory_percent > thresholds.memory_high_percent
        || health.load_per_core > thresholds.load_per_core_high
        || health.asterisk_channels > thresholds.channels_high
        || health
            .answer_rate
            .is_some_and(|rate| rate < thresholds.answer_rate_low);
    let all_ok = health.cpu_percent < thresholds.cpu_ok_percent
        && health.memory_percent < thresholds.memory_ok_percent
        && health.load_per_core < thresholds.load_per_core_ok
        && health.asterisk_channels < thresholds.channels_ok
        && health
            .answer_rate
            .is_none_or(|rate| rate >= thresholds.answer_rate_ok);
    if high {
        Class::High
    } else if all_ok {
        Class::Healthy
    } else {
        Class::Band
    }
}

/// Valid thresholds around the defaults: bands of random width, random factors and
/// intervals.
fn thresholds_strategy() -> impl Strategy<Value = Thresholds> {
    (
        (50.0f64..90.0, 0.0f64..20.0),
        (50.0f64..90.0, 0.0f64..20.0),
        (0.5f64..2.0, 0.0f64..1.0),
        (4u32..200, 0.5f64..1.0),
        (0.05f64..0.3, 0.0f64..0.2),
        (0.1f64..0.9, 0.05f64..1.0, 0.01f64..0.5),
        (1u64..30, 0u64..30),
    )
        .prop_map(
            |(
                (cpu_ok, cpu_band),
                (memory_ok, memory_band),
                (load_ok, load_band),
                (channels_high, channels_ok_fraction),
                (answer_low, answer_band),
                (decrease_factor, increase_step_fraction, minimum_fraction),
                (recover_seconds, hold_down_seconds),
            )| Thresholds {
                cpu_high_percent: cpu_ok + cpu_band,
                cpu_ok_percent: cpu_ok,
                memory_high_percent: memory_ok + memory_band,
                memory_ok_percent: memory_ok,
                load_per_core_high: load_ok + load_band,
                load_per_core_ok: load_ok,
                channels_high,
                channels_ok: (f64::from(channels_high) * channels_ok_fraction).ceil() as u32,
                answer_rate_low: answer_low,
                answer_rate_ok: answer_low + answer_band,
                decrease_factor,
                increase_step_fraction,
                recover_interval: Duration::from_secs(recover_seconds),
                minimum_fraction,
                hold_down: Duration::from_secs(hold_down_seconds),
            },
        )
}

fn ceiling_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![0.1f64..2.0, 1.0f64..100.0, (1u32..200).prop_map(f64::from)]
}

/// Any reading at all, often straddling the thresholds, sometimes NaN.
fn any_health() -> impl Strategy<Value = Health> {
    let percent = prop_oneof![8 => 0.0f64..100.0, 1 => Just(f64::NAN)];
    (
        percent.clone(),
        percent,
        0.0f64..3.0,
        0u32..250,
        prop::option::of(0.0f64..1.0),
    )
        .prop_map(
            |(cpu_percent, memory_percent, load_per_core, asterisk_channels, answer_rate)| Health {
                cpu_percent,
                memory_percent,
                load_per_core,
                asterisk_channels,
                answer_rate,
            },
        )
}

/// A reading with every value below its "ok" threshold (scaled by fractions in
/// [0, 1)). Channels are healthy only if `channels_ok` is above zero; the strategy
/// for thresholds makes it at least 2.
fn healthy_health(thresholds: &Thresholds) -> impl Strategy<Value = Health> + use<> {
    let thresholds = thresholds.clone();
    (
        0.0f64..1.0,
        0.0f64..1.0,
        0.0f64..1.0,
        0.0f64..1.0,
        prop::option::of(0.0f64..1.0),
    )
        .prop_map(move |(cpu, memory, load, channels, answer)| Health {
            cpu_percent: thresholds.cpu_ok_percent * cpu,
            memory_percent: thresholds.memory_ok_percent * memory,
            load_per_core: thresholds.load_per_core_ok * load,
            asterisk_channels: (f64::from(thresholds.channels_ok) * channels) as u32,
            answer_rate: answer.map(|fraction| {
                thresholds.answer_rate_ok + (1.0 - thresholds.answer_rate_ok) * fraction
            }),
        })
}

/// A reading with no value high and at least one in its band: each value is picked
/// either below its "ok" threshold or between (inclusive) its "ok" and "high"
/// thresholds, by the bits of a non-zero mask.
fn band_health(thresholds: &Thresholds) -> impl Strategy<Value = Health> + use<> {
    let all_in_band = every_value_in_band(thresholds);
    (all_in_band, healthy_health(thresholds), 1u8..32).prop_map(|(band, healthy, mask)| {
        let pick = |bit: u8| mask & (1 << bit) != 0;
        Health {
            cpu_percent: if pick(0) {
                band.cpu_percent
            } else {
                healthy.cpu_percent
            },
            memory_percent: if pick(1) {
                band.memory_percent
            } else {
                healthy.memory_percent
            },
            load_per_core: if pick(2) {
                band.load_per_core
            } else {
                healthy.load_per_core
            },
            asterisk_channels: if pick(3) {
                band.asterisk_channels
            } else {
                healthy.asterisk_channels
            },
            answer_rate: if pick(4) {
                band.answer_rate
            } else {
                healthy.answer_rate
            },
        }
    })
}

fn every_value_in_band(thresholds: &Thresholds) -> impl Strategy<Value = Health> + use<> {
    let thresholds = thresholds.clone();
    (
        0.0f64..=1.0,
        0.0f64..=1.0,
        0.0f64..=1.0,
        0.0f64..=1.0,
        0.0f64..=1.0,
    )
        .prop_map(move |(cpu, memory, load, channels, answer)| {
            let between = |low: f64, high: f64, fraction: f64| low + (high - low) * fraction;
            Health {
                cpu_percent: between(thresholds.cpu_ok_percent, thresholds.cpu_high_percent, cpu),
                memory_percent: between(
                    thresholds.memory_ok_percent,
                    thresholds.memory_high_percent,
                    memory,
                ),
                load_per_core: between(
                    thresholds.load_per_core_ok,
                    thresholds.load_per_core_high,
                    load,
                ),
                asterisk_channels: between(
                    f64::from(thresholds.channels_ok),
                    f64::from(thresholds.channels_high),
                    channels,
                ) as u32,
                answer_rate: Some(between(
                    thresholds.answer_rate_low,
                    thresholds.answer_rate_ok,
                    answer,
                )),
            }
        })
}

/// Gaps between samples, in milliseconds: samples come every few seconds, with
/// bursts and pauses.
fn gap_millis() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 500u64..5_000,
        1 => 0u64..500,
        1 => 5_000u64..40_000,
    ]
}

fn samples(
    health: impl Strategy<Value = Health>,
    length: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<(u64, Health)>> {
    prop::collection::vec((gap_millis(), health), length)
}

/// Feeds the samples from `start_nanos` on; returns each sample's instant, the
/// pace before it and what `observe` returned.
fn run(
    controller: &mut PaceController,
    start_nanos: u64,
    samples: &[(u64, Health)],
) -> Vec<(Monotonic, Cps, Option<PaceChange>)> {
    let mut now = start_nanos;
    samples
        .iter()
        .map(|(gap, health)| {
            now += gap * 1_000_000;
            let instant = Monotonic::from_nanos(now);
            let before = controller.pace();
            (instant, before, controller.observe(instant, health))
        })
        .collect()
}

/// The last instant in a run, for continuing after it.
fn end_of(run: &[(Monotonic, Cps, Option<PaceChange>)]) -> u64 {
    run.last().map_or(0, |(instant, _, _)| instant.as_nanos())
}

fn last_decrease(run: &[(Monotonic, Cps, Option<PaceChange>)]) -> Option<Monotonic> {
    run.iter()
        .rev()
        .filter_map(|(_, _, change)| *change)
        .find(|change| change.new_cps < change.old_cps)
        .map(|change| change.at)
}

fn is_decrease_reason(reason: &Reason) -> bool {
    !matches!(reason, Reason::Recovered | Reason::CeilingChanged)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    /// Property 36: a sample above a high threshold, once the hold-down since the
    /// last decrease has passed, lowers the pace strictly (unless it is at the
    /// floor), by the decrease factor, and never below the floor. Conversely a
    /// decrease only ever comes from a high sample.
    #[test]
    fn property_36_high_sample_decreases_after_hold_down(
        thresholds in thresholds_strategy(),
        ceiling in ceiling_strategy(),
        sequence in samples(any_health(), 1..120),
    ) {
        let mut controller = PaceController::new(cps(ceiling), thresholds.clone()).unwrap();
        let minimum = controller.minimum();
        let mut now = 0u64;
        let mut last_decrease_seen: Option<u64> = None;
        for (gap, health) in &sequence {
            now += gap * 1_000_000;
            let before = controller.pace();
            let change = controller.observe(Monotonic::from_nanos(now), health);
            let hold_down_passed = last_decrease_seen.is_none_or(|decreased| {
                Duration::from_nanos(now - decreased) >= thresholds.hold_down
            });
            if classify(health, &thresholds) == Class::High {
                if hold_down_passed && before > minimum {
                    let change = change.expect("a high sample after the hold-down must lower the pace");
                    prop_assert!(change.new_cps < change.old_cps);
                    prop_assert!(is_decrease_reason(&change.reason));
                    let expected = (before.get() * thresholds.decrease_factor).max(minimum.get());
                    prop_assert!((change.new_cps.get() - expected).abs() <= 1e-9 * expected);
                    last_decrease_seen = Some(now);
                } else {
                    prop_assert_eq!(change, None);
                }
            } else if let Some(change) = change {
                prop_assert!(change.new_cps > change.old_cps, "only a high sample lowers the pace");
            }
            prop_assert!(controller.pace() >= minimum && controller.pace() <= controller.ceiling());
        }
    }

    /// Property 37: after any history, samples that stay healthy raise the pace by
    /// at most one step per recovery interval, with reason `Recovered`, and bring it
    /// back to the ceiling within hold-down + steps × (interval + longest gap) +
    /// longest gap.
    #[test]
    fn property_37_healthy_samples_recover_stepwise_to_the_ceiling(
        (thresholds, prefix, recovery_gaps) in thresholds_strategy().prop_flat_map(|thresholds| {
            let healthy = healthy_health(&thresholds);
            (
                Just(thresholds),
                samples(any_health(), 0..60),
                prop::collection::vec((500u64..5_000, healthy), 1..8),
            )
        }),
        ceiling in ceiling_strategy(),
    ) {
        let mut controller = PaceController::new(cps(ceiling), thresholds.clone()).unwrap();
        let history = run(&mut controller, 0, &prefix);
        let recovery_start = end_of(&history) + SECOND_NANOS;
        let longest_gap = Duration::from_millis(5_000);
        let steps = (1.0 / thresholds.increase_step_fraction).ceil() as u32;
        let bound = thresholds.hold_down
            + (thresholds.recover_interval + longest_gap) * steps
            + longest_gap;

        // The healthy gaps and readings repeat until well past the bound.
        let mut now = recovery_start;
        // The healthy stretch may have begun in the history already: steps are spaced
        // from the last instant that broke it (a sample not healthy, or a change).
        let mut previous_step_or_start = history
            .iter()
            .zip(&prefix)
            .rev()
            .find(|((_, _, change), (_, health))| {
                change.is_some() || classify(health, &thresholds) != Class::Healthy
            })
            .map_or(0, |((instant, _, _), _)| instant.as_nanos());
        let mut reached_at: Option<u64> = None;
        let mut index = 0;
        while now - recovery_start <= 2 * bound.as_nanos() as u64 {
            let (gap, health) = &recovery_gaps[index % recovery_gaps.len()];
            index += 1;
            let before = controller.pace();
            let change = controller.observe(Monotonic::from_nanos(now), health);
            if let Some(change) = change {
                prop_assert_eq!(change.reason, Reason::Recovered);
                prop_assert!(change.new_cps > change.old_cps);
                prop_assert!(change.new_cps.get() - before.get() <= controller.step() * (1.0 + 1e-9));
                prop_assert!(
                    Duration::from_nanos(now - previous_step_or_start) >= thresholds.recover_interval,
                    "two steps closer than the recovery interval"
                );
                previous_step_or_start = now;
            }
            if reached_at.is_none() && controller.pace() == controller.ceiling() {
                reached_at = Some(now);
            }
            now += gap * 1_000_000;
        }
        let reached_at = reached_at.expect("the pace must reach the ceiling");
        prop_assert!(Duration::from_nanos(reached_at - recovery_start) <= bound);
        prop_assert_eq!(controller.pace(), controller.ceiling());
    }

    /// Property 38: an answer rate below its low threshold, all else healthy, lowers
    /// the pace once the hold-down has passed, naming the answer rate.
    #[test]
    fn property_38_low_answer_rate_decreases(
        thresholds in thresholds_strategy(),
        ceiling in ceiling_strategy(),
        prefix in samples(any_health(), 0..40),
        rate_fraction in 0.0f64..1.0,
    ) {
        let mut controller = PaceController::new(cps(ceiling), thresholds.clone()).unwrap();
        let history = run(&mut controller, 0, &prefix);
        let after_hold_down = last_decrease(&history)
            .map_or(0, |decreased| decreased.as_nanos() + thresholds.hold_down.as_nanos() as u64)
            .max(end_of(&history));
        let rate = thresholds.answer_rate_low * rate_fraction;
        let health = Health { answer_rate: Some(rate), ..healthy_reading_for(&thresholds) };
        let before = controller.pace();
        let change = controller.observe(Monotonic::from_nanos(after_hold_down), &health);
        if before > controller.minimum() {
            let change = change.expect("a low answer rate must lower the pace");
            prop_assert_eq!(
                change.reason,
                Reason::AnswerRateLow { rate, threshold: thresholds.answer_rate_low }
            );
            prop_assert!(change.new_cps < change.old_cps);
        } else {
            prop_assert_eq!(change, None);
        }
    }

    /// Property 39: every change of the pace comes back as exactly one `PaceChange`
    /// with the sample's instant, the old and new values and a reason; no change, no
    /// entry. Samples from the past are ignored, and ceiling changes are logged too.
    #[test]
    fn property_39_every_change_is_logged_exactly_once(
        thresholds in thresholds_strategy(),
        ceiling in ceiling_strategy(),
        events in prop::collection::vec(
            (
                prop_oneof![6 => gap_millis().prop_map(|gap| gap as i64), 1 => -20_000i64..0],
                prop_oneof![12 => any_health().prop_map(Some), 1 => Just(None)],
                ceiling_strategy(),
            ),
            1..150,
        ),
    ) {
        let mut controller = PaceController::new(cps(ceiling), thresholds).unwrap();
        let mut now: i64 = 60_000;
        let mut latest = 0i64;
        let mut log: Vec<PaceChange> = Vec::new();
        let mut pace_changes = 0;
        for (gap, health, new_ceiling) in events {
            now = (now + gap).max(0);
            let instant = Monotonic::from_nanos(now as u64 * 1_000_000);
            let before = controller.pace();
            let change = match health {
                Some(health) => controller.observe(instant, &health),
                None => controller.set_ceiling(cps(new_ceiling), instant),
            };
            let after = controller.pace();
            prop_assert_eq!(change.is_some(), before != after);
            if before != after {
                pace_changes += 1;
            }
            if let Some(change) = change {
                prop_assert_eq!(change.old_cps, before);
                prop_assert_eq!(change.new_cps, after);
                let expected_at = if health.is_some() { now } else { now.max(latest) };
                prop_assert_eq!(change.at, Monotonic::from_nanos(expected_at as u64 * 1_000_000));
                if health.is_some() {
                    prop_assert!(!matches!(change.reason, Reason::CeilingChanged));
                } else {
                    prop_assert_eq!(change.reason, Reason::CeilingChanged);
                }
                log.push(change);
            }
            if health.is_some() && now < latest {
                prop_assert_eq!(change, None, "a sample from the past must be ignored");
            }
            latest = latest.max(now);
            prop_assert!(controller.pace() >= controller.minimum());
            prop_assert!(controller.pace() <= controller.ceiling());
        }
        prop_assert_eq!(log.len(), pace_changes);
        prop_assert!(log.windows(2).all(|pair| pair[0].at <= pair[1].at));
    }

    /// Hysteresis: readings with some value between its "ok" and "high" thresholds
    /// and none high never change the pace, whatever came before.
    #[test]
    fn hysteresis_readings_inside_the_band_change_nothing(
        (thresholds, prefix, band) in thresholds_strategy().prop_flat_map(|thresholds| {
            let band = band_health(&thresholds);
            (Just(thresholds), samples(any_health(), 0..40), samples(band, 1..100))
        }),
        ceiling in ceiling_strategy(),
    ) {
        let mut controller = PaceController::new(cps(ceiling), thresholds.clone()).unwrap();
        let history = run(&mut controller, 0, &prefix);
        for (_, health) in &band {
            prop_assert_eq!(classify(health, &thresholds), Class::Band);
        }
        let in_band = run(&mut controller, end_of(&history), &band);
        prop_assert!(in_band.iter().all(|(_, _, change)| change.is_none()));
    }

    /// Hysteresis at the high threshold: CPU oscillating just around it lowers the
    /// pace at most once per hold-down period and never raises it.
    #[test]
    fn hysteresis_oscillating_around_high_decreases_once_per_hold_down(
        thresholds in thresholds_strategy(),
        ceiling in ceiling_strategy(),
        offsets in prop::collection::vec((gap_millis(), -1.0f64..1.0), 1..200),
    ) {
        let mut controller = PaceController::new(cps(ceiling), thresholds.clone()).unwrap();
        let band_width = thresholds.cpu_high_percent - thresholds.cpu_ok_percent;
        let sequence: Vec<(u64, Health)> = offsets
            .iter()
            .map(|(gap, offset)| (*gap, with_cpu(thresholds.cpu_high_percent + offset * band_width.min(5.0))))
            .collect();
        let changes: Vec<PaceChange> = run(&mut controller, 0, &sequence)
            .into_iter()
            .filter_map(|(_, _, change)| change)
            .collect();
        prop_assert!(changes.iter().all(|change| change.new_cps < change.old_cps));
        for pair in changes.windows(2) {
            prop_assert!(
                pair[1].at.saturating_duration_since(pair[0].at) >= thresholds.hold_down
            );
        }
    }

    /// Hysteresis at the ok threshold: CPU oscillating around it never lowers the
    /// pace, and raises it at most once per recovery interval.
    #[test]
    fn hysteresis_oscillating_around_ok_never_decreases(
        thresholds in thresholds_strategy(),
        ceiling in ceiling_strategy(),
        offsets in prop::collection::vec((gap_millis(), -1.0f64..1.0), 1..200),
        start_low in any::<bool>(),
    ) {
        let mut controller = PaceController::new(cps(ceiling), thresholds.clone()).unwrap();
        if start_low {
            // Start from the floor so there is room to rise.
            let mut now = 0;
            while controller.pace() > controller.minimum() {
                controller.observe(at_seconds(now), &with_cpu(thresholds.cpu_high_percent + 1.0));
                now += 60;
            }
        }
        let start = controller.pace();
        let band_width = thresholds.cpu_high_percent - thresholds.cpu_ok_percent;
        let sequence: Vec<(u64, Health)> = offsets
            .iter()
            .map(|(gap, offset)| {
                let cpu = thresholds.cpu_ok_percent + offset * band_width.min(5.0);
                (*gap, Health { asterisk_channels: 0, ..with_cpu(cpu) })
            })
            .collect();
        let changes: Vec<PaceChange> = run(&mut controller, 100_000 * SECOND_NANOS, &sequence)
            .into_iter()
            .filter_map(|(_, _, change)| change)
            .collect();
        prop_assert!(controller.pace() >= start);
        prop_assert!(changes.iter().all(|change| change.new_cps > change.old_cps));
        for pair in changes.windows(2) {
            prop_assert!(
                pair[1].at.saturating_duration_since(pair[0].at) >= thresholds.recover_interval
            );
        }
    }
}

/// A reading healthy for any thresholds the strategy makes.
fn healthy_reading_for(thresholds: &Thresholds) -> Health {
    Health {
        cpu_percent: thresholds.cpu_ok_percent / 2.0,
        memory_percent: thresholds.memory_ok_percent / 2.0,
        load_per_core: thresholds.load_per_core_ok / 2.0,
        asterisk_channels: 0,
        answer_rate: None,
    }
}

/// One expected change: seconds, old and new pace, and the reason.
type Expected = (u64, f64, f64, Reason);

fn check_log(log: &[PaceChange], expected: &[Expected]) {
    let actual: Vec<Expected> = log
        .iter()
        .map(|change| {
            (
                change.at.as_nanos() / SECOND_NANOS,
                change.old_cps.get(),
                change.new_cps.get(),
                change.reason,
            )
        })
        .collect();
    assert_eq!(actual, expected);
}

/// A box sampled every second: CPU at `high_percent` for `high_seconds`, then 40 %
/// until `total_seconds`.
fn simulate(ceiling: f64, high_seconds: u64, total_seconds: u64) -> Vec<PaceChange> {
    let mut controller = PaceController::new(cps(ceiling), Thresholds::for_channels(100)).unwrap();
    (0..total_seconds)
        .filter_map(|second| {
            let cpu = if second < high_seconds { 95.0 } else { 40.0 };
            controller.observe(at_seconds(second), &with_cpu(cpu))
        })
        .collect()
}

const CPU_95: Reason = Reason::CpuHigh {
    percent: 95.0,
    threshold: 85.0,
};

/// The simulation: CPU at 95 % for 60 s halves the pace once per 15 s hold-down;
/// back at 40 % it waits out the hold-down and a 10 s healthy interval, then climbs
/// by 1 cps (10 % of the ceiling) every 10 s back to the ceiling, and stays there.
#[test]
fn simulation_cpu_spike_for_a_minute_then_recovery() {
    let log = simulate(10.0, 60, 400);
    let mut expected: Vec<Expected> = vec![
        (0, 10.0, 5.0, CPU_95),
        (15, 5.0, 2.5, CPU_95),
        (30, 2.5, 1.25, CPU_95),
        (45, 1.25, 0.625, CPU_95),
    ];
    for step in 0u32..9 {
        let old = 0.625 + f64::from(step);
        expected.push((70 + 10 * u64::from(step), old, old + 1.0, Reason::Recovered));
    }
    expected.push((160, 9.625, 10.0, Reason::Recovered));
    check_log(&log, &expected);
}

/// The same spike lasting two minutes: the pace reaches the floor (5 % of the
/// ceiling) and stays there while the CPU stays high, then recovers from it.
#[test]
fn simulation_persistent_spike_stops_at_the_floor() {
    let log = simulate(10.0, 120, 400);
    let mut expected: Vec<Expected> = vec![
        (0, 10.0, 5.0, CPU_95),
        (15, 5.0, 2.5, CPU_95),
        (30, 2.5, 1.25, CPU_95),
        (45, 1.25, 0.625, CPU_95),
        (60, 0.625, 0.5, CPU_95),
    ];
    for step in 0u32..9 {
        let old = 0.5 + f64::from(step);
        expected.push((
            130 + 10 * u64::from(step),
            old,
            old + 1.0,
            Reason::Recovered,
        ));
    }
    expected.push((220, 9.5, 10.0, Reason::Recovered));
    check_log(&log, &expected);
}

#[test]
fn a_sample_from_the_past_is_ignored() {
    let mut controller = PaceController::new(cps(10.0), Thresholds::for_channels(100)).unwrap();
    assert!(controller.observe(at_seconds(100), &healthy()).is_none());
    assert!(
        controller
            .observe(at_seconds(50), &with_cpu(99.0))
            .is_none()
    );
    assert_eq!(controller.pace(), cps(10.0));
    // The same instant again is not the past.
    assert!(
        controller
            .observe(at_seconds(100), &with_cpu(99.0))
            .is_some()
    );
}

#[test]
fn the_first_high_reading_names_the_reason_in_a_fixed_order() {
    let thresholds = Thresholds::for_channels(30);
    let check = |health: Health, expected: &str| {
        let mut controller = PaceController::new(cps(10.0), thresholds.clone()).unwrap();
        let change = controller.observe(at_seconds(1), &health).unwrap();
        assert_eq!(change.reason.to_string(), expected);
    };
    let everything_high = Health {
        cpu_percent: 91.25,
        memory_percent: 95.0,
        load_per_core: 2.0,
        asterisk_channels: 40,
        answer_rate: Some(0.05),
    };
    check(everything_high, "CPU at 91.2 % is above 85 %");
    check(
        Health {
            cpu_percent: 10.0,
            ..everything_high
        },
        "memory at 95.0 % is above 90 %",
    );
    check(
        Health {
            cpu_percent: 10.0,
            memory_percent: 10.0,
            ..everything_high
        },
        "load of 2.00 per core is above 1.5",
    );
    check(
        Health {
            asterisk_channels: 40,
            ..healthy()
        },
        "40 Asterisk channels are more than 30",
    );
    check(
        Health {
            answer_rate: Some(0.05),
            ..healthy()
        },
        "answer rate of 5.0 % is below 15.0 %",
    );
}

#[test]
fn a_change_reads_as_a_sentence() {
    let mut controller = PaceController::new(cps(10.0), Thresholds::for_channels(100)).unwrap();
    let change = controller
        .observe(Monotonic::from_nanos(12_500_000_000), &with_cpu(95.0))
        .unwrap();
    assert_eq!(
        change.to_string(),
        "at 12.500 s: pace 10 cps → 5 cps: CPU at 95.0 % is above 85 %"
    );
    assert_eq!(Reason::Recovered.to_string(), "the box is healthy again");
}

#[test]
fn a_nan_reading_holds_the_pace() {
    let mut controller = PaceController::new(cps(10.0), Thresholds::for_channels(100)).unwrap();
    controller.observe(at_seconds(0), &with_cpu(95.0));
    for second in 1..200 {
        assert!(
            controller
                .observe(at_seconds(second), &with_cpu(f64::NAN))
                .is_none()
        );
    }
    assert_eq!(controller.pace(), cps(5.0));
}

#[test]
fn changing_the_ceiling() {
    let thresholds = Thresholds::for_channels(100);
    // At the ceiling: follows it up and down.
    let mut controller = PaceController::new(cps(10.0), thresholds.clone()).unwrap();
    let change = controller.set_ceiling(cps(20.0), at_seconds(5)).unwrap();
    assert_eq!((change.old_cps, change.new_cps), (cps(10.0), cps(20.0)));
    assert_eq!(change.reason, Reason::CeilingChanged);
    assert_eq!(controller.set_ceiling(cps(20.0), at_seconds(6)), None);
    // Lowered: keeps its value while it fits, is cut when it does not.
    controller.observe(at_seconds(7), &with_cpu(95.0));
    assert_eq!(controller.pace(), cps(10.0));
    assert_eq!(controller.set_ceiling(cps(40.0), at_seconds(8)), None);
    let change = controller.set_ceiling(cps(4.0), at_seconds(9)).unwrap();
    assert_eq!((change.old_cps, change.new_cps), (cps(10.0), cps(4.0)));
    // An instant from the past is applied at the latest instant seen.
    controller.observe(at_seconds(100), &with_cpu(95.0));
    let change = controller.set_ceiling(cps(1.0), at_seconds(50)).unwrap();
    assert_eq!(change.at, at_seconds(100));
}

#[test]
fn the_floor_never_goes_below_the_smallest_rate() {
    let controller = PaceController::new(cps(1.0), Thresholds::for_channels(10)).unwrap();
    assert_eq!(controller.minimum(), cps(Cps::MIN));
    let controller = PaceController::new(cps(0.1), Thresholds::for_channels(10)).unwrap();
    assert_eq!(controller.minimum(), controller.ceiling());
}

#[test]
fn thresholds_that_make_no_sense_are_refused() {
    let check = |change: fn(&mut Thresholds), field: &str| {
        let mut thresholds = Thresholds::for_channels(30);
        change(&mut thresholds);
        let error = PaceController::new(cps(10.0), thresholds).unwrap_err();
        assert_eq!(error.field, field, "{error}");
    };
    check(|t| t.cpu_ok_percent = 90.0, "cpu_ok_percent");
    check(|t| t.memory_high_percent = f64::NAN, "memory_ok_percent");
    check(|t| t.load_per_core_ok = 2.0, "load_per_core_ok");
    check(|t| t.answer_rate_low = 0.5, "answer_rate_low");
    check(|t| t.channels_ok = 31, "channels_ok");
    check(|t| t.decrease_factor = 1.0, "decrease_factor");
    check(|t| t.increase_step_fraction = 0.0, "increase_step_fraction");
    check(|t| t.minimum_fraction = f64::NAN, "minimum_fraction");
    check(|t| t.recover_interval = Duration::ZERO, "recover_interval");
    assert_eq!(
        Thresholds::for_channels(30)
            .validate()
            .map(|()| Thresholds::for_channels(30).channels_ok),
        Ok(24)
    );
}
