//! `make bench-dialer`: the real dialer, at the box's limits, against the simulated
//! telephone network (REQUIREMENTS.md §4: 10,000 concurrent calls, 500 calls/s,
//! event handling p99 ≤ 10 ms, never above the calls-per-second limit, supervisor
//! ≤ 256 MB).
//!
//! What runs is what `shofar serve --simulate` runs: a SQLite store on disk (two
//! connections, one for the dialer and one for the calls, as `serve` opens them),
//! the scheduler, the dialer, and every call through the real session and IVR
//! engine, with the [`Simulator`] standing in for Asterisk. What differs:
//!
//! - the campaigns' windows are open around the clock and keep no quiet periods,
//!   so the benchmark runs at any hour, Shabbat included;
//! - the box's health is a fixed, healthy reading ([`FixedHealth`]): the benchmark
//!   measures the dialer, not the pacing controller slowing down because the
//!   benchmark itself keeps the CPU busy;
//! - each campaign may go as fast as a campaign may (500 calls/s, 10,000
//!   channels), so only the box's limits bind.
//!
//! The simulated calls last about 20 s on average (most are answered and listened
//! to for 14–24 s), so at 500 calls/s about 10,000 are up at once. After a ramp-up
//! of three of the longest calls (the first 10,000 calls, dialed together, end
//! together and leave a wave of free channels that takes two more call lengths to
//! even out: measured 2026-12-07, 459/s averaged after one call length, 493/s
//! after three; the steady state), it measures for
//! `--seconds` and prints one JSON line: event-handling latency (from an answer or
//! a key press to the supervisor's next command on that channel, as the simulator
//! times it), the most calls started in any one-second window (over the whole run)
//! against the limit, the average rate, calls up at once, and the process's memory
//! and CPU. With `--record` it also adds a dated row to docs/benchmarks.md, which
//! also says what the figures show and what limits them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use chrono::Utc;
use clap::Parser;
use serde::Serialize;
use shofar_campaign::{CampaignFile, Event, Kind, Purpose};
use shofar_dialer::health::{FixedHealth, LocalHealth};
use shofar_dialer::metrics::Metrics;
use shofar_dialer::{Dialer, DialerConfig, DialerParts, DialerStatus};
use shofar_dnc::SharedDnc;
use shofar_pacing::Cps;
use shofar_phone::{E164, LineType};
use shofar_scheduler::Scheduler;
use shofar_store::Store;
use shofar_store::campaigns::NewCampaign;
use shofar_store::contacts::{ImportCounts, NewContact};
use shofar_telephony::config::{AsteriskConfig, TrunkConfig};
use shofar_telephony::{Backend, CallPlanner, SimConfig, Simulator, Telephony};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long an unanswered call rings before the box gives up (Asterisk's default
/// `ring_timeout_seconds`).
const RING_TIMEOUT: Duration = Duration::from_secs(30);

/// The simulated prompts' length: long enough that the default flow's menu
/// (two prompts, then a 10 s wait for a key) is still going when a listener who
/// presses nothing hangs up.
const PROMPT_SECONDS: f64 = 10.0;

/// The section of docs/benchmarks.md that `--record` adds rows to.
const SECTION: &str = "## Dialer with simulated telephony";

#[derive(Debug, Parser)]
#[command(about = "The dialer at the box's limits against the simulated telephone network")]
struct Args {
    /// The box's calls-per-second ceiling.
    #[arg(long, default_value_t = 500.0)]
    cps: f64,
    /// The box's channel limit (calls up at once).
    #[arg(long, default_value_t = 10_000)]
    channels: u32,
    /// Seconds measured, after the ramp-up.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Seconds of ramp-up before measuring [default: three times the longest a
    /// call lasts, plus 5 s, so the rate and the calls up at once have reached
    /// their steady state].
    #[arg(long)]
    ramp: Option<u64>,
    /// How long an answering person listens before hanging up, in seconds:
    /// `LOW-HIGH` (uniform) or one number.
    #[arg(long, default_value = "14-24", value_parser = parse_range)]
    talk: [f64; 2],
    /// How long an answered call rings first, in seconds (`LOW-HIGH`).
    #[arg(long, default_value = "1-3", value_parser = parse_range)]
    ring: [f64; 2],
    /// Share of dialed calls that are answered.
    #[arg(long, default_value_t = 0.9)]
    answer_rate: f64,
    /// Active campaigns sharing the box (each may use all of it).
    #[arg(long, default_value_t = 2)]
    campaigns: u32,
    /// Contacts in all [default: enough for the whole run at the full rate, and a
    /// fifth more].
    #[arg(long)]
    contacts: Option<u64>,
    /// Seeds the numbers and the simulated calls' fates.
    #[arg(long, default_value_t = 20_261_121)]
    seed: u64,
    /// Add a dated row to docs/benchmarks.md.
    #[arg(long)]
    record: bool,
    /// The benchmarks page `--record` writes to.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/benchmarks.md"))]
    docs: PathBuf,
}

fn parse_range(text: &str) -> Result<[f64; 2], String> {
    let parse = |part: &str| {
        part.trim()
            .parse::<f64>()
            .map_err(|_| format!("{part:?} is not a number of seconds"))
    };
    let range = match text.split_once(['-', ',']) {
        Some((low, high)) => [parse(low)?, parse(high)?],
        None => {
            let value = parse(text)?;
            [value, value]
        }
    };
    if range[0] >= 0.0 && range[1] >= range[0] {
        Ok(range)
    } else {
        Err(format!(
            "{text:?}: give LOW-HIGH seconds, LOW not above HIGH"
        ))
    }
}

impl Args {
    /// The longest a simulated call lasts: an unanswered one rings out, an
    /// answered one rings and is listened to.
    fn longest_call(&self) -> f64 {
        RING_TIMEOUT.as_secs_f64().max(self.ring[1] + self.talk[1]) + 0.2
    }

    fn ramp(&self) -> Duration {
        Duration::from_secs(
            self.ramp
                .unwrap_or((3.0 * self.longest_call()).ceil() as u64 + 5),
        )
    }

    fn contacts(&self) -> u64 {
        self.contacts.unwrap_or_else(|| {
            let seconds = self.ramp().as_secs() + self.seconds + 5;
            (self.cps * seconds as f64 * 1.2).ceil() as u64
        })
    }

    fn sim_config(&self) -> SimConfig {
        let unanswered = 1.0 - self.answer_rate;
        SimConfig {
            seed: self.seed,
            answer_rate: self.answer_rate,
            // Of the rest: a few busy, congested and unreachable; the others ring out.
            busy_rate: unanswered * 0.3,
            congestion_rate: unanswered * 0.1,
            failed_rate: unanswered * 0.1,
            ring_seconds: self.ring,
            talk_seconds: self.talk,
            prompt_seconds: PROMPT_SECONDS,
            ..SimConfig::default()
        }
    }
}

/// The process's own CPU time (user + system) and memory, from /proc.
struct Usage {
    cpu_seconds: f64,
    peak_rss_kib: u64,
    rss_kib: u64,
}

impl Usage {
    fn now() -> Usage {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // The command name may hold spaces: fields are counted after its ')'.
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks = |index: usize| {
            fields
                .get(index)
                .and_then(|value| value.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kib = |key: &str| {
            status
                .lines()
                .find(|line| line.starts_with(key))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|value| value.parse().ok())
                .unwrap_or(0)
        };
        Usage {
            // utime and stime (fields 14 and 15), in USER_HZ ticks: 100 a second
            // on Linux whatever the kernel's own tick rate.
            cpu_seconds: (ticks(11) + ticks(12)) / 100.0,
            peak_rss_kib: kib("VmHWM:"),
            rss_kib: kib("VmRSS:"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct Machine {
    cores: usize,
    model: String,
    /// The one-, five- and fifteen-minute load averages.
    load_before: [f64; 3],
    load_after: [f64; 3],
}

fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut values = text
        .split_whitespace()
        .map(|value| value.parse().unwrap_or(f64::NAN));
    std::array::from_fn(|_| values.next().unwrap_or(f64::NAN))
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// A campaign that may call at any hour, as fast as a campaign may.
fn campaign_file(cps: f64, channels: u32) -> String {
    let days = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ]
    .map(|day| format!("{day} = \"00:00-24:00\"\n"))
    .concat();
    format!(
        "max_attempts = 3\n\
         caller_id = \"03-6123456\"\n\
         [windows]\n{days}\
         [quiet]\nshabbat = false\nholidays = false\n\
         [retry]\nbusy = \"2m\"\nno_answer = \"5m\"\ncongestion = \"1m\"\nfailed = \"5m\"\n\
         [pacing]\ncps = {cps}\nmax_channels = {channels}\n"
    )
}

/// Creates the campaigns, fills them with distinct valid Israeli mobile numbers
/// and starts them.
fn prepare_store(path: &Path, args: &Args) -> anyhow::Result<()> {
    let mut store = Store::open(path)?;
    let file = CampaignFile::from_toml(&campaign_file(
        shofar_campaign::settings::MAX_CPS,
        shofar_campaign::settings::MAX_CHANNELS,
    ))
    .context("the benchmark's campaign file")?;
    let settings = file
        .settings
        .validate(Utc::now())
        .context("the benchmark's campaign settings")?;
    let total = args.contacts();
    let per_campaign = total.div_ceil(u64::from(args.campaigns));
    let mut numbers = shofar_testdata::blacklist_numbers(total as usize, args.seed);
    for index in 1..=args.campaigns {
        let name = format!("load-{index}");
        let id = store.insert_campaign(
            &NewCampaign {
                name: name.clone(),
                kind: Kind::Voice,
                purpose: Purpose::Informational,
                settings: settings.clone(),
                consent_override: None,
            },
            "bench",
        )?;
        let mut import = store.begin_contact_import(&name, false, "bench", "bench")?;
        for (row, digits) in numbers.by_ref().take(per_campaign as usize).enumerate() {
            let e164 = E164::from_u64(digits)
                .with_context(|| format!("{digits} is not an E.164 number"))?;
            import.insert(NewContact {
                e164,
                line_type: LineType::Mobile,
                metadata: "{}".to_owned(),
                consent: None,
                blacklisted: false,
                source_row: row as u64 + 2,
            })?;
        }
        import.finish(
            ImportCounts::default(),
            &serde_json::json!({}),
            None,
            "bench",
        )?;
        store.campaign_event(id, Event::Start, Utc::now(), "bench", None)?;
    }
    Ok(())
}

/// What the benchmark's calls dial: the simulator (no audio needed), the default
/// trunk, the benchmark's ring timeout, calls of at most 30 minutes. The
/// campaign's settings add the rest (the built-in flow, no answering-machine
/// detection).
fn call_planner() -> anyhow::Result<CallPlanner> {
    let asterisk = AsteriskConfig {
        ring_timeout_seconds: RING_TIMEOUT.as_secs() as u32,
        max_call_seconds: 1800,
        ..AsteriskConfig::default()
    };
    let trunk = TrunkConfig {
        caller_id: Some("036123456".to_owned()),
        ..TrunkConfig::default()
    };
    let normalizer = shofar_phone::Normalizer::new("IL", &["IL".to_owned()])?;
    Ok(CallPlanner::new(&asterisk, trunk, normalizer, true))
}

/// The most instants in any one-second window `[t, t + 1 s)`; `instants` sorted.
fn max_in_one_second(instants: &[Instant]) -> usize {
    let mut most = 0;
    let mut first = 0;
    for (last, at) in instants.iter().enumerate() {
        while *at - instants[first] >= Duration::from_secs(1) {
            first += 1;
        }
        most = most.max(last - first + 1);
    }
    most
}

/// Gaps between consecutive starts: the longest, and how many were over 10 ms
/// (at 500 calls/s a start is due every 2 ms: a long gap is the dialer's loop
/// busy elsewhere, or a start waiting on the database).
fn gaps(instants: &[Instant]) -> (Duration, usize) {
    let gaps = instants.windows(2).map(|pair| pair[1] - pair[0]);
    let longest = gaps.clone().max().unwrap_or_default();
    let over = gaps.filter(|gap| *gap > Duration::from_millis(10)).count();
    (longest, over)
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], fraction: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(Debug, Serialize)]
struct Latency {
    /// Reactions measured in the window.
    count: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

#[derive(Debug, Serialize)]
struct Rate {
    limit: f64,
    /// Over the whole run, ramp-up included: the figure the limit is held to.
    max_1s_window: usize,
    max_1s_window_measured: usize,
    average_measured: f64,
    /// Between consecutive starts in the window.
    longest_gap_ms: f64,
    gaps_over_10ms: usize,
}

#[derive(Debug, Serialize)]
struct Concurrency {
    limit: u32,
    /// Sampled every 50 ms during the window.
    peak_measured: usize,
    mean_measured: f64,
    /// The simulator's own count, whole run.
    peak_run: usize,
}

#[derive(Debug, Serialize)]
struct Calls {
    started_measured: usize,
    ended_measured: u64,
    started_total: u64,
    ended_total: u64,
    /// Ended by the supervisor at shutdown (the benchmark gives no grace).
    cut_at_shutdown: usize,
    contacts: u64,
}

#[derive(Debug, Serialize)]
struct Memory {
    peak_rss_mib: f64,
    rss_mib: f64,
}

#[derive(Debug, Serialize)]
struct Targets {
    p99_at_most_10ms: bool,
    never_above_cps: bool,
    rss_at_most_256mb: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    benchmark: &'static str,
    date: String,
    machine: Machine,
    ramp_seconds: u64,
    measured_seconds: f64,
    sim: SimConfig,
    event_latency: Latency,
    cps: Rate,
    concurrent: Concurrency,
    calls: Calls,
    memory: Memory,
    /// Process CPU time over the window / wall time; 100 = one core.
    cpu_percent: f64,
    /// The same from the dialer's start (ramp-up included) to the window's end.
    cpu_percent_run: f64,
    /// The flags this run was given (`--record` aside).
    args: String,
    targets: Targets,
}

/// What the run measured, before it is turned into the report.
struct Measured {
    measured: Duration,
    reactions: Vec<u64>,
    dialed: Vec<Instant>,
    window: (Instant, Instant),
    peak_measured: usize,
    mean_measured: f64,
    peak_run: usize,
    ended_measured: u64,
    started_total: u64,
    ended_total: u64,
    cut: usize,
    cpu_seconds: f64,
    run_seconds: f64,
    cpu_seconds_run: f64,
    usage_at_end: Usage,
}

fn ended(status: &DialerStatus) -> u64 {
    status
        .campaigns
        .iter()
        .flat_map(|campaign| campaign.ended.values())
        .sum()
}

/// Waits for the dialer's next status snapshot, so a window starts and ends
/// exactly where the dialer's own counts do.
async fn next_status(status: &mut watch::Receiver<DialerStatus>) -> anyhow::Result<DialerStatus> {
    status
        .changed()
        .await
        .context("the dialer stopped before the benchmark ended")?;
    Ok(status.borrow_and_update().clone())
}

fn progress(elapsed: Duration, status: &DialerStatus) {
    eprintln!(
        "load: {:>4.0} s  {:>6} calls up  {:>4.0}/s dialing  {:>5} queued  pace {:.0}/s  {:>4} MiB",
        elapsed.as_secs_f64(),
        status.active,
        status.dial_rate_cps,
        status.queued,
        status.pace_cps,
        Usage::now().rss_kib / 1024
    );
}

async fn run(args: &Args, db: &Path) -> anyhow::Result<Measured> {
    let (writer, writer_thread) = shofar_store::writer::spawn(Store::open(db)?);
    let dialer_store = Store::open(db)?;
    let (index, _) = dialer_store.load_dnc()?;
    let dnc = SharedDnc::new(index);
    let shutdown = CancellationToken::new();
    // As in `serve`: the engine outlives the dialer's shutdown.
    let engine_stop = CancellationToken::new();
    let prefix = "shofar-d-";
    let simulator = Simulator::new(args.sim_config(), "shofar", prefix, engine_stop.clone())?;
    let backend: Arc<dyn Backend> = Arc::new(simulator.clone());
    let mut config = DialerConfig::new(Cps::new(args.cps)?, args.channels);
    config.call_prefix = prefix.to_owned();
    // The benchmark is over when shutdown starts: end the calls at once.
    config.grace = Duration::ZERO;
    let health = FixedHealth::default();
    health.set(LocalHealth {
        cpu_percent: 10.0,
        memory_percent: 20.0,
        load_per_core: 0.2,
    });
    let dialer = Dialer::new(DialerParts {
        config,
        telephony: Telephony {
            backend,
            writer,
            dnc,
            planner: Arc::new(call_planner()?),
            link_wait: Duration::from_secs(10),
        },
        store: dialer_store,
        scheduler: Scheduler::new(shofar_campaign::BoxCalendar::default()),
        metrics: Arc::new(Metrics::new()),
        health: Box::new(health),
        // A fresh store: the whole (empty) history is in the index.
        dnc_cursor: 0,
    })?;
    let mut status = dialer.status();
    let origin = Instant::now();
    let usage_at_origin = Usage::now();
    let dialing = tokio::spawn(dialer.run(shutdown.clone()));

    // Ramp-up: report progress until steady state.
    let ramp_end = origin + args.ramp();
    while Instant::now() < ramp_end {
        tokio::select! {
            () = tokio::time::sleep_until(ramp_end) => {}
            changed = next_status(&mut status) => {
                let snapshot = changed?;
                if origin.elapsed().as_secs().is_multiple_of(5) {
                    progress(origin.elapsed(), &snapshot);
                }
            }
        }
    }

    // The window runs from one status snapshot to another.
    let first = next_status(&mut status).await?;
    let start = Instant::now();
    let usage_at_start = Usage::now();
    let reactions_before = simulator.stats().reaction_us.len();
    let window_end = start + Duration::from_secs(args.seconds);
    let mut sampler = tokio::time::interval(Duration::from_millis(50));
    let (mut peak, mut samples, mut sum) = (0usize, 0u64, 0u64);
    let mut last_report = start;
    while Instant::now() < window_end {
        sampler.tick().await;
        let active = simulator.active();
        peak = peak.max(active);
        samples += 1;
        sum += active as u64;
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            progress(origin.elapsed(), &status.borrow());
        }
    }
    let last = next_status(&mut status).await?;
    let end = Instant::now();
    // Memory before the statistics are copied (their copy is the benchmark's).
    let usage_at_end = Usage::now();
    let stats = simulator.stats();
    let reactions = stats
        .reaction_us
        .get(reactions_before..)
        .unwrap_or(&[])
        .to_vec();
    let dialed: Vec<Instant> = stats.dialed.iter().map(|(at, _)| *at).collect();
    drop(stats);

    shutdown.cancel();
    let summary = dialing
        .await
        .context("the dialer task failed")?
        .context("the dialer stopped with an error")?;
    engine_stop.cancel();
    tokio::task::spawn_blocking(move || writer_thread.stop()).await?;
    Ok(Measured {
        measured: end - start,
        reactions,
        dialed,
        window: (start, end),
        peak_measured: peak,
        mean_measured: sum as f64 / samples.max(1) as f64,
        peak_run: simulator.stats().max_channels,
        ended_measured: ended(&last) - ended(&first),
        started_total: summary.calls_started,
        ended_total: summary.calls_ended,
        cut: summary.calls_cut,
        cpu_seconds: usage_at_end.cpu_seconds - usage_at_start.cpu_seconds,
        run_seconds: (end - origin).as_secs_f64(),
        cpu_seconds_run: usage_at_end.cpu_seconds - usage_at_origin.cpu_seconds,
        usage_at_end,
    })
}

fn report(args: &Args, machine: Machine, measured: Measured) -> Report {
    let mut reactions = measured.reactions;
    reactions.sort_unstable();
    let ms = |us: u64| us as f64 / 1000.0;
    let (start, end) = measured.window;
    let in_window: Vec<Instant> = measured
        .dialed
        .iter()
        .copied()
        .filter(|at| *at >= start && *at < end)
        .collect();
    let seconds = measured.measured.as_secs_f64();
    let max_1s_window = max_in_one_second(&measured.dialed);
    let (longest_gap, gaps_over_10ms) = gaps(&in_window);
    let p99 = ms(percentile(&reactions, 0.99));
    let peak_rss_mib = measured.usage_at_end.peak_rss_kib as f64 / 1024.0;
    Report {
        benchmark: "dialer-simulated-telephony",
        date: Utc::now().format("%Y-%m-%d").to_string(),
        machine,
        ramp_seconds: args.ramp().as_secs(),
        measured_seconds: seconds,
        sim: args.sim_config(),
        event_latency: Latency {
            count: reactions.len(),
            p50_ms: ms(percentile(&reactions, 0.50)),
            p99_ms: p99,
            max_ms: ms(reactions.last().copied().unwrap_or(0)),
        },
        cps: Rate {
            limit: args.cps,
            max_1s_window,
            max_1s_window_measured: max_in_one_second(&in_window),
            average_measured: in_window.len() as f64 / seconds,
            longest_gap_ms: longest_gap.as_secs_f64() * 1000.0,
            gaps_over_10ms,
        },
        concurrent: Concurrency {
            limit: args.channels,
            peak_measured: measured.peak_measured,
            mean_measured: measured.mean_measured,
            peak_run: measured.peak_run,
        },
        calls: Calls {
            started_measured: in_window.len(),
            ended_measured: measured.ended_measured,
            started_total: measured.started_total,
            ended_total: measured.ended_total,
            cut_at_shutdown: measured.cut,
            contacts: args.contacts(),
        },
        memory: Memory {
            peak_rss_mib,
            rss_mib: measured.usage_at_end.rss_kib as f64 / 1024.0,
        },
        cpu_percent: measured.cpu_seconds / seconds * 100.0,
        cpu_percent_run: measured.cpu_seconds_run / measured.run_seconds * 100.0,
        args: {
            let given: Vec<String> = std::env::args()
                .skip(1)
                .filter(|arg| arg != "--record")
                .collect();
            if given.is_empty() {
                "defaults".to_owned()
            } else {
                given.join(" ")
            }
        },
        targets: Targets {
            p99_at_most_10ms: p99 <= 10.0,
            never_above_cps: max_1s_window as f64 <= args.cps.floor(),
            rss_at_most_256mb: measured.usage_at_end.peak_rss_kib * 1024 <= 256_000_000,
        },
    }
}

/// The row `--record` adds.
fn table_row(report: &Report) -> String {
    let machine = &report.machine;
    let latency = &report.event_latency;
    format!(
        "| {} | {} cores, {} (load {:.1}) | `{}` | {} | {} | {:.0} | {} ({:.0}) | {:.2} / {:.1} / {:.1} ms | {:.0} MiB | {:.0} % |",
        report.date,
        machine.cores,
        machine.model,
        machine.load_before[0],
        report.args,
        report.cps.limit,
        report.cps.max_1s_window,
        report.cps.average_measured,
        report.concurrent.peak_measured,
        report.concurrent.mean_measured,
        latency.p50_ms,
        latency.p99_ms,
        latency.max_ms,
        report.memory.peak_rss_mib,
        report.cpu_percent,
    )
}

const TABLE_HEADER: &str = "| date | machine (1-min load before) | flags | cps limit | max in any 1 s | average cps | peak (mean) concurrent | event latency p50 / p99 / max | RSS peak | CPU (of one core) |\n\
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |";

/// Adds `row` at the end of the section's table (the section and its table are
/// created at the end of the page if missing).
fn record(docs: &Path, row: &str) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(docs).with_context(|| format!("cannot read {}", docs.display()))?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    match lines.iter().position(|line| line.trim_end() == SECTION) {
        Some(heading) => {
            let next_section = lines[heading + 1..]
                .iter()
                .position(|line| line.starts_with("## "))
                .map_or(lines.len(), |offset| heading + 1 + offset);
            let table_start = lines[heading + 1..next_section]
                .iter()
                .position(|line| line.starts_with("| date"))
                .map(|offset| heading + 1 + offset);
            match table_start {
                Some(table_start) => {
                    let table_end = lines[table_start..next_section]
                        .iter()
                        .position(|line| !line.starts_with('|'))
                        .map_or(next_section, |offset| table_start + offset);
                    lines.insert(table_end, row.to_owned());
                }
                None => {
                    let table = [TABLE_HEADER.to_owned(), row.to_owned(), String::new()];
                    lines.splice(next_section..next_section, table);
                }
            }
        }
        None => {
            lines.extend([
                String::new(),
                SECTION.to_owned(),
                String::new(),
                "`make bench-dialer` (appliance/dialer/examples/load.rs).".to_owned(),
                String::new(),
                TABLE_HEADER.to_owned(),
                row.to_owned(),
            ]);
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(docs, text).with_context(|| format!("cannot write {}", docs.display()))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.campaigns >= 1, "--campaigns must be at least 1");
    ensure!(args.seconds >= 1, "--seconds must be at least 1");
    if let Err(problem) = args.sim_config().validate() {
        bail!("the simulated network: {problem}");
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let load_before = load_average();
    let data = tempfile::tempdir().context("cannot create a temporary directory")?;
    let db = data.path().join("load.db");
    let setup = std::time::Instant::now();
    prepare_store(&db, &args).context("cannot prepare the benchmark's database")?;
    eprintln!(
        "load: {} contacts in {} campaign(s) ready in {:.1} s; {} s of ramp-up, then {} s measured",
        args.contacts(),
        args.campaigns,
        setup.elapsed().as_secs_f64(),
        args.ramp().as_secs(),
        args.seconds
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("shofar")
        .build()
        .context("cannot start the async runtime")?;
    let measured = runtime.block_on(run(&args, &db))?;
    drop(runtime);
    let machine = Machine {
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        model: cpu_model(),
        load_before,
        load_after: load_average(),
    };
    let report = report(&args, machine, measured);
    println!("{}", serde_json::to_string(&report)?);
    if args.record {
        record(&args.docs, &table_row(&report))?;
        eprintln!("load: recorded in {}", args.docs.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_second_windows_are_counted_exactly() {
        let origin = Instant::now();
        let at = |ms: u64| origin + Duration::from_millis(ms);
        assert_eq!(max_in_one_second(&[]), 0);
        // 0, 999 share a window; 1000 starts a new one with 999.
        assert_eq!(max_in_one_second(&[at(0), at(999), at(1000)]), 2);
        assert_eq!(
            max_in_one_second(&[at(0), at(10), at(500), at(990), at(1500), at(1600)]),
            4
        );
    }

    #[test]
    fn gaps_between_starts() {
        let origin = Instant::now();
        let at = |ms: u64| origin + Duration::from_millis(ms);
        assert_eq!(gaps(&[]), (Duration::ZERO, 0));
        assert_eq!(
            gaps(&[at(0), at(2), at(15), at(17), at(40)]),
            (Duration::from_millis(23), 2)
        );
    }

    /// Records `row` into a page holding `before`; returns the page after.
    fn recorded(before: &str, row: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let page = dir.path().join("benchmarks.md");
        std::fs::write(&page, before).unwrap();
        record(&page, row).unwrap();
        std::fs::read_to_string(&page).unwrap()
    }

    #[test]
    fn a_row_goes_at_the_end_of_the_sections_table() {
        let page = format!(
            "# Benchmarks\n\n{SECTION}\n\nText.\n\n{TABLE_HEADER}\n| old |\n\nMore text.\n\n## Next\n\n| date | other |\n"
        );
        let after = recorded(&page, "| new |");
        assert_eq!(
            after,
            page.replace("| old |\n", "| old |\n| new |\n"),
            "{after}"
        );
    }

    #[test]
    fn a_missing_section_is_added_at_the_end() {
        let after = recorded("# Benchmarks\n\nText.\n", "| new |");
        assert!(
            after.starts_with("# Benchmarks\n\nText.\n\n## Dialer with simulated telephony\n"),
            "{after}"
        );
        assert!(
            after.ends_with(&format!("{TABLE_HEADER}\n| new |\n")),
            "{after}"
        );
    }

    #[test]
    fn a_section_without_a_table_gets_one() {
        let page = format!("{SECTION}\n\nText.\n\n## Next\n");
        let after = recorded(&page, "| new |");
        assert_eq!(
            after,
            format!("{SECTION}\n\nText.\n\n{TABLE_HEADER}\n| new |\n\n## Next\n")
        );
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 0.5), 50);
        assert_eq!(percentile(&values, 0.99), 99);
        assert_eq!(percentile(&[7], 0.99), 7);
    }
}
