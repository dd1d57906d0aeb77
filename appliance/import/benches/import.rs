//! `make bench`: import a generated 1,000,000-row `.xlsx` (validate, dedupe,
//! blacklist check, store) and compare with the time calamine alone takes to read
//! the same file. Targets (REQUIREMENTS.md §4): ≥ 100,000 rows/s end to end and
//! within 2× of calamine's read time. Then the same import into a campaign that
//! exists (hidden until its commit, then cleared into the dispatch order), and
//! beside another writer, whose longest write says how long an import keeps
//! the database from others (issue 15). Each phase runs in its own process so
//! its peak memory is its own.

#[path = "common.rs"]
mod common;

use std::io::BufReader;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use calamine::Reader;
use shofar_dnc::{DncIndex, SharedDnc};
use shofar_import::{ContactImportOptions, NoProgress, import_contacts};
use shofar_phone::Normalizer;
use shofar_store::Store;

const ROWS: usize = 1_000_000;
const SEED: u64 = 20261121;

fn input() -> PathBuf {
    common::bench_dir().join(format!("contacts-{ROWS}-{SEED}.xlsx"))
}

/// Phase: calamine alone streams every cell of the sheet.
fn calamine_only() {
    let path = input();
    let started = Instant::now();
    let mut workbook: calamine::Xlsx<BufReader<std::fs::File>> =
        calamine::open_workbook(&path).unwrap();
    let sheet = workbook.sheet_names()[0].clone();
    let mut cells = workbook.worksheet_cells_reader(&sheet).unwrap();
    let mut count = 0u64;
    let mut bytes = 0usize;
    while let Some(cell) = cells.next_cell().unwrap() {
        count += 1;
        if let calamine::DataRef::SharedString(text) = cell.get_value() {
            bytes += text.len();
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{seconds:.3} {count} {bytes} {:.1}",
        common::status_mib("VmHWM")
    );
}

/// Phase: the real import into a fresh database on disk, with a do-not-call list of
/// 1,000,000 numbers loaded (so the blacklist check is real). `existing`: into a
/// campaign that exists already (its rows hidden until the commit, then cleared
/// into the dispatch order) rather than one it creates. `beside_writer`: another
/// connection writes a row every 20 ms meanwhile, as the dialer would, and its
/// longest write (waiting for the lock included) is printed last, in ms (0
/// without one).
fn full_import(existing: bool, beside_writer: bool) {
    let path = input();
    let dir = tempfile::tempdir_in(common::bench_dir()).unwrap();
    let db = dir.path().join("shofar.db");
    let mut store = Store::open(&db).unwrap();
    let dnc = SharedDnc::new(DncIndex::from_raw(
        shofar_testdata::blacklist_numbers(1_000_000, 7).collect(),
    ));
    if existing {
        store.create_campaign("bench", "bench").unwrap();
    }
    let options = ContactImportOptions {
        create: !existing,
        rejected_fallback_dir: Some(dir.path().to_owned()),
        ..ContactImportOptions::new("bench")
    };
    let done = AtomicBool::new(false);
    let (seconds, summary, longest_write) = std::thread::scope(|scope| {
        let writer = beside_writer.then(|| {
            scope.spawn(|| {
                let other = Store::open(&db).unwrap();
                let mut longest = Duration::ZERO;
                while !done.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    other
                        .connection()
                        .execute_batch(
                            "BEGIN IMMEDIATE;
                             INSERT OR REPLACE INTO settings (key, value) VALUES ('bench', 'x');
                             COMMIT;",
                        )
                        .unwrap();
                    longest = longest.max(started.elapsed());
                    std::thread::sleep(Duration::from_millis(20));
                }
                longest
            })
        });
        // The rejected-rows file is written beside the input; keep the cache clean.
        let started = Instant::now();
        let summary = import_contacts(
            &mut store,
            &dnc,
            &Normalizer::israel(),
            &path,
            &options,
            &NoProgress,
        )
        .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        done.store(true, Ordering::Relaxed);
        let longest = writer.map_or(0.0, |writer| writer.join().unwrap().as_secs_f64() * 1000.0);
        (seconds, summary, longest)
    });
    if let Some(file) = &summary.rejected_rows_file {
        let _ = std::fs::remove_file(file);
    }
    println!(
        "{seconds:.3} {} {} {} {} {} {:.1} {longest_write:.0}",
        summary.total_rows,
        summary.imported,
        summary.duplicates,
        summary.invalid,
        summary.blacklisted,
        common::status_mib("VmHWM")
    );
}

/// Three runs of `phase`, each in its own process: the best time, every time,
/// and the fields of the best run's line.
fn best_of_three(phase: &str) -> (f64, Vec<f64>, Vec<String>) {
    let mut times = Vec::new();
    let mut best = (f64::INFINITY, Vec::new());
    for _ in 0..3 {
        let line = common::run_phase(phase, &[]);
        let fields: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        let seconds: f64 = fields[0].parse().unwrap();
        times.push(seconds);
        if seconds < best.0 {
            best = (seconds, fields);
        }
    }
    (best.0, times, best.1)
}

fn main() {
    if let Some((phase, _)) = common::phase_arg() {
        match phase.as_str() {
            "calamine" => calamine_only(),
            "import" => full_import(false, false),
            "existing" => full_import(true, false),
            "beside-writer" => full_import(false, true),
            other => panic!("unknown phase {other}"),
        }
        return;
    }
    // `cargo bench` passes --bench; anything else is ignored.
    let path = input();
    if !path.exists() {
        let started = Instant::now();
        let spec = shofar_testdata::ContactsSpec {
            rows: ROWS,
            seed: SEED,
            ..Default::default()
        };
        shofar_testdata::write_xlsx(&spec, &path).unwrap();
        eprintln!(
            "generated {} in {:.1}s",
            path.display(),
            started.elapsed().as_secs_f64()
        );
    }
    let size_mib = std::fs::metadata(&path).unwrap().len() as f64 / 1048576.0;
    println!("machine: {}", common::machine());
    println!(
        "input: {} ({size_mib:.1} MiB, {ROWS} data rows)",
        path.display()
    );

    let (calamine, calamine_times, calamine_fields) = best_of_three("calamine");
    println!(
        "calamine read (cells only): best {calamine:.2}s of {calamine_times:?}, {} cells, peak RSS {} MiB",
        calamine_fields[1], calamine_fields[3]
    );
    let (import, import_times, fields) = best_of_three("import");
    println!(
        "full import: best {import:.2}s of {import_times:?} -> {:.0} rows/s, {:.2}x calamine; peak RSS {} MiB",
        ROWS as f64 / import,
        import / calamine,
        fields[6]
    );
    println!(
        "summary: total {} imported {} duplicates {} invalid {} blacklisted {}",
        fields[1], fields[2], fields[3], fields[4], fields[5]
    );
    let (existing, existing_times, _) = best_of_three("existing");
    println!(
        "into an existing campaign (hidden, then cleared into the dispatch order): best {existing:.2}s of {existing_times:?}"
    );
    let (beside, beside_times, fields) = best_of_three("beside-writer");
    println!(
        "beside another writer (a row every 20 ms): best {beside:.2}s of {beside_times:?}; \
         its longest write (waiting for the lock included) {} ms",
        fields[7]
    );
}
