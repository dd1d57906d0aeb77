//! `make bench`: a do-not-call list of 10,000,000 numbers. Targets (REQUIREMENTS.md
//! §4): lookup ≤ 200 ns, loaded ≤ 3 s, ≤ 150 MB resident.
//!
//! The list is written once to a database in the benchmark cache (through the
//! store's own bulk add, so it is a real list with history); each measured phase
//! then runs in its own process: open the store and load the index, report the
//! time and the memory, and time lookups (half listed, half not) through the
//! shared index and the pre-dial check.

#[path = "common.rs"]
mod common;

use std::path::PathBuf;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use shofar_dnc::SharedDnc;
use shofar_phone::E164;
use shofar_store::Store;
use shofar_store::blacklist::{BlacklistSource, NewEntry};

const COUNT: usize = 10_000_000;
const SEED: u64 = 1;

fn database() -> PathBuf {
    common::bench_dir().join(format!("blacklist-{COUNT}-{SEED}.db"))
}

fn build() {
    let path = database();
    let partial = path.with_extension("partial.db");
    let _ = std::fs::remove_file(&partial);
    let started = Instant::now();
    let mut store = Store::open(&partial).unwrap();
    let entries = shofar_testdata::blacklist_numbers(COUNT, SEED).map(|n| NewEntry {
        e164: E164::from_u64(n).unwrap(),
        reason: String::new(),
        source: BlacklistSource::Compliance,
        checked_on: Some("2026-11-01".into()),
        campaign: None,
    });
    let outcome = store
        .blacklist_add(
            &SharedDnc::default(),
            entries,
            "bench",
            serde_json::json!({}),
        )
        .unwrap();
    assert_eq!(outcome.added as usize, COUNT);
    drop(store);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", partial.display()));
    }
    std::fs::rename(&partial, &path).unwrap();
    eprintln!(
        "wrote {COUNT} numbers to {} in {:.1}s ({:.0} numbers/s through the store)",
        path.display(),
        started.elapsed().as_secs_f64(),
        COUNT as f64 / started.elapsed().as_secs_f64()
    );
}

fn load_and_lookup() {
    let baseline = common::status_mib("VmRSS");
    let started = Instant::now();
    let store = Store::open(&database()).unwrap();
    let (index, _) = store.load_dnc().unwrap();
    let load = started.elapsed().as_secs_f64();
    drop(store);
    let heap = index.heap_bytes() as f64 / 1048576.0;
    let dnc = SharedDnc::new(index);
    let rss = common::status_mib("VmRSS");
    let peak = common::status_mib("VmHWM");

    // Probes: half listed numbers (from the generator), half random numbers in
    // the same ranges (nearly all unlisted).
    let listed: Vec<u64> = shofar_testdata::blacklist_numbers(COUNT, SEED)
        .step_by(20)
        .take(500_000)
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let mut probes: Vec<E164> = Vec::with_capacity(1_000_000);
    for &n in &listed {
        probes.push(E164::from_u64(n).unwrap());
        probes.push(E164::from_u64(972_520_000_000 + rng.random_range(0..30_000_000u64)).unwrap());
    }
    let mut hits = 0usize;
    let started = Instant::now();
    for _ in 0..5 {
        for &probe in &probes {
            hits += usize::from(dnc.contains(probe));
        }
    }
    let contains_ns = started.elapsed().as_nanos() as f64 / (5 * probes.len()) as f64;
    let started = Instant::now();
    let mut permits = 0usize;
    for &probe in &probes {
        permits += usize::from(dnc.predial_check(probe).is_ok());
    }
    let check_ns = started.elapsed().as_nanos() as f64 / probes.len() as f64;
    assert!(hits >= 5 * listed.len(), "every listed probe must be found");
    println!(
        "{load:.3} {:.1} {:.1} {heap:.1} {contains_ns:.1} {check_ns:.1} {} {permits}",
        rss - baseline,
        peak,
        dnc.len()
    );
}

fn main() {
    if let Some((phase, _)) = common::phase_arg() {
        match phase.as_str() {
            "build" => build(),
            "load" => load_and_lookup(),
            other => panic!("unknown phase {other}"),
        }
        return;
    }
    if !database().exists() {
        common::run_phase("build", &[]);
    }
    println!("machine: {}", common::machine());
    let mut best: Option<Vec<f64>> = None;
    for _ in 0..3 {
        let line = common::run_phase("load", &[]);
        let values: Vec<f64> = line
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        if best.as_ref().is_none_or(|b| values[0] < b[0]) {
            best = Some(values);
        }
    }
    let v = best.unwrap();
    println!(
        "do-not-call list of {} numbers: load {:.2}s; resident +{:.0} MiB after load (peak {:.0} MiB, index heap {:.0} MiB); \
         lookup {:.0} ns (contains), {:.0} ns (pre-dial check)",
        v[6], v[0], v[1], v[2], v[3], v[4], v[5]
    );
}
