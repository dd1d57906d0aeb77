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
        Err(error) => {
            // The whole context chain, so the message says what and why.
            eprintln!("shofar: error: {error:#}");
            ExitCode::from(2)
        }
    }
}
