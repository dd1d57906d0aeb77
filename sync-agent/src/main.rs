//! `shofar-sync`: the sync agent's command line (run, status) and the central
//! admins' tool (`shofar-sync central …`).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shofar_sync::config::{self, Role};
use shofar_sync::{agent, central, report};
use tokio_util::sync::CancellationToken;

/// Shofar's sync agent: ships the box's opt-outs and call records to the
/// organization's AWS account (AWS IoT Core over MQTT, S3), and brings the
/// organization's do-not-call changes and models to the box. Set up by the
/// `[sync]` section of shofar.toml (docs/sync.md). The box works fully offline
/// without it; nothing is lost while the network is away.
#[derive(Parser)]
#[command(name = "shofar-sync", version)]
struct Cli {
    /// shofar.toml (default: $SHOFAR_CONFIG, else /etc/shofar/shofar.toml).
    #[arg(long, global = true, env = "SHOFAR_CONFIG")]
    config: Option<PathBuf>,
    /// The supervisor's data directory (default: $SHOFAR_DATA_DIR, else the
    /// config's data_dir, else /var/lib/shofar).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the agent (what the shofar-sync systemd unit does).
    Run,
    /// Whether the box is connected and since when, records waiting and the
    /// oldest one's age, the do-not-call version applied, the model, errors.
    Status {
        /// Print the status file as JSON.
        #[arg(long)]
        json: bool,
    },
    /// For central admins, with the organization's credentials: the shared
    /// do-not-call list, the boxes, the records, models.
    #[command(subcommand)]
    Central(central::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHOFAR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("shofar-sync: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let path = config::config_path(cli.config.as_deref());
    match cli.command {
        Command::Run => {
            if path.exists() && !config::configured(&path)? {
                // The unit is enabled on every box; one without [sync] works
                // offline. A clean exit keeps systemd from restarting it.
                println!(
                    "shofar-sync: {} has no [sync] section: this box works offline and \
                     nothing is synced. docs/sync.md says how to connect it; then \
                     `systemctl restart shofar-sync`.",
                    path.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            shofar_sync::install_crypto();
            let config = config::load(&path, cli.data_dir.as_deref(), Role::Box)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(async {
                let stop = CancellationToken::new();
                let signals = tokio::spawn(stop_on_signal(stop.clone()));
                let outcome = agent::run(config, stop.clone()).await;
                stop.cancel();
                let _ = signals.await;
                outcome
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json } => {
            let config = config::load(&path, cli.data_dir.as_deref(), Role::Box)?;
            Ok(report::print_status(&config, json))
        }
        Command::Central(command) => {
            shofar_sync::install_crypto();
            let config = config::load(&path, cli.data_dir.as_deref(), Role::Central)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(central::run(config, command))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn stop_on_signal(stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
        _ = stop.cancelled() => return,
    }
    tracing::info!("stopping: positions are saved, nothing unacknowledged is lost");
    stop.cancel();
}
