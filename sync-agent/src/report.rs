//! `shofar-sync status`: the status file, for a person or as JSON.

use std::process::ExitCode;

use chrono::Utc;
use shofar_store::sync::status::{self as file, SyncStatus};

use crate::config::SyncConfig;

/// Prints the status; exit status 0 when the agent runs and is connected, 1 when
/// it runs but is offline, 2 when it does not run.
pub fn print_status(config: &SyncConfig, json: bool) -> ExitCode {
    let status = file::read_status(&config.data_dir);
    let now = Utc::now();
    if json {
        match &status {
            Some(status) => println!(
                "{}",
                serde_json::to_string_pretty(status).expect("status encodes")
            ),
            None => println!("null"),
        }
    } else {
        match &status {
            None => println!(
                "The sync agent has not run on this box: there is no {}.\n\
                 Start it with `systemctl start shofar-sync` (docs/sync.md).",
                file::status_path(&config.data_dir).display()
            ),
            Some(status) => print!("{}", human(status, now)),
        }
    }
    match status {
        None => ExitCode::from(2),
        Some(s) if s.is_stale(now) => ExitCode::from(2),
        Some(s) if !s.mqtt.connected => ExitCode::from(1),
        Some(_) => ExitCode::SUCCESS,
    }
}

fn ago(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}

fn human(status: &SyncStatus, now: chrono::DateTime<Utc>) -> String {
    let mut out = String::new();
    let since = |t: Option<chrono::DateTime<Utc>>| {
        t.map(|t| {
            format!(
                " for {} (since {})",
                ago((now - t).num_seconds()),
                t.format("%Y-%m-%d %H:%M UTC")
            )
        })
        .unwrap_or_default()
    };
    out.push_str(&format!(
        "Box {} of {} (agent {}, pid {})\n",
        status.box_id, status.org, status.agent_version, status.pid
    ));
    if status.is_stale(now) {
        out.push_str(&format!(
            "The agent is NOT running: its last status is {} old. `systemctl status shofar-sync` says why.\n",
            ago((now - status.updated_at).num_seconds())
        ));
    }
    let link = |name: &str, l: &file::Link| {
        let mut line = format!(
            "{name}: {}{}",
            if l.connected {
                "connected"
            } else {
                "NOT connected"
            },
            since(l.since)
        );
        if let Some(error) = &l.last_error
            && !l.connected
        {
            line.push_str(&format!(" — {error}"));
        }
        line.push('\n');
        line
    };
    out.push_str(&link("Broker (MQTT)", &status.mqtt));
    out.push_str(&link("S3", &status.s3));
    out.push_str(&format!(
        "Records waiting: {}{}\n",
        status.waiting_records,
        status
            .oldest_waiting_at
            .map(|t| format!(", the oldest for {}", ago((now - t).num_seconds())))
            .unwrap_or_default()
    ));
    out.push_str(&format!("Opt-outs waiting: {}\n", status.waiting_optouts));
    out.push_str(&format!(
        "Do-not-call list: version {}, {} numbers listed by the organization{}\n",
        status.dnc.version,
        status.dnc.listed,
        status
            .dnc
            .applied_at
            .map(|t| format!(", last change applied {} ago", ago((now - t).num_seconds())))
            .unwrap_or_default()
    ));
    match &status.model {
        Some(m) => out.push_str(&format!(
            "Model: {} {} (sha256 {}…), installed {}\n",
            m.name,
            m.version,
            &m.sha256[..m.sha256.len().min(12)],
            m.installed_at.format("%Y-%m-%d %H:%M UTC")
        )),
        None => out.push_str("Model: none received\n"),
    }
    out.push_str(&format!(
        "Disk: {} of {} MiB\n",
        status.disk_bytes / (1024 * 1024),
        status.disk_limit_bytes / (1024 * 1024)
    ));
    if !status.errors.is_empty() {
        out.push_str("Recent errors:\n");
        for e in &status.errors {
            out.push_str(&format!(
                "  {} {}\n",
                e.at.format("%Y-%m-%d %H:%M:%S"),
                e.what
            ));
        }
    }
    out
}
