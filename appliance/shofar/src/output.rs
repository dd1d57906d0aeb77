//! Terminal output: progress bars, numbers people can read, JSON for scripts.
//!
//! Everything a command prints goes through [`outln!`]/[`out!`] (never `println!`):
//! when the reader of standard output goes away (`shofar campaign list | head -1`),
//! the command exits at once, quietly and with 0, as a Unix filter does, instead
//! of panicking.

use std::io::{self, IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use shofar_import::{Progress, ProgressUnit};

/// `1234567` → `1,234,567`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    crate::outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Writes to standard output (what [`outln!`] and [`out!`] expand to). A reader
/// that went away ends the process with 0; any other failure (a full disk behind
/// a redirection) ends it with 2 and says so.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    if let Err(error) = io::stdout().lock().write_fmt(args) {
        stdout_failed(&error)
    }
}

/// Ends the process for a failed write to standard output: quietly with 0 when
/// the reader has gone away (a closed pipe), else with 2 and the reason.
pub fn stdout_failed(error: &io::Error) -> ! {
    if error.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(0)
    }
    eprintln!("shofar: error: cannot write to standard output: {error}");
    std::process::exit(2)
}

/// True when `error`'s chain ends in a closed pipe: the reader of our output went
/// away, which is not an error of ours.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// An error as the user reads it: each context and cause once, joined by ": ".
/// Library errors often show their cause in their own message too (`cannot read
/// X: No such file or directory`); a cause already said is not said again.
pub fn error_message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// `println!` for commands: see the module doc.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for commands: see the module doc.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

/// A progress bar on standard error, drawn only when it is a terminal.
pub struct TerminalProgress {
    bar: ProgressBar,
}

impl TerminalProgress {
    pub fn new(what: &str) -> TerminalProgress {
        let bar = ProgressBar::with_draw_target(
            None,
            if std::io::stderr().is_terminal() {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        bar.set_message(what.to_owned());
        TerminalProgress { bar }
    }

    pub fn done(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for TerminalProgress {
    fn start(&self, total: u64, unit: ProgressUnit) {
        let template = match unit {
            ProgressUnit::Rows => "{msg} [{bar:40}] {human_pos}/{human_len} rows ({eta} left)",
            ProgressUnit::Bytes => {
                "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)"
            }
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_length(total);
    }

    fn advance(&self, position: u64) {
        self.bar.set_position(position);
    }

    fn finishing(&self) {
        if let Some(total) = self.bar.length() {
            self.bar.set_position(total);
        }
        self.bar.set_message("committing");
    }
}

#[cfg(test)]
mod tests {
    use super::{error_message, thousands};

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        #[derive(Debug)]
        struct Read {
            source: std::io::Error,
        }
        impl std::fmt::Display for Read {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "cannot read donors.csv: {}", self.source)
            }
        }
        impl std::error::Error for Read {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.source)
            }
        }
        let error = anyhow::Error::new(Read {
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
        .context("import of donors.csv failed; nothing was imported");
        assert_eq!(
            error_message(&error),
            "import of donors.csv failed; nothing was imported: cannot read donors.csv: entity not found"
        );
        // A cause not yet said is kept.
        let error = anyhow::anyhow!("disk full").context("cannot write the export");
        assert_eq!(error_message(&error), "cannot write the export: disk full");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }
}
