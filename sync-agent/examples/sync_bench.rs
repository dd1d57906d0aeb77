//! `make bench-sync`: a box's backlog of call records drained by the real sync
//! agent to a local broker and S3 (REQUIREMENTS.md §4: ≥ 10,000 records/s;
//! 1,000,000 queued records caught up in ≤ 2 min), with the agent's peak memory
//! and CPU, and how long an opt-out on one box takes to reach another meanwhile.
//!
//! What runs is what runs on a box: the release `shofar-sync run` of two boxes,
//! A and B, against mosquitto (mutual TLS, configured like AWS IoT Core) and
//! s3s-fs (SigV4), both started by the sync tests' own harness
//! (`tests/support/mod.rs`, the same configuration as `cargo test --test fleet`).
//! Box A's database holds `--records` ended call records, written through the
//! store's own API (`call_started`, `call_answered`, `call_progress`,
//! `call_finished`: the rows and feed entries the supervisor writes, the feed
//! filled by its triggers) for contacts of one campaign, five attempts each.
//! That database is made once and kept in `$SHOFAR_BENCH_DIR`; each run copies it.
//!
//! Measured from the moment A's agent starts until its status file
//! (`DATA/sync/status.json`, written every 2 s) shows no record waiting for S3 and
//! its counters `records_uploaded_total` and `records_published_total` (acknowledged
//! by the broker) both reach the backlog. Meanwhile, every 5 s, `shofar blacklist
//! add … --source user_optout` runs on box A and the time from its commit (the
//! command's exit) until box B's database lists the number is taken. Afterwards
//! every record object in S3 is read back and its keys counted.
//!
//! Rates: by default the agent may publish without limit (`publish_rate = 0`,
//! `publish_kib_per_second = 0`) with `max_inflight = 100`: a local broker, not AWS
//! IoT Core's per-connection limits. `--aws-defaults` leaves `[sync]` at its
//! defaults, chosen for AWS (50 publishes/s, 256 KiB/s, 50 in flight): then the S3
//! drain is timed as before and the MQTT lane, bounded by the byte rate by design,
//! is watched for `--mqtt-seconds` more (0: until it is done) and its time for the
//! whole backlog projected from its rate.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::{TimeZone, Utc};
use clap::Parser;
use shofar_phone::{E164, LineType};
use shofar_store::Store;
use shofar_store::calls::{
    CallAction, CallEnd, CallKind, CallOutcome, CallProgress, EndedBy, NewCall,
};
use shofar_store::contacts::{ImportCounts, NewContact};
use shofar_store::sync::status::{SyncStatus, read_status};
use support::{Broker, Persistence, Pki, S3};

const ORG: &str = "acme";
const BUCKET: &str = "acme-shofar";
/// Attempts per contact: the records are spread over `records / ATTEMPTS` contacts.
const ATTEMPTS: u32 = 5;
/// Calls written per transaction while filling the database.
const FILL_CHUNK: usize = 20_000;
/// Bump when the filled database's content changes (the cached file is remade).
const FILL_VERSION: u32 = 1;

