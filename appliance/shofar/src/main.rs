//! `shofar`: the supervisor and its command line. A thin layer: it parses the
//! command line and config, opens the store, and calls the libraries.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

use shofar::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match shofar::run(cli) {
        Ok(code) => code,
        // The reader of our output went away (`shofar blacklist export | head`):
        // not an error of ours.
        Err(error) if shofar::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // The whole context chain, so the message says what and why.
            eprintln!("shofar: error: {}", shofar::output::error_message(&error));
            ExitCode::from(2)
        }
    }
}
