//! `make bench`: import a generated 1,000,000-row `.xlsx` (validate, dedupe,
//! blacklist check, store) and compare with the time calamine alone takes to read
//! the same file. Targets (REQUIREMENTS.md §4): ≥ 100,000 rows/s end to end and
//! within 2× of calamine's read time. Each phase runs in its own process so its
//! peak memory is its own.

#[path = "common.rs"]
mod common;

use std::io::BufReader;
use std::path::PathBuf;
use std::time::Instant;

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
/// 1,000,000 numbers loaded (so the blacklist check is real).
fn full_import() {
    let path = input();
    let dir = tempfile::tempdir_in(common::bench_dir()).unwrap();
    let mut store = Store::open(&dir.path().join("shofar.db")).unwrap();
    let dnc = SharedDnc::new(DncIndex::from_raw(
        shofar_testdata::blacklist_numbers(1_000_000, 7).collect(),
    ));
    let options = ContactImportOptions {
        create: true,
        rejected_fallback_dir: Some(dir.path().to_owned()),
        ..ContactImportOptions::new("bench")
    };
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
    if let Some(file) = &summary.rejected_rows_file {
        let _ = std::fs::remove_file(file);
    }
    println!(
        "{seconds:.3} {} {} {} {} {} {:.1}",
        summary.total_rows,
        summary.imported,
        summary.duplicates,
        summary.invalid,
        summary.blacklisted,
        common::status_mib("VmHWM")
    );
}

fn main() {
    if let Some((phase, _)) = common::phase_arg() {
        match phase.as_str() {
            "calamine" => calamine_only(),
            "import" => full_import(),
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

    let mut calamine_times = Vec::new();
    let mut import_times = Vec::new();
    let mut import_line = String::new();
    let mut calamine_line = String::new();
    for _ in 0..3 {
        calamine_line = common::run_phase("calamine", &[]);
        calamine_times.push(
            calamine_line
                .split_whitespace()
                .next()
                .unwrap()
                .parse::<f64>()
                .unwrap(),
        );
        import_line = common::run_phase("import", &[]);
        import_times.push(
            import_line
                .split_whitespace()
                .next()
                .unwrap()
                .parse::<f64>()
                .unwrap(),
        );
    }
    let best = |times: &[f64]| times.iter().cloned().fold(f64::INFINITY, f64::min);
    let calamine = best(&calamine_times);
    let import = best(&import_times);
    let fields: Vec<&str> = import_line.split_whitespace().collect();
    let calamine_fields: Vec<&str> = calamine_line.split_whitespace().collect();
    println!(
        "calamine read (cells only): best {calamine:.2}s of {calamine_times:?}, {} cells, peak RSS {} MiB",
        calamine_fields[1], calamine_fields[3]
    );
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
}