#[derive(Parser, Debug)]
#[command(
    about = "The sync agent draining a backlog of call records (docs/benchmarks.md, \"Sync\")"
)]
struct Args {
    /// Ended call records waiting on box A.
    #[arg(long, default_value_t = 1_000_000)]
    records: usize,
    /// Leave `[sync]` at its defaults (AWS IoT Core's limits) instead of unlimited publishing.
    #[arg(long)]
    aws_defaults: bool,
    /// With --aws-defaults: how long to watch the MQTT lane after S3 is done (0: until it is done).
    #[arg(long, default_value_t = 60)]
    mqtt_seconds: u64,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// Seconds between opt-outs on box A while the backlog drains.
    #[arg(long, default_value_t = 5)]
    optout_every: u64,
    /// Keep the run's folder (servers' data, logs, databases) and print where it is.
    #[arg(long)]
    keep: bool,
    /// Where the release `shofar` and `shofar-sync` are (default: beside this example's folder).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let Some(tools) = support::tools() else {
        bail!("mosquitto and s3s-fs are needed: make fleet-tools");
    };
    let bin_dir = match &args.bin_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_exe()?
            .parent()
            .and_then(Path::parent)
            .context("the example is in target/release/examples")?
            .to_path_buf(),
    };
    let shofar = bin_dir.join("shofar");
    let agent_bin = bin_dir.join("shofar-sync");
    for bin in [&shofar, &agent_bin] {
        ensure!(
            bin.exists(),
            "no {} (cargo build --release -p shofar -p shofar-sync)",
            bin.display()
        );
    }
    let bench_dir = std::env::var_os("SHOFAR_BENCH_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/shofar/bench")))
        .context("set SHOFAR_BENCH_DIR")?;
    std::fs::create_dir_all(&bench_dir)?;

    let template = bench_dir.join(format!("sync-{}-v{FILL_VERSION}.db", args.records));
    if !template.exists() {
        let started = Instant::now();
        eprintln!(
            "bench-sync: writing {} call records into {} (once)",
            args.records,
            template.display()
        );
        fill(&template, args.records)?;
        eprintln!(
            "bench-sync: written in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    let run = tempfile::Builder::new()
        .prefix("sync-run-")
        .tempdir_in(&bench_dir)?;
    let dir = run.path().to_path_buf();
    let pki = Pki::new(&dir.join("pki"), &["box-a", "box-b"]);
    let broker = Broker::start(&tools, &pki, &dir.join("broker"), Persistence::On);
    let s3 = S3::start(&tools, &dir.join("s3"));
    s3.create_bucket(BUCKET);

    let limits = if args.aws_defaults {
        String::new()
    } else {
        "publish_rate = 0\npublish_kib_per_second = 0\nmax_inflight = 100\n".to_owned()
    };
    let a = BenchBox::new(
        &dir, "box-a", &pki, &broker, &s3, &limits, &shofar, &agent_bin,
    )?;
    let b = BenchBox::new(
        &dir, "box-b", &pki, &broker, &s3, &limits, &shofar, &agent_bin,
    )?;
    eprintln!("bench-sync: copying the database to box A");
    std::fs::copy(&template, a.data().join("shofar.db"))?;
    Store::open(&b.data().join("shofar.db"))?;

    let mut agent_b = b.start_agent()?;
    wait_until(Duration::from_secs(30), "box B's agent connected", || {
        b.status().is_some_and(|s| s.mqtt.connected)
    })?;
    let clk_tck = clock_ticks();
    let started = Instant::now();
    let mut agent_a = a.start_agent()?;
    let pid_a = agent_a.id();

    // Opt-outs on A while the backlog drains, each timed until B lists it.
    let draining = Arc::new(AtomicBool::new(true));
    let optouts: Arc<Mutex<Vec<OptOut>>> = Arc::default();
    let optout_thread = {
        let (draining, optouts) = (Arc::clone(&draining), Arc::clone(&optouts));
        let (a, b) = (a.clone(), b.clone());
        let every = Duration::from_secs(args.optout_every);
        std::thread::spawn(move || optout_loop(&a, &b, every, &draining, &optouts))
    };

    let n = args.records as u64;
    let deadline = started + Duration::from_secs(args.timeout);
    let mut s3_done: Option<Duration> = None;
    let mut mqtt_done: Option<Duration> = None;
    let mut last_print = Instant::now();
    let mut published_at_s3_done = 0u64;
    let mut last: Option<SyncStatus> = None;
    let mut samples: Vec<(Duration, u64, u64)> = Vec::new();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if let Ok(Some(status)) = agent_a.try_wait() {
            bail!("box A's agent exited ({status}):\n{}", a.agent_log());
        }
        let now = started.elapsed();
        if let Some(status) = a.status().filter(|s| s.pid == pid_a) {
            let uploaded = counter(&status, "records_uploaded_total");
            let published = counter(&status, "records_published_total");
            if last
                .as_ref()
                .is_none_or(|l| l.updated_at != status.updated_at)
            {
                samples.push((now, uploaded, published));
            }
            if s3_done.is_none() && uploaded >= n && status.waiting_records == 0 {
                s3_done = Some(now);
                published_at_s3_done = published;
            }
            if mqtt_done.is_none() && published >= n {
                mqtt_done = Some(now);
            }
            if last_print.elapsed() >= Duration::from_secs(5) {
                last_print = Instant::now();
                let (rss, cpu) = proc_usage(pid_a, clk_tck);
                eprintln!(
                    "bench-sync: {:>6.1} s  S3 {uploaded:>8}  MQTT {published:>8}  waiting {:>8}  RSS {:>4} MiB  CPU {:>5.1} s  errors {}",
                    now.as_secs_f64(),
                    status.waiting_records,
                    rss.current / 1024,
                    cpu,
                    counter(&status, "errors_total"),
                );
            }
            last = Some(status);
        }
        let watched_enough = match (s3_done, args.aws_defaults) {
            (Some(_), false) => mqtt_done.is_some(),
            (Some(at), true) => {
                mqtt_done.is_some()
                    || (args.mqtt_seconds > 0 && now >= at + Duration::from_secs(args.mqtt_seconds))
            }
            (None, _) => false,
        };
        if watched_enough {
            break;
        }
        if Instant::now() >= deadline {
            bail!(
                "not drained after {} s; last status: {:?}\n{}",
                args.timeout,
                last,
                a.agent_log()
            );
        }
    }
    let wall = started.elapsed();
    let (rss, cpu) = proc_usage(pid_a, clk_tck);
    let (_, cpu_broker) = broker
        .pid()
        .map_or((Rss::default(), 0.0), |p| proc_usage(p, clk_tck));
    let (_, cpu_s3) = s3
        .pid()
        .map_or((Rss::default(), 0.0), |p| proc_usage(p, clk_tck));
    draining.store(false, Ordering::Relaxed);
    let _ = optout_thread.join();
    let last = last.context("no status from box A")?;
    stop(&mut agent_a)?;
    stop(&mut agent_b)?;

    // Every record in S3, once by key.
    eprintln!("bench-sync: reading the records back from S3");
    let mut keys: HashSet<String> = HashSet::with_capacity(args.records);
    let mut objects = 0;
    let mut bytes = 0u64;
    let mut in_s3 = 0usize;
    for (key, path) in s3.objects(BUCKET) {
        if !key.starts_with(&format!("{ORG}/records/v1/")) {
            continue;
        }
        let body = std::fs::read(&path)?;
        objects += 1;
        bytes += body.len() as u64;
        for (_, record) in shofar_sync::wire::parse_jsonl_gz(&body, 1 << 31)? {
            in_s3 += 1;
            keys.insert(record.key().to_owned());
        }
    }

    let s3_time = s3_done.context("S3 never caught up")?;
    let optouts = optouts.lock().unwrap().clone();
    let mut report = String::new();
    let limits_said = if args.aws_defaults {
        "[sync] defaults (publish_rate 50/s, publish_kib_per_second 256, max_inflight 50)"
    } else {
        "publish_rate = 0, publish_kib_per_second = 0 (unlimited), max_inflight = 100"
    };
    writeln!(
        report,
        "\nbench-sync: {} records, {limits_said}",
        args.records
    )?;
    writeln!(report, "| measure | value |\n| --- | --- |")?;
    let rate = |t: Duration| n as f64 / t.as_secs_f64();
    writeln!(
        report,
        "| S3: all uploaded, none waiting | {:.1} s ({:.0} records/s) |",
        s3_time.as_secs_f64(),
        rate(s3_time)
    )?;
    match mqtt_done {
        Some(t) => writeln!(
            report,
            "| MQTT: all acknowledged by the broker | {:.1} s ({:.0} records/s) |",
            t.as_secs_f64(),
            rate(t)
        )?,
        None => {
            let published = counter(&last, "records_published_total");
            let watched = wall.saturating_sub(s3_time).as_secs_f64();
            let lane_rate =
                (published - published_at_s3_done.min(published)) as f64 / watched.max(1e-9);
            let overall = published as f64 / wall.as_secs_f64();
            writeln!(
                report,
                "| MQTT: acknowledged after {:.1} s | {published} ({overall:.0} records/s; {lane_rate:.0}/s over the last {watched:.0} s) |",
                wall.as_secs_f64()
            )?;
            writeln!(
                report,
                "| MQTT: whole backlog at that rate (projected) | {:.0} s ({:.1} min) |",
                n as f64 / overall,
                n as f64 / overall / 60.0
            )?;
        }
    }
    if let Some(t) = mqtt_done.map(|m| m.max(s3_time)) {
        writeln!(
            report,
            "| both caught up | {:.1} s ({:.0} records/s) |",
            t.as_secs_f64(),
            rate(t)
        )?;
    }
    writeln!(
        report,
        "| agent CPU (user + system) | {cpu:.1} s over {:.1} s ({:.0} % of one core) |",
        wall.as_secs_f64(),
        100.0 * cpu / wall.as_secs_f64()
    )?;
    writeln!(
        report,
        "| agent peak RSS (VmHWM) | {:.1} MiB |",
        rss.peak as f64 / 1024.0
    )?;
    writeln!(
        report,
        "| mosquitto / s3s-fs CPU | {cpu_broker:.1} s / {cpu_s3:.1} s |"
    )?;
    writeln!(
        report,
        "| S3 objects | {objects} ({:.1} MiB gzipped), {in_s3} records, {} distinct keys |",
        bytes as f64 / 1048576.0,
        keys.len()
    )?;
    let spread = |pick: fn(&OptOut) -> Option<f64>| {
        let mut times: Vec<f64> = optouts.iter().filter_map(pick).collect();
        times.sort_by(f64::total_cmp);
        match (times.first(), times.last()) {
            (Some(min), Some(max)) => format!(
                "median {:.2} s, min {min:.2} s, max {max:.2} s",
                times[times.len() / 2]
            ),
            _ => "none".to_owned(),
        }
    };
    let reached = optouts.iter().filter(|o| o.reached.is_some()).count();
    writeln!(
        report,
        "| opt-out on A listed on B ({reached} of {}), from the command's start | {} |",
        optouts.len(),
        spread(|o| o.reached)
    )?;
    writeln!(
        report,
        "| … from the command's exit (its write committed) | {} |",
        spread(|o| o.after_exit)
    )?;
    writeln!(
        report,
        "| agent errors | {} |",
        counter(&last, "errors_total")
    )?;
    print!("{report}");
    let json = serde_json::json!({
        "records": args.records,
        "aws_defaults": args.aws_defaults,
        "s3_seconds": s3_time.as_secs_f64(),
        "mqtt_seconds": mqtt_done.map(|d| d.as_secs_f64()),
        "records_published": counter(&last, "records_published_total"),
        "wall_seconds": wall.as_secs_f64(),
        "agent_cpu_seconds": cpu,
        "agent_peak_rss_kib": rss.peak,
        "broker_cpu_seconds": cpu_broker,
        "s3s_cpu_seconds": cpu_s3,
        "s3_objects": objects,
        "s3_bytes": bytes,
        "s3_records": in_s3,
        "s3_distinct_keys": keys.len(),
        "optout_seconds": optouts.iter().map(|o| o.reached).collect::<Vec<_>>(),
        "optout_seconds_after_exit": optouts.iter().map(|o| o.after_exit).collect::<Vec<_>>(),
        "errors": counter(&last, "errors_total"),
        "load_after": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        "samples": samples.iter().map(|(t, u, p)| [t.as_secs_f64(), *u as f64, *p as f64]).collect::<Vec<_>>(),
    });
    println!("{}", serde_json::to_string(&json)?);
    ensure!(
        keys.len() == args.records,
        "S3 holds {} distinct records, not {}",
        keys.len(),
        args.records
    );
    if args.keep {
        let kept = run.keep();
        eprintln!("bench-sync: kept {}", kept.display());
    }
    Ok(())
}

