//! The `shofar` binary's library: command-line parsing, configuration and the
//! commands. Each command is a function from parsed arguments and an [`App`] to an
//! exit code; the work itself lives in the library crates.
#![forbid(unsafe_code)]

pub mod cli;
mod commands;
pub mod config;
pub mod output;

pub use output::is_broken_pipe;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use shofar_store::Store;

use crate::cli::{Cli, Command};
use crate::config::Config;

/// What every command gets: the validated config, the data directory and the store.
pub struct App {
    pub config: Config,
    pub data_dir: PathBuf,
    pub store: Store,
    /// Who is acting, for the audit log: `cli:<user>`.
    pub actor: String,
}

impl App {
    fn open(cli: &Cli) -> anyhow::Result<App> {
        let config = match config::config_path(cli.global.config.as_deref()) {
            Some(path) => Config::load(&path)?,
            None => Config::default(),
        };
        init_logging(&config);
        let mut config = config;
        let (data_dir, by_default) = config::data_dir(cli.global.data_dir.as_deref(), &config);
        // A development build with no Asterisk of its own keeps converted prompts
        // beside its data, not in the system's Asterisk folder (which a developer
        // cannot write); a configured `sounds_dir` (the testbed's) is kept.
        if config::development_build()
            && config.asterisk.sounds_dir
                == shofar_telephony::config::AsteriskConfig::default().sounds_dir
        {
            config.asterisk.sounds_dir = data_dir.join("sounds");
        }
        let db = data_dir.join("shofar.db");
        if by_default && !db.exists() {
            // Nobody chose this place: say where the data goes, once.
            eprintln!(
                "shofar: a new database in {} (the default place; --data-dir DIR or \
                 SHOFAR_DATA_DIR chooses another)",
                data_dir.display()
            );
        }
        let store = Store::open(&db).with_context(|| {
            format!(
                "cannot open the database in {} (set another place with --data-dir)",
                data_dir.display()
            )
        })?;
        let user = std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "unknown".to_owned());
        Ok(App {
            config,
            data_dir,
            store,
            actor: format!("cli:{user}"),
        })
    }
}

/// Logs go to journald when systemd started the process with its journal as
/// stderr (`JOURNAL_STREAM`), with every structured field kept; else to stderr.
fn init_logging(config: &Config) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level))
    };
    if std::env::var_os("JOURNAL_STREAM").is_some()
        && let Ok(journald) = tracing_journald::layer()
    {
        let _ = tracing_subscriber::registry()
            .with(filter())
            .with(journald.with_syslog_identifier("shofar".to_owned()))
            .try_init();
        return;
    }
    // Colours only for a person at a terminal (and never with NO_COLOR set): a
    // log piped to a file or `make run`'s output keeps no escape codes.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut app = App::open(&cli)?;
    match cli.command {
        Command::Import(args) => commands::import::run(&mut app, args),
        Command::Blacklist(command) => commands::blacklist::run(&mut app, command),
        Command::Campaign(command) => commands::campaign::run(&mut app, command),
        Command::Calendar(args) => commands::calendar::run(&mut app, args),
        Command::Db(command) => commands::db::run(&mut app, command),
        Command::AsteriskConfig(args) => commands::asterisk::config(&app, args),
        Command::AsteriskStatus { json } => commands::asterisk::status(&app, json),
        Command::Call(args) => commands::call::run(&mut app, args),
        Command::Audio(command) => commands::audio::run(&mut app, command),
        Command::Calls(command) => commands::calls::run(&mut app, command),
        Command::Serve(args) => commands::serve::run(&mut app, args),
        Command::Pacing(command) => commands::pacing::run(&mut app, command),
        Command::User(command) => commands::user::run(&mut app, command),
        Command::Report(args) => commands::report::run(&mut app, args),
        Command::Live(args) => commands::live::run(&app, args),
    }
}
