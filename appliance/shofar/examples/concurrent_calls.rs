//! How many concurrent real calls the testbed sustains: N calls placed at once
//! through the real session (ARI, IVR playing prompts, call records), answered by
//! sipp and held for a while; prints one JSON line with the supervisor's and
//! Asterisk's CPU and memory.
//!
//! `make bench-calls` runs it after `make testbed-up`:
//! `concurrent_calls CONFIG CALLS HOLD_SECONDS`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use shofar::config::Config;
use shofar_dnc::SharedDnc;
use shofar_ivr::Flow;
use shofar_store::Store;
use shofar_store::calls::CallKind;
use shofar_telephony::prompts::PromptLibrary;
use shofar_telephony::{Amd, AriLink, CallControl, CallPlan, CallPlanner, CallTemplate, Telephony};
use tokio_util::sync::CancellationToken;

/// A menu that keeps the line busy with audio until the phone hangs up.
const FLOW: &str = r#"{"version": 1, "name": "Load", "start": "main", "nodes": {
  "main": {"type": "menu", "prompts": ["campaign", "menu"], "keys": {"9": "bye"},
           "timeout": {"seconds": 1, "prompt": "no-input", "retries": 10, "then": "bye"},
           "invalid": {"prompt": "invalid", "retries": 1, "then": "bye"}},
  "bye": {"type": "action", "action": {"kind": "end_call"}}}}"#;

/// (user + system CPU seconds, resident KiB) of a process, from /proc.
fn usage(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (ticks / 100.0, rss)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let config_path = args
        .get(1)
        .map(String::as_str)
        .unwrap_or("target/testbed/shofar.toml");
    let calls: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(100);
    let hold: u64 = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(20);
    let config = Config::load(std::path::Path::new(config_path))?;
    let testbed = std::path::Path::new(config_path).parent().unwrap();
    let asterisk_pid: u32 = std::fs::read_to_string(testbed.join("asterisk.pid"))?
        .trim()
        .parse()?;
    let data = tempfile::tempdir()?;
    let (writer, writer_thread) =
        shofar_store::writer::spawn(Store::open(&data.path().join("bench.db"))?);
    let planner = CallPlanner::new(
        &config.asterisk,
        config.trunk.clone(),
        config.normalizer()?,
        false,
    );
    let flow = Flow::from_json(FLOW).map_err(|e| anyhow::anyhow!("{e}"))?;
    let library = PromptLibrary {
        sounds_dir: config.asterisk.sounds_dir.clone(),
        asterisk_dir: config.asterisk.asterisk_sounds_dir().to_owned(),
    };
    let (prompts, missing) = library.resolve(flow.prompts(), &["prompts"]);
    anyhow::ensure!(
        missing.is_empty(),
        "missing prompts {missing:?}: run make testbed-up"
    );
    let template = Arc::new(CallTemplate {
        flow: Arc::new(flow),
        prompts: Arc::new(prompts),
        amd: Amd::Off,
        caller_id: Some("036123456".to_owned()),
        transfers: false,
        ring_timeout: Duration::from_secs(30),
        max_call: Duration::from_secs(600),
    });

    let phone = std::process::Command::new("sipp")
        .arg("-sf")
        .arg(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/sipp/answer-hold.xml"),
        )
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            "5070",
            "-mi",
            "127.0.0.1",
            "-mp",
            "6000",
            "-nostdin",
        ])
        .args(["-d", &(hold * 1000).to_string()])
        .args([
            "-m",
            &calls.to_string(),
            "-l",
            &(calls * 2).to_string(),
            "-timeout",
            "300s",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    std::thread::sleep(Duration::from_millis(300));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let shutdown = CancellationToken::new();
    let before_self = usage(std::process::id());
    let before_asterisk = usage(asterisk_pid);
    let started = Instant::now();
    let peak = Arc::new(Mutex::new((0u64, 0u64, 0usize)));
    let result = runtime.block_on(async {
        let ari = config.asterisk.ari()?;
        let link = AriLink::start(ari, "shofar-bench-", shutdown.clone())?;
        let telephony = Telephony {
            backend: Arc::new(link),
            writer,
            dnc: SharedDnc::default(),
            planner: Arc::new(planner),
            link_wait: Duration::from_secs(10),
        };
        let sampler = {
            let peak = peak.clone();
            let telephony = telephony.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    let (_, self_rss) = usage(std::process::id());
                    let (_, asterisk_rss) = usage(asterisk_pid);
                    let mut peak = peak.lock();
                    peak.0 = peak.0.max(self_rss);
                    peak.1 = peak.1.max(asterisk_rss);
                    peak.2 = peak.2.max(telephony.backend.routed());
                }
            })
        };
        let mut tasks = Vec::new();
        for index in 0..calls {
            let telephony = telephony.clone();
            let request = CallPlan {
                call_id: format!("shofar-bench-{index:06}"),
                number: format!("+97252555{:04}", 1000 + index).parse().unwrap(),
                campaign: None,
                contact_id: None,
                attempt: 1,
                kind: CallKind::Test,
                template: template.clone(),
            };
            tasks.push(tokio::spawn(async move {
                telephony.call(request, CallControl::default()).await
            }));
        }
        let mut outcomes: HashMap<String, usize> = HashMap::new();
        for task in tasks {
            let key = match task.await? {
                Ok(record) => format!(
                    "{}/{}{}",
                    record.outcome.as_ref().map_or("", |o| o.as_str()),
                    record.ended_by.as_ref().map_or("", |by| by.as_str()),
                    record.detail.map(|d| format!(": {d}")).unwrap_or_default()
                ),
                Err(error) => format!("error: {error}"),
            };
            *outcomes.entry(key).or_default() += 1;
        }
        sampler.abort();
        anyhow::Ok(outcomes)
    });
    shutdown.cancel();
    writer_thread.stop();
    let elapsed = started.elapsed().as_secs_f64();
    let after_self = usage(std::process::id());
    let after_asterisk = usage(asterisk_pid);
    let mut phone = phone;
    let _ = phone.kill();
    let _ = phone.wait();
    let outcomes = result?;
    let (self_rss, asterisk_rss, concurrent) = *peak.lock();
    let line = serde_json::json!({
        "bench": "concurrent_calls",
        "calls": calls,
        "hold_seconds": hold,
        "peak_concurrent": concurrent,
        "outcomes": outcomes,
        "wall_seconds": (elapsed * 10.0).round() / 10.0,
        "supervisor_cpu_percent_of_one_core": ((after_self.0 - before_self.0) / elapsed * 1000.0).round() / 10.0,
        "supervisor_peak_rss_mib": self_rss / 1024,
        "asterisk_cpu_percent_of_one_core": ((after_asterisk.0 - before_asterisk.0) / elapsed * 1000.0).round() / 10.0,
        "asterisk_peak_rss_mib": asterisk_rss / 1024,
    });
    println!("{line}");
    Ok(())
}
