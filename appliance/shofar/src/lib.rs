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

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::Config;

/// What every command gets: the validated config, the data directory and the store.
pub struct App {
    pub config: Config,
    pub data_dir: PathBuf,
    pub store: Store,
    /// Who is acting, for the audit log: `cli:<user>`.
    pub actor: String,
}

/// The configuration a command runs with: the file's (or the defaults), logging set up.
fn load_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    let config = match config::config_path(global.config.as_deref()) {
        Some(path) => Config::load(&path)?,
        None => Config::default(),
    };
    init_logging(&config);
    Ok(config)
}

/// Root must not open a database that belongs to another user (the box's
/// `shofar`): the `-wal`/`-shm` files, a new database or a backup it made would be
/// root's, and the service could no longer write them.
fn refuse_root_in_others_data(data_dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user.
    let Ok(me) = std::fs::metadata("/proc/self") else {
        return Ok(());
    };
    let Ok(folder) = std::fs::metadata(data_dir) else {
        return Ok(());
    };
    if me.uid() != 0 || folder.uid() == 0 {
        return Ok(());
    }
    let owner = users_name(folder.uid()).unwrap_or_else(|| folder.uid().to_string());
    anyhow::bail!(
        "{} belongs to user {owner}: run the command as that user, e.g. `sudo -u {owner} shofar …` \
         (as root it would leave files there that {owner} cannot write)",
        data_dir.display()
    )
}

/// The name of user `uid` in /etc/passwd.
fn users_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?;
        (id.parse::<u32>().ok()? == uid).then(|| name.to_owned())
    })
}

impl App {
    fn open(global: &GlobalArgs, mut config: Config) -> anyhow::Result<App> {
        let (data_dir, by_default) = config::data_dir(global.data_dir.as_deref(), &config);
        refuse_root_in_others_data(&data_dir)?;
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
    let Cli { global, command } = cli;
    let config = load_config(&global)?;
    // Asterisk's configuration and status need no database: root runs
    // `asterisk-config --write` on a box whose data belongs to `shofar`.
    let command = match command {
        Command::AsteriskConfig(args) => return commands::asterisk::config(&config, args),
        Command::AsteriskStatus { json } => return commands::asterisk::status(&config, json),
        // Updates need only the data directory's updates folder.
        Command::Update(command) => {
            let (data_dir, _) = config::data_dir(global.data_dir.as_deref(), &config);
            return commands::update::run(&data_dir, command);
        }
        command => command,
    };
    let mut app = App::open(&global, config)?;
    match command {
        Command::Import(args) => commands::import::run(&mut app, args),
        Command::Blacklist(command) => commands::blacklist::run(&mut app, command),
        Command::Campaign(command) => commands::campaign::run(&mut app, command),
        Command::Calendar(args) => commands::calendar::run(&mut app, args),
        Command::Db(command) => commands::db::run(&mut app, command),
        Command::AsteriskConfig(_) | Command::AsteriskStatus { .. } | Command::Update(_) => {
            unreachable!("answered above, before the database is opened")
        }
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
