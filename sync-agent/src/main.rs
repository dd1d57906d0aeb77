//! `shofar-sync`: the sync agent. It will ship call records and opt-outs up (MQTT for
//! events, S3 for batches) and bring blacklist deltas, snapshots and models down,
//! store-and-forward (REQUIREMENTS.md §2.11). Until that issue lands it only says so.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version" || a == "-V") {
        println!("shofar-sync {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "shofar-sync {}: the sync agent is not implemented yet; the box works fully \
         offline without it (see docs/ and the open sync issue)",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::from(2)
}
