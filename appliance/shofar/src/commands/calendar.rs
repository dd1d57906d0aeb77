//! `shofar calendar`: when calls are allowed, and why not the rest of the time.

use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::json;
use shofar_campaign::settings::parse_time;
use shofar_campaign::{CallingPlan, CallingPolicy, Settings};

use crate::App;
use crate::cli::CalendarArgs;
use crate::output::print_json;

/// The longest span one command prints: a year and a bit.
const MAX_DAYS: i64 = 400;

pub fn run(app: &mut App, args: CalendarArgs) -> anyhow::Result<ExitCode> {
    let calendar = app.config.calendar.box_calendar()?;
    let (policy, title) = match &args.campaign {
        Some(key) => {
            let campaign = app.store.campaign(app.store.resolve_campaign(key)?)?;
            let title = format!("campaign {} {:?}", campaign.id.0, campaign.name);
            (campaign.settings.calling_policy(&calendar), title)
        }
        None => (
            Settings::default().calling_policy(&calendar),
            "the box's defaults".to_owned(),
        ),
    };
    let zone = policy.zone;
    let now = Utc::now();
    let from = match &args.from {
        Some(text) => parse_day(text, zone, false, "--from")?,
        None => parse_day(
            &now.with_timezone(&zone).date_naive().to_string(),
            zone,
            false,
            "--from",
        )?,
    };
    let to = match &args.to {
        Some(text) => parse_day(text, zone, true, "--to")?,
        None => from + Duration::days(7),
    };
    if to <= from {
        anyhow::bail!("--to must not be before --from");
    }
    if to - from > Duration::days(MAX_DAYS) {
        anyhow::bail!("at most {MAX_DAYS} days at a time: narrow --from/--to");
    }
    let plan = policy.plan(None, from, to);
    if args.json {
        print_json(&plan_json(&plan, zone))?;
    } else {
        print_plan(
            &plan,
            &policy,
            &title,
            args.explain,
            &calendar.location.name,
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_day(text: &str, zone: Tz, is_end: bool, flag: &str) -> anyhow::Result<DateTime<Utc>> {
    parse_time(text, zone, is_end)
        .map_err(|message| anyhow::anyhow!(message))
        .with_context(|| format!("{flag}: give a date like 2026-11-22"))
}

/// The plan as `--json` prints it: times in ISO 8601 with the zone's offset.
pub fn plan_json(plan: &CallingPlan, zone: Tz) -> serde_json::Value {
    let time = |at: DateTime<Utc>| {
        at.with_timezone(&zone)
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    };
    json!({
        "time_zone": zone.name(),
        "allowed": plan.allowed.iter().map(|i| json!({"start": time(i.start), "end": time(i.end)})).collect::<Vec<_>>(),
        "blocked": plan.blocked.iter().map(|b| json!({
            "start": time(b.interval.start),
            "end": time(b.interval.end),
            "reason": b.reason.as_str(),
        })).collect::<Vec<_>>(),
    })
}

/// `Sun 22.11.2026 09:00`, the Israeli way.
pub fn local(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%a %d.%m.%Y %H:%M")
        .to_string()
}

fn print_plan(plan: &CallingPlan, policy: &CallingPolicy, title: &str, explain: bool, place: &str) {
    let zone = policy.zone;
    crate::outln!(
        "Calling times for {title}, in {} (quiet periods for {place}):",
        zone.name()
    );
    let mut lines: Vec<(DateTime<Utc>, String)> = plan
        .allowed
        .iter()
        .map(|i| {
            (
                i.start,
                format!(
                    "  allowed  {}  →  {}",
                    local(i.start, zone),
                    local(i.end, zone)
                ),
            )
        })
        .collect();
    if explain {
        lines.extend(plan.blocked.iter().map(|b| {
            (
                b.interval.start,
                format!(
                    "  blocked  {}  →  {}  {}",
                    local(b.interval.start, zone),
                    local(b.interval.end, zone),
                    b.reason
                ),
            )
        }));
    }
    lines.sort();
    if plan.allowed.is_empty() {
        crate::outln!("  No calls are allowed in this period.");
    }
    for (_, line) in lines {
        crate::outln!("{line}");
    }
    if !explain && !plan.blocked.is_empty() {
        crate::outln!("(--explain lists the blocked periods and why)");
    }
}
