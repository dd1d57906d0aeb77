//! The command line: what `shofar --help` shows.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit codes: 0 success; 1 a negative answer (`blacklist check`: not listed); 2 an error
(bad input, unreadable file, database problem) — the message says what to fix.

Config: --config, else $SHOFAR_CONFIG, else /etc/shofar/shofar.toml if present, else
built-in defaults (docs/configuration.md). Data: --data-dir, else $SHOFAR_DATA_DIR,
else the config's data_dir, else var/ in a development checkout, else /var/lib/shofar.";

/// Shofar: voice and SMS campaigns from a box in your own rack.
#[derive(Debug, Parser)]
#[command(name = "shofar", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The config file (shofar.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The data directory (database, rejected-rows files, audio).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import contacts from a spreadsheet into a campaign.
    Import(ImportArgs),
    /// The do-not-call list: numbers here are never dialed or texted.
    #[command(subcommand)]
    Blacklist(BlacklistCommand),
    /// Campaigns: create, list, show, start, pause, resume, cancel.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// When calls are allowed: windows, schedule, Shabbat and holidays.
    Calendar(CalendarArgs),
    /// The database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Updates of the appliance image: install a signed bundle, see how it went, reboot into it.
    #[command(subcommand)]
    Update(UpdateCommand),
    /// Write Asterisk's configuration for this box's [asterisk] and [trunk] settings.
    AsteriskConfig(AsteriskConfigArgs),
    /// Is Asterisk up, is the trunk reachable, how many calls are up.
    AsteriskStatus {
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Place one real call through Asterisk and print its record.
    Call(CallArgs),
    /// Prompts and messages: audio converted once to what the trunk plays.
    #[command(subcommand)]
    Audio(AudioCommand),
    /// Call records.
    #[command(subcommand)]
    Calls(CallsCommand),
    /// Run the supervisor: dial every active campaign; serve the web UI, the API,
    /// /metrics and /healthz.
    Serve(ServeArgs),
    /// The dialing pace: how it changed and why.
    #[command(subcommand)]
    Pacing(PacingCommand),
    /// Users of the web UI and API, and their API tokens.
    #[command(subcommand)]
    User(UserCommand),
    /// A campaign's report as CSV, XLSX or PDF (Hebrew or English).
    Report(ReportArgs),
    /// Watch the live figures of a running `shofar serve` (its /api/v1/live).
    Live(LiveArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
Connects to the live socket of a running `shofar serve` with an API token (make one
with `shofar user token NAME`) and prints a line per change: calls up, dialing rate,
queue, and per campaign the calls by outcome and the rates; alerts as they come.

Example: SHOFAR_TOKEN=$(shofar user token dana) shofar live --count 5")]
pub struct LiveArgs {
    /// The box's address (default: [http] listen, over https:// when tls is on).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Over HTTPS, the certificate to trust the box by (PEM; default: [http]
    /// tls_cert, else the self-signed one `shofar serve` made in the data directory).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<std::path::PathBuf>,
    /// An API token (default: $SHOFAR_TOKEN).
    #[arg(long, env = "SHOFAR_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Stop after this many snapshots.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Print each snapshot as one line of JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is asked for (twice) on the terminal, or read from
    /// standard input with --password-stdin.
    #[command(after_help = "\
Roles: admin (everything, users and settings), manager (campaigns, contacts, the
do-not-call list, audio, flows), analyst (read-only: dashboards, records, reports).
A password has at least 10 characters. There is no default user: on a new box,
`shofar user add NAME --role admin` (or the one-time link `shofar serve` prints).

Example: echo 'correct horse battery' | shofar user add dana --role admin --password-stdin")]
    Add {
        /// What they log in with: letters, digits, '.', '-', '_', '@'.
        name: String,
        /// Their role: admin (everything, users too), manager (campaigns, lists, calls) or analyst (reads figures and reports).
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The UI's language for them.
        #[arg(long, value_enum, default_value = "he")]
        locale: LocaleArg,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password (their sessions end).
    Passwd {
        /// The user's name.
        name: String,
        /// Read the new password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user's role.
    Role {
        /// The user's name.
        name: String,
        /// Their role: admin (everything, users too), manager (campaigns, lists, calls) or analyst (reads figures and reports).
        #[arg(value_enum)]
        role: RoleArg,
    },
    /// Stop a user from logging in (their sessions end, their tokens are revoked).
    Disable {
        /// The user's name.
        name: String,
    },
    /// Let a disabled user log in again (their old tokens stay revoked).
    Enable {
        /// The user's name.
        name: String,
    },
    /// Remove a user (their audit entries stay).
    Remove {
        /// The user's name.
        name: String,
    },
    /// Make an API token for a user (printed once; the box keeps only its hash).
    Token {
        /// The user's name.
        name: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        label: String,
        /// At most the user's own role (default: the user's role).
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
        /// Days until it stops working (default: never).
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Manager,
    Analyst,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LocaleArg {
    He,
    En,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Written for people, in --lang: CSV lists every call as Excel and LibreOffice read it
(UTF-8 with BOM, labels and outcomes in words, numbers in the local form 054-4431298
kept as text, durations m:ss, the campaign by name); XLSX has a summary sheet, keys
pressed per menu and every call (right-to-left in Hebrew); PDF has the summary, keys
per menu and the first 5,000 calls, Hebrew right-to-left with its font embedded;
summary is the one-page PDF to send to a manager. The totals are exactly the sum of
the calls listed. Times are Israel's; --to a date includes that whole day.

Example: shofar report 3 --format summary -o winter-summary.pdf")]
pub struct ReportArgs {
    /// The campaign's id or name.
    pub campaign: String,
    /// csv (a row a call), xlsx (a workbook), pdf (a printable report) or
    /// summary (a one-page PDF: figures, outcomes, keys per menu).
    #[arg(long, value_enum)]
    pub format: ReportFormatArg,
    /// The file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// The report's language.
    #[arg(long, value_enum, default_value = "he")]
    pub lang: LocaleArg,
    /// Calls started on or after this date (YYYY-MM-DD) or time.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Calls started until this date, included whole (YYYY-MM-DD), or before
    /// this time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormatArg {
    Csv,
    Xlsx,
    Pdf,
    Summary,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Runs every active campaign until it is done, with the box's limits from [dialer] in
shofar.toml (calls per second, channels, health thresholds) and each campaign's own
pacing. Start, pause, resume and cancel campaigns meanwhile with `shofar campaign`;
the running supervisor picks the changes up within a second, and do-not-call changes
before the next dial.

On SIGTERM or Ctrl-C it stops dialing, lets the calls up finish for up to
[dialer] grace_seconds, ends the rest, and closes every record; a second signal exits
at once. After a crash or kill -9, the next start closes the calls left open and
gives back contacts that were claimed but never dialed.

It also serves the web UI and the API (/api/v1, docs/api.md) on [http] listen, over
HTTPS with [http] tls = true. On a box with no user yet it prints a one-time link
(valid 24 hours) to create the first admin; `shofar user add NAME --role admin` does
the same from the shell.

Under systemd (Type=notify) it reports readiness and pings the watchdog while its
loop runs; logs go to journald.")]
pub struct ServeArgs {
    /// Where the web UI, API, /metrics and /healthz listen (default: [http]
    /// listen); port 0 picks a free one (printed).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Dial the simulated network instead of Asterisk: nobody is called (demos,
    /// load tests). Same as [dialer] backend = "simulator".
    #[arg(long)]
    pub simulate: bool,
    /// No progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum PacingCommand {
    /// Every change of pace, newest first: when, from what to what, and why.
    Log {
        /// Only this campaign's changes (and the box-wide ones, which limit it too).
        #[arg(long, value_name = "CAMPAIGN")]
        campaign: Option<String>,
        /// How many changes to show.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(after_help = "\
Places one real call through Asterisk (ARI and the trunk from shofar.toml) and runs the
IVR flow on it: the campaign's, or --flow FILE, or the built-in default flow (1 donate,
2 more information, 9 never call again, 0 repeat). The message (prompt \"campaign\")
comes from --audio FILE or the campaign's audio; the other prompts from `shofar audio
add`. The number is checked against the do-not-call list right before the dial.

Prints the call record when the call ends. Exit codes: 0 the call was placed and ended
(whatever its outcome); 1 the number is on the do-not-call list (not dialed); 2 an
error (Asterisk unreachable, a prompt without audio, a bad flow file).

Example: shofar call 052-5551234 --audio message.wav")]
pub struct CallArgs {
    /// The number to call (052-5551234, +972525551234, …).
    pub number: String,
    /// Use this campaign's flow, message, prompts and caller ID.
    #[arg(long, value_name = "ID|NAME")]
    pub campaign: Option<String>,
    /// An IVR flow file (JSON, docs/ivr.md).
    #[arg(long, value_name = "FILE")]
    pub flow: Option<PathBuf>,
    /// The message to play (WAV or MP3), converted once for the trunk.
    #[arg(long, value_name = "FILE")]
    pub audio: Option<PathBuf>,
    /// Answering-machine detection: off; hang_up on a machine; or leave_message:
    /// play the prompt `voicemail` to it (default: the campaign's `amd`, else off).
    #[arg(long, value_enum)]
    pub amd: Option<AmdArg>,
    /// Seconds to let it ring (default: [asterisk] ring_timeout_seconds).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(3..=300))]
    pub ring_timeout: Option<u32>,
    /// Print the record as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Spelled as the campaign file's `amd` spells it; the older `hangup` and
/// `message` are still read.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AmdArg {
    Off,
    #[value(name = "hang_up", alias = "hangup")]
    HangUp,
    #[value(name = "leave_message", alias = "message")]
    LeaveMessage,
}

#[derive(Debug, Subcommand)]
pub enum AudioCommand {
    /// Convert a WAV or MP3 file into a prompt the flows can play by NAME.
    #[command(after_help = "\
The file is converted once to 8 kHz G.711 (alaw and ulaw) and placed in [asterisk]
sounds_dir, so Asterisk plays it without transcoding. NAME is what a flow's prompts
list says (menu, invalid, no-input, thanks, optout-confirm, goodbye, info, voicemail…);
with --campaign the prompt is that campaign's own and wins over the box's.")]
    Add {
        /// The prompt's name: letters, digits, '.', '-', '_'.
        name: String,
        /// A WAV or MP3 file.
        file: PathBuf,
        /// Make it this campaign's prompt.
        #[arg(long, value_name = "ID|NAME")]
        campaign: Option<String>,
    },
    /// List the prompts on the box.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CallsCommand {
    /// The latest call records, newest first.
    List {
        /// Only this campaign's calls.
        #[arg(long, value_name = "ID|NAME")]
        campaign: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// One call record.
    Show {
        /// The call's id, as `shofar calls list` shows it.
        call_id: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(after_help = "\
Renders the project's Asterisk configuration (modules, PJSIP transport and trunk,
HTTP/ARI, the dialplan) with the [asterisk] and [trunk] sections of shofar.toml.
Without --write it prints the files; with --write it replaces them in the config's
[asterisk] config_dir (or --dir). Reload Asterisk afterwards. See docs/trunk.md.")]
pub struct AsteriskConfigArgs {
    /// Write the files instead of printing them.
    #[arg(long)]
    pub write: bool,
    /// Where to write (default: [asterisk] config_dir, /etc/asterisk).
    #[arg(long, value_name = "DIR", requires = "write")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Reads .xlsx, .xls, .ods and .csv (UTF-8, UTF-8 with BOM or Windows-1255; comma,
semicolon or tab separated). The phone column is found by its header (טלפון, נייד,
פלאפון, מספר טלפון, phone, mobile, tel, …); a consent column (הסכמה / consent: yes/no
or a date) is recorded; every other column is kept with the contact.

Every data row ends as imported, duplicate or invalid. Invalid and duplicate rows are
written with their row number and reason to FILE.rejected.csv beside the file. The
import is all or nothing: on any error the database is left unchanged.")]
pub struct ImportArgs {
    /// The spreadsheet to import.
    pub file: PathBuf,
    /// The campaign to import into.
    #[arg(long, value_name = "NAME")]
    pub campaign: String,
    /// Create the campaign if it does not exist.
    #[arg(long)]
    pub create: bool,
    /// The sheet to read (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// The phone column's header or letter (default: found by header).
    #[arg(long, value_name = "HEADER")]
    pub phone_column: Option<String>,
    /// How to treat a number seen before (default: from the config, keep-first).
    #[arg(long, value_enum, value_name = "RULE")]
    pub duplicates: Option<DuplicatesArg>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DuplicatesArg {
    /// Keep the first occurrence as it is.
    KeepFirst,
    /// Keep the first, filling its empty fields from later duplicates.
    Merge,
}

#[derive(Debug, Subcommand)]
pub enum BlacklistCommand {
    /// Add numbers to the list.
    Add {
        /// Numbers, in any local spelling (052-5551234, +972525551234, …).
        #[arg(required = true, value_name = "NUMBER")]
        numbers: Vec<String>,
        /// Why they are listed.
        #[arg(long, default_value = "")]
        reason: String,
        /// Where the listing comes from: user_optout (the person asked), admin_import, compliance (the national registry) or central (the fleet's list).
        #[arg(long, value_enum, default_value = "admin_import")]
        source: SourceArg,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Remove numbers from the list (recorded in the history and the audit log).
    Remove {
        /// Numbers, in any local spelling (052-5551234, +972525551234, …).
        #[arg(required = true, value_name = "NUMBER")]
        numbers: Vec<String>,
        /// Why they are removed.
        #[arg(long, default_value = "no reason given")]
        reason: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Add every number in a file (.csv, .xlsx, .xls, .ods).
    Import {
        /// The file: a column of numbers (found by its header), with an optional reason column.
        file: PathBuf,
        /// Where the listing comes from: user_optout (the person asked), admin_import, compliance (the national registry) or central (the fleet's list).
        #[arg(long, value_enum, default_value = "admin_import")]
        source: SourceArg,
        /// Reason for rows without a reason column of their own.
        #[arg(long, default_value = "")]
        reason: String,
        /// For --source compliance: the date the national registry was checked (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        checked_on: Option<String>,
        /// The sheet to read (default: the first).
        #[arg(long, value_name = "NAME")]
        sheet: Option<String>,
        /// The column with the numbers, by its header or its letter (default: found by its header).
        #[arg(long, value_name = "HEADER")]
        phone_column: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Write the whole list as CSV.
    Export {
        /// The file format.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// The file to write (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Say whether a number is listed (exit 0: listed, 1: not listed).
    Check {
        /// The number, in any local spelling (052-5551234, +972525551234, …).
        number: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Additions and removals, newest first.
    History {
        /// Only this number's history.
        number: Option<String>,
        /// How many entries, newest first.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum SourceArg {
    UserOptout,
    AdminImport,
    Compliance,
    Central,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Create a draft campaign from a file (campaign.toml) and/or flags.
    #[command(after_help = "\
The file's keys are documented in docs/campaigns.md (example: docs/campaign.example.toml).
Flags override the file. Times are local to the campaign's zone (\"2026-12-31 20:00\")
or RFC 3339 with an offset; a bare end date runs to the end of that day. Every invalid
setting is reported with its field. The campaign starts as a draft: import contacts,
then `shofar campaign start ID`.")]
    Create(Box<CreateArgs>),
    /// List campaigns with their status and contact counts.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// A campaign's settings, progress, whether it may call now, and who is next.
    Show {
        /// The campaign's id or name.
        campaign: String,
        /// How many of the next contacts to show.
        #[arg(long, default_value_t = 10, value_name = "N")]
        next: usize,
        /// The instant to look from (default: now), e.g. "2026-11-22 10:00".
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Start a draft: active now, or scheduled until its start time.
    Start(TransitionArgs),
    /// Pause a running campaign: no new calls; calls up finish.
    Pause(TransitionArgs),
    /// Resume a paused campaign where it was.
    Resume(TransitionArgs),
    /// Cancel a campaign for good.
    Cancel(TransitionArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The campaign file (TOML).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The campaign's name (unique).
    #[arg(long)]
    pub name: Option<String>,
    /// voice, sms or hybrid.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// donation, advertising, political, informational or emergency.
    #[arg(long)]
    pub purpose: Option<String>,
    /// IANA time zone of the windows (default Asia/Jerusalem).
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// When calling may begin, local to --time-zone ("2026-12-20 09:00") or RFC 3339.
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// When the campaign ends; a bare date (2026-12-31) runs to the end of that day.
    #[arg(long, value_name = "TIME")]
    pub end: Option<String>,
    /// Calls per contact at most, 1-20 (default 3).
    #[arg(long, value_name = "N")]
    pub max_attempts: Option<i64>,
    /// The number callees see, e.g. 03-6123456.
    #[arg(long, value_name = "NUMBER")]
    pub caller_id: Option<String>,
    /// Calls per second, at most.
    #[arg(long)]
    pub cps: Option<f64>,
    /// Calls up at once, at most.
    #[arg(long, value_name = "N")]
    pub max_channels: Option<i64>,
    /// Call contacts without recorded consent in a donation or advertising
    /// campaign, for this reason (audited; an admin's decision).
    #[arg(long, value_name = "REASON")]
    pub consent_override: Option<String>,
    /// Print the result as JSON, for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TransitionArgs {
    /// The campaign's id or name.
    pub campaign: String,
    /// Why (kept in the audit log).
    #[arg(long)]
    pub reason: Option<String>,
    /// Print the result as JSON, for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Without --campaign: the box's defaults (Sunday-Thursday 09:00-20:00, Friday
09:00-13:00, Shabbat and Yom Tov quiet) in Asia/Jerusalem. Quiet periods are
computed for the box's location ([calendar] in shofar.toml): from candle-lighting
to nightfall. Reasons: shabbat, rosh_hashana, yom_kippur, sukkot, shemini_atzeret,
pesach, shavuot, erev_shabbat, erev_chag, yom_hazikaron, outside_window,
before_start, after_end.")]
pub struct CalendarArgs {
    /// First day (YYYY-MM-DD, local), default today.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day, included (YYYY-MM-DD), default a week after --from.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Apply this campaign's windows, schedule and quiet periods (id or name).
    #[arg(long, value_name = "ID")]
    pub campaign: Option<String>,
    /// Also list the blocked periods and why.
    #[arg(long)]
    pub explain: bool,
    /// {"allowed":[{"start","end"}],"blocked":[{"start","end","reason"}]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
#[command(after_help = "\
Only on the appliance image (docs/appliance.md): the bundle goes to the root slot
that is not running, and the box keeps running the current one until it reboots.
After the reboot the new slot must come up healthy (supervisor and Asterisk ready)
within 5 minutes, or the box marks it bad and reboots into the previous one. On a
server, upgrade the Debian package instead.")]
pub enum UpdateCommand {
    /// Hand a signed update bundle (.raucb) to the installer and wait for its answer.
    #[command(after_help = "\
The installer refuses a bundle that is not signed by a key the box trusts, that is
for another kind of box, or that is not newer than the running version, and says
which. Installed, it waits for `shofar update reboot`.

Example: shofar update install shofar-0.2.0.raucb")]
    Install {
        /// The bundle (made by `make bundle`).
        bundle: PathBuf,
        /// Return once the bundle is handed over, without waiting for the installer.
        #[arg(long)]
        no_wait: bool,
    },
    /// What runs now (version, root slot) and what the last update did.
    Status {
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Reboot into the installed update (the calls that are up end).
    Reboot,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Where the database is, its schema version and what it holds.
    Info {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Apply pending schema migrations (opening the database does this too).
    Migrate,
    /// Write a consistent copy of the database, safe while `shofar serve` runs.
    #[command(after_help = "\
Without -o the copy goes to DATA/backups/shofar-YYYYMMDD-HHMMSS-MMM.db and only the
newest --keep backups there are kept (the daily timer on a box runs this). The copy
is written under a temporary name and renamed when whole.

Example: shofar db backup -o /mnt/usb/shofar-before-update.db")]
    Backup {
        /// The file to write (must not exist).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// How many backups to keep in DATA/backups (without -o).
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=365))]
        keep: u32,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Replace the database with a backup, once the backup is checked whole.
    #[command(after_help = "\
Stop `shofar serve` first (systemctl stop shofar): a restore is refused while it runs
on the database. The file must pass SQLite's
integrity check, be a Shofar database, and have a schema this shofar knows (a newer
one is refused); it is brought to the current schema beside the database before it
replaces it. The database it replaces is kept as shofar.db.before-restore-TIME.")]
    Restore {
        /// The backup to restore.
        file: PathBuf,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every flag and argument of every subcommand says what it is in `--help`.
    #[test]
    fn every_argument_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") || arg.is_hide_set() {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
                // A doc comment's `\"` reaches --help with its backslash.
                if let Some(help) = arg.get_help()
                    && help.to_string().contains('\\')
                {
                    missing.push(format!("{path} {id}: a backslash in {help:?}"));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "shofar", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:#?}");
    }
}