/// One opt-out: seconds until B listed it, from the start of `shofar blacklist
/// add` on A (an upper bound: the command's own start-up and write included) and
/// from its exit (a lower bound: the write committed a moment before).
#[derive(Clone, Debug)]
struct OptOut {
    reached: Option<f64>,
    after_exit: Option<f64>,
}

fn optout_loop(
    a: &BenchBox,
    b: &BenchBox,
    every: Duration,
    draining: &AtomicBool,
    optouts: &Mutex<Vec<OptOut>>,
) {
    let store = match Store::open(&b.data().join("shofar.db")) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("bench-sync: cannot open box B's database: {error}");
            return;
        }
    };
    let mut k = 0u64;
    loop {
        let wake = Instant::now() + every;
        while Instant::now() < wake {
            if !draining.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        k += 1;
        let digits = 972_545_550_000 + k;
        let number = format!("054-555{:04}", k);
        let e164 = E164::from_u64(digits).expect("an Israeli mobile number");
        let started = Instant::now();
        let child = a
            .shofar_command()
            .args([
                "blacklist",
                "add",
                &number,
                "--source",
                "user_optout",
                "--reason",
                "bench",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(error) => {
                eprintln!("bench-sync: cannot run shofar: {error}");
                return;
            }
        };
        // B is watched while the command runs: the write commits before it exits.
        let mut exited: Option<Instant> = None;
        let mut listed: Option<Instant> = None;
        while started.elapsed() < Duration::from_secs(60) && (exited.is_none() || listed.is_none())
        {
            if exited.is_none() {
                match child.try_wait() {
                    Ok(Some(status)) if status.success() => exited = Some(Instant::now()),
                    Ok(Some(status)) => {
                        let mut text = String::new();
                        if let Some(mut stderr) = child.stderr.take() {
                            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
                        }
                        eprintln!("bench-sync: shofar blacklist add failed ({status}): {text}");
                        return;
                    }
                    _ => {}
                }
            }
            if listed.is_none() && matches!(store.blacklist_entry(e164), Ok(Some(_))) {
                listed = Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let reached = listed.map(|at| (at - started).as_secs_f64());
        let after_exit = listed
            .zip(exited)
            .map(|(at, exit)| at.saturating_duration_since(exit).as_secs_f64());
        eprintln!(
            "bench-sync: opt-out {number} on A reached B {}",
            match (reached, after_exit) {
                (Some(t), Some(e)) =>
                    format!("{t:.2} s after the command started, {e:.2} s after it exited"),
                _ => "(not within 60 s)".to_owned(),
            }
        );
        optouts.lock().unwrap().push(OptOut {
            reached,
            after_exit,
        });
    }
}

/// A box: its folder, `shofar.toml` and data directory.
#[derive(Clone)]
struct BenchBox {
    dir: PathBuf,
    shofar: PathBuf,
    agent: PathBuf,
}

impl BenchBox {
    #[allow(clippy::too_many_arguments)]
    fn new(
        root: &Path,
        name: &str,
        pki: &Pki,
        broker: &Broker,
        s3: &S3,
        limits: &str,
        shofar: &Path,
        agent: &Path,
    ) -> anyhow::Result<BenchBox> {
        let dir = root.join(name);
        std::fs::create_dir_all(dir.join("data"))?;
        let config = format!(
            r#"[sync]
org = "{ORG}"
box_id = "{name}"
mqtt_url = "{url}"
ca = "{ca}"
cert = "{cert}"
key = "{key}"
s3_endpoint = "{endpoint}"
region = "{region}"
bucket = "{BUCKET}"
access_key_id = "{ak}"
secret_access_key = "{sk}"
{limits}"#,
            url = broker.url(),
            ca = pki.ca().display(),
            cert = pki.cert(name).display(),
            key = pki.key(name).display(),
            endpoint = s3.endpoint(),
            region = support::REGION,
            ak = support::ACCESS_KEY,
            sk = support::SECRET_KEY,
        );
        std::fs::write(dir.join("shofar.toml"), config)?;
        Ok(BenchBox {
            dir,
            shofar: shofar.to_owned(),
            agent: agent.to_owned(),
        })
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env_remove("SHOFAR_DATA_DIR")
            .env("SHOFAR_CONFIG", self.dir.join("shofar.toml"))
            .env("RUST_LOG", "warn")
            .arg("--data-dir")
            .arg(self.data());
        command
    }

    fn shofar_command(&self) -> Command {
        self.command(&self.shofar)
    }

    fn start_agent(&self) -> anyhow::Result<Child> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("agent.log"))?;
        Ok(self
            .command(&self.agent)
            .env(
                "SHOFAR_LOG",
                std::env::var("SHOFAR_LOG").unwrap_or_else(|_| "info".to_owned()),
            )
            .arg("run")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?)
    }

    fn agent_log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("agent.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn status(&self) -> Option<SyncStatus> {
        read_status(&self.data())
    }
}

fn counter(status: &SyncStatus, name: &str) -> u64 {
    status.counters.get(name).copied().unwrap_or(0)
}

fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while !check() {
        ensure!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// SIGTERM, then wait for a clean exit.
fn stop(child: &mut Child) -> anyhow::Result<()> {
    Command::new("kill").arg(child.id().to_string()).status()?;
    let status = child.wait()?;
    ensure!(status.success(), "an agent did not stop cleanly: {status}");
    Ok(())
}

#[derive(Default)]
struct Rss {
    current: u64,
    peak: u64,
}

/// Resident memory (KiB, now and peak) and CPU seconds (user + system) of `pid`.
fn proc_usage(pid: u32, clk_tck: f64) -> (Rss, f64) {
    let mut rss = Rss::default();
    if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
        for line in status.lines() {
            let kib = |l: &str| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            if line.starts_with("VmRSS:") {
                rss.current = kib(line);
            } else if line.starts_with("VmHWM:") {
                rss.peak = kib(line);
            }
        }
    }
    let cpu = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // Fields after the command's closing parenthesis: state is field 3,
            // utime and stime are fields 14 and 15.
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / clk_tck)
        })
        .unwrap_or(0.0);
    (rss, cpu)
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Writes `records` ended calls into a new database at `path` (through a
/// temporary file, so an interrupted fill leaves nothing that looks finished).
fn fill(path: &Path, records: usize) -> anyhow::Result<()> {
    let tmp = path.with_extension("filling");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", tmp.display()));
    }
    let mut store = Store::open(&tmp)?;
    let campaign = store.create_campaign("bench", "bench")?;
    let contacts = records.div_ceil(ATTEMPTS as usize);
    let mut import = store.begin_contact_import("bench", false, "bench.csv", "bench")?;
    for i in 0..contacts {
        import.insert(NewContact {
            e164: E164::from_u64(972_520_000_000 + i as u64).context("a mobile number")?,
            line_type: LineType::Mobile,
            metadata: format!(r#"{{"שם":"איש קשר {i}"}}"#),
            consent: None,
            blacklisted: false,
            source_row: i as u64 + 2,
        })?;
    }
    import.finish(
        ImportCounts::default(),
        &serde_json::json!({}),
        None,
        "bench",
    )?;
    let ids: Vec<(i64, E164)> = store
        .contacts(campaign, 0, contacts as u64)?
        .iter()
        .map(|c| {
            let digits: u64 = c.e164.trim_start_matches('+').parse().unwrap_or_default();
            (
                c.id,
                E164::from_u64(digits).unwrap_or_else(|| panic!("{}", c.e164)),
            )
        })
        .collect();
    ensure!(
        ids.len() == contacts,
        "{} contacts, not {contacts}",
        ids.len()
    );
    // Calls 300 ms apart, from a fixed instant; outcomes in a fixed mix.
    let base = Utc
        .with_ymd_and_hms(2026, 11, 1, 8, 0, 0)
        .single()
        .context("a date")?;
    let mut written = 0;
    while written < records {
        let end = (written + FILL_CHUNK).min(records);
        store.transaction(|store| {
            for i in written..end {
                let (contact, e164) = ids[i % contacts];
                let attempt = (i / contacts) as u32 + 1;
                let started_at = base + chrono::Duration::milliseconds(300 * i as i64);
                let call_id = format!("shofar-bench-{i:08}");
                store.call_started(&NewCall {
                    call_id: call_id.clone(),
                    campaign: Some(campaign),
                    contact_id: Some(contact),
                    e164,
                    attempt,
                    kind: CallKind::Campaign,
                    dnc_version: Some(1),
                    started_at,
                })?;
                let ring = chrono::Duration::milliseconds(2_000 + (i % 7) as i64 * 1_000);
                let (outcome, code, cause, dial, by) = match i % 10 {
                    0..=3 => (
                        CallOutcome::Answered,
                        16,
                        "Normal Clearing",
                        "ANSWER",
                        EndedBy::Callee,
                    ),
                    4 => (
                        CallOutcome::Voicemail,
                        16,
                        "Normal Clearing",
                        "ANSWER",
                        EndedBy::Flow,
                    ),
                    5 | 6 => (
                        CallOutcome::NoAnswer,
                        19,
                        "No user responding",
                        "NOANSWER",
                        EndedBy::Network,
                    ),
                    7 | 8 => (CallOutcome::Busy, 17, "User busy", "BUSY", EndedBy::Network),
                    _ => (
                        CallOutcome::Failed,
                        34,
                        "Circuit/channel congestion",
                        "CONGESTION",
                        EndedBy::Network,
                    ),
                };
                let answered = matches!(outcome, CallOutcome::Answered | CallOutcome::Voicemail);
                let mut ended_at = started_at + ring;
                if answered {
                    store.call_answered(&call_id, started_at + ring)?;
                    let opted_out = i % 50 == 0;
                    let mut actions = Vec::new();
                    if opted_out {
                        actions.push(CallAction::Blacklist);
                    } else if i % 20 == 1 {
                        actions.push(CallAction::Donate {
                            amount: Some("100".into()),
                        });
                    }
                    store.call_progress(
                        &call_id,
                        &CallProgress {
                            dtmf: if opted_out {
                                "9".into()
                            } else if i % 3 == 0 {
                                "1".into()
                            } else {
                                String::new()
                            },
                            actions,
                            converted: i % 20 == 1,
                            opted_out,
                            amd_result: Some(
                                if outcome == CallOutcome::Voicemail {
                                    "MACHINE"
                                } else {
                                    "HUMAN"
                                }
                                .into(),
                            ),
                        },
                    )?;
                    ended_at += chrono::Duration::milliseconds(8_000 + (i % 17) as i64 * 1_000);
                }
                store.call_finished(
                    &call_id,
                    &CallEnd {
                        outcome: Some(outcome),
                        hangup_code: Some(code),
                        hangup_cause: Some(cause.into()),
                        dial_status: Some(dial.into()),
                        ended_at: Some(ended_at),
                        ended_by: Some(by),
                        detail: None,
                    },
                )?;
            }
            Ok(())
        })?;
        written = end;
        if written % 200_000 == 0 {
            eprintln!("bench-sync: {written} records");
        }
    }
    let head = store.sync_head()?;
    ensure!(
        head.records == records as i64,
        "the feed has {} entries, not {records}",
        head.records
    );
    store
        .connection()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    drop(store);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", tmp.display()));
    }
    // The import's (empty) folder of lock files.
    let _ = std::fs::remove_dir(format!("{}-imports", tmp.display()));
    std::fs::rename(&tmp, path)?;
    Ok(())
}
