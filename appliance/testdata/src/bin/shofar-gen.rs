//! `shofar-gen`: writes generated contact sheets and do-not-call lists for tests
//! and benchmarks.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use shofar_testdata::{
    ContactsSpec, CsvEncoding, TruthTally, contacts, headers, write_blacklist_csv, write_csv_rows,
    write_xlsx_rows,
};

#[derive(Parser)]
#[command(
    name = "shofar-gen",
    about = "Generate Israeli contact sheets with a known import result"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A contact sheet (.xlsx or .csv), optionally with the expected import result.
    Contacts {
        /// Data rows (the header row not counted).
        #[arg(long)]
        rows: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// File format; by default from the extension of --out (xlsx unless .csv).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Text encoding of a CSV file.
        #[arg(long, value_enum, default_value_t = Encoding::Utf8)]
        encoding: Encoding,
        /// CSV field delimiter: ',', ';', 'tab' (or '\t'), '|'.
        #[arg(long, default_value = ",", value_parser = parse_delimiter)]
        delimiter: u8,
        /// Share of rows repeating an earlier row's number.
        #[arg(long, default_value_t = 0.03)]
        duplicate_ratio: f64,
        /// Share of rows with no valid number.
        #[arg(long, default_value_t = 0.02)]
        invalid_ratio: f64,
        /// Leave out the consent column (הסכמה).
        #[arg(long)]
        no_consent: bool,
        #[arg(long)]
        out: PathBuf,
        /// Also write what a correct import reports, as JSON.
        #[arg(long)]
        truth: Option<PathBuf>,
    },
    /// A do-not-call list: CSV with header `phone,reason`, distinct valid mobiles.
    Blacklist {
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Xlsx,
    Csv,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Encoding {
    Utf8,
    Utf8Bom,
    #[value(name = "windows-1255")]
    Windows1255,
}

fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() => Ok(text.as_bytes()[0]),
        _ => Err(format!("{text:?}: use one ASCII character, or 'tab'")),
    }
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Contacts {
            rows,
            seed,
            format,
            encoding,
            delimiter,
            duplicate_ratio,
            invalid_ratio,
            no_consent,
            out,
            truth,
        } => {
            let spec = ContactsSpec {
                rows,
                seed,
                duplicate_ratio,
                invalid_ratio,
                with_consent: !no_consent,
            };
            if let Err(problem) = spec.validate() {
                bail!(problem);
            }
            let format = format.unwrap_or_else(|| {
                let csv = out
                    .extension()
                    .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
                if csv { Format::Csv } else { Format::Xlsx }
            });
            let started = Instant::now();
            // One pass: the truth is tallied from the rows as they are written.
            let mut tally = TruthTally::new();
            let rows_iter = contacts(&spec).inspect(|row| tally.record(&row.expected));
            let header = headers(&spec);
            let encoding = match encoding {
                Encoding::Utf8 => CsvEncoding::Utf8,
                Encoding::Utf8Bom => CsvEncoding::Utf8Bom,
                Encoding::Windows1255 => CsvEncoding::Windows1255,
            };
            match format {
                Format::Xlsx => write_xlsx_rows(&header, rows_iter, &out)?,
                Format::Csv => write_csv_rows(&header, rows_iter, &out, encoding, delimiter)?,
            }
            let result = tally.finish();
            eprintln!(
                "wrote {rows} rows to {} ({}) in {:.2?}",
                out.display(),
                size_of_file(&out),
                started.elapsed()
            );
            eprintln!(
                "expected import: {} imported, {} duplicates, {} invalid; line types {:?}",
                result.imported, result.duplicates, result.invalid, result.line_types
            );
            if let Some(path) = truth {
                let json = serde_json::to_string_pretty(&result)?;
                std::fs::write(&path, json + "\n")
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("wrote the expected import result to {}", path.display());
            }
        }
        Command::Blacklist { count, seed, out } => {
            let started = Instant::now();
            write_blacklist_csv(count, seed, &out)?;
            eprintln!(
                "wrote {count} do-not-call numbers to {} ({}) in {:.2?}",
                out.display(),
                size_of_file(&out),
                started.elapsed()
            );
        }
    }
    Ok(())
}

fn size_of_file(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(meta) => format!("{:.1} MB", meta.len() as f64 / 1e6),
        Err(_) => "size unknown".to_owned(),
    }
}
