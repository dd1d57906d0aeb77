//! `shofar campaign`.

use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use serde_json::json;
use shofar_campaign::settings::{PacingFile, TimeValue, parse_time};
use shofar_campaign::windows::DAY_NAMES;
use shofar_campaign::{CampaignFile, Event, Gate, Retry, Settings};
use shofar_scheduler::Scheduler;
use shofar_store::campaigns::{Campaign, NewCampaign, StartBlocker};

use crate::App;
use crate::cli::{CampaignCommand, CreateArgs, TransitionArgs};
use crate::commands::calendar::local;
use crate::output::{print_json, thousands};

pub fn run(app: &mut App, command: CampaignCommand) -> anyhow::Result<ExitCode> {
    match command {
        CampaignCommand::Create(args) => create(app, *args),
        CampaignCommand::List { json } => list(app, json),
        CampaignCommand::Show {
            campaign,
            next,
            at,
            json,
        } => show(app, &campaign, next, at.as_deref(), json),
        CampaignCommand::Start(args) => move_campaign(app, Event::Start, args),
        CampaignCommand::Pause(args) => move_campaign(app, Event::Pause, args),
        CampaignCommand::Resume(args) => move_campaign(app, Event::Resume, args),
        CampaignCommand::Cancel(args) => move_campaign(app, Event::Cancel, args),
    }
}

fn create(app: &mut App, args: CreateArgs) -> anyhow::Result<ExitCode> {
    let mut file = match &args.file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the campaign file {}", path.display()))?;
            CampaignFile::from_toml(&text)
                .with_context(|| format!("in the campaign file {}", path.display()))?
        }
        None => CampaignFile::default(),
    };
    // Flags override the file.
    let settings = &mut file.settings;
    macro_rules! flag {
        ($value:expr => $slot:expr) => {
            if let Some(value) = $value {
                $slot = Some(value);
            }
        };
    }
    flag!(args.name => file.name);
    flag!(args.kind => file.kind);
    flag!(args.purpose => file.purpose);
    flag!(args.consent_override => file.consent_override);
    flag!(args.time_zone => settings.time_zone);
    flag!(args.start.map(TimeValue::Text) => settings.start);
    flag!(args.end.map(TimeValue::Text) => settings.end);
    flag!(args.max_attempts => settings.max_attempts);
    flag!(args.caller_id => settings.caller_id);
    if args.cps.is_some() || args.max_channels.is_some() {
        let pacing = settings.pacing.get_or_insert_with(PacingFile::default);
        flag!(args.cps => pacing.cps);
        flag!(args.max_channels => pacing.max_channels);
    }

    let valid = file.validate(Utc::now())?;
    let (kind, purpose) = (valid.kind, valid.purpose);
    let new = NewCampaign::from(valid);
    let id = app.store.insert_campaign(&new, &app.actor)?;
    let campaign = app.store.campaign(id)?;
    if args.json {
        print_json(&campaign_json(&campaign))?;
    } else {
        crate::outln!(
            "Created campaign {} {:?} ({}, {}) as a draft.",
            id.0,
            campaign.name,
            kind.as_str(),
            purpose.as_str()
        );
        crate::outln!(
            "Next: shofar import FILE --campaign {:?}; then shofar campaign start {}",
            campaign.name,
            id.0
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn list(app: &mut App, json: bool) -> anyhow::Result<ExitCode> {
    let campaigns = app.store.list_campaigns()?;
    if json {
        print_json(&campaigns)?;
    } else if campaigns.is_empty() {
        crate::outln!(
            "No campaigns yet. Create one with `shofar campaign create --name NAME`, or import \
             contacts with `shofar import FILE --campaign NAME --create`."
        );
    } else {
        crate::outln!(
            "{:>4}  {:<30} {:<10} {:<6} {:<13} {:>10} {:>12}",
            "id",
            "name",
            "status",
            "type",
            "purpose",
            "contacts",
            "blacklisted"
        );
        for c in campaigns {
            crate::outln!(
                "{:>4}  {:<30} {:<10} {:<6} {:<13} {:>10} {:>12}",
                c.id.0,
                c.name,
                c.status,
                c.kind,
                c.purpose,
                thousands(c.contacts),
                thousands(c.blacklisted_contacts)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn campaign_json(campaign: &Campaign) -> serde_json::Value {
    json!({
        "id": campaign.id,
        "name": campaign.name,
        "type": campaign.kind.as_str(),
        "purpose": campaign.purpose.as_str(),
        "status": campaign.status.as_str(),
        "consent_required": campaign.consent_required(),
        "consent_override": campaign.consent_override,
        "settings": campaign.settings.to_file(),
        "created_at": campaign.created_at,
        "updated_at": campaign.updated_at,
        "created_by": campaign.created_by,
    })
}

fn show(
    app: &mut App,
    key: &str,
    next: usize,
    at: Option<&str>,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let campaign = app.store.campaign(app.store.resolve_campaign(key)?)?;
    let settings = &campaign.settings;
    let zone = settings.time_zone;
    let now = match at {
        Some(text) => parse_time(text, zone, false)
            .map_err(|message| anyhow::anyhow!(message))
            .context("--at")?,
        None => Utc::now(),
    };
    let scheduler = Scheduler::new(app.config.calendar.box_calendar()?);
    let policy = scheduler.policy(&campaign);
    let gate = policy.gate(None, now);
    let counts = app.store.contact_counts(
        campaign.id,
        now,
        settings.max_attempts,
        campaign.consent_required(),
    )?;
    // Who would be dialed first: now if the campaign may call now, else when it
    // may next.
    let first_at = match gate {
        Gate::Open { .. } => Some(now),
        Gate::Closed { reopens, .. } => reopens,
        Gate::Ended => None,
    };
    let calls = app.store.call_outcome_counts(campaign.id)?;
    let next_contacts = match first_at {
        Some(when) if !campaign.status.is_final() && next > 0 => {
            scheduler.next_contacts(&app.store, &campaign, &policy, when, next)?
        }
        _ => Vec::new(),
    };
    if as_json {
        print_json(&json!({
            "campaign": campaign_json(&campaign),
            "at": now,
            "contacts": counts,
            "calls": calls,
            "gate": gate,
            "next_at": first_at,
            "next": next_contacts,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }

    crate::outln!(
        "Campaign {} {:?} — {}, {}, {}",
        campaign.id.0,
        campaign.name,
        campaign.kind.as_str(),
        campaign.purpose.as_str(),
        campaign.status
    );
    print_settings(settings);
    crate::outln!(
        "Contacts      {} in all: {} due, {} waiting for a retry, {} in a call, {} reached, \
         {} failed, {} blacklisted",
        thousands(counts.total),
        thousands(counts.due),
        thousands(counts.waiting_retry),
        thousands(counts.in_progress),
        thousands(counts.completed),
        thousands(counts.failed),
        thousands(counts.blacklisted)
    );
    if !calls.is_empty() {
        let total: u64 = calls.values().sum();
        let parts: Vec<String> = calls
            .iter()
            .map(|(outcome, n)| format!("{} {}", thousands(*n), outcome.replace('_', " ")))
            .collect();
        crate::outln!(
            "Calls         {} in all: {}",
            thousands(total),
            parts.join(", ")
        );
    }
    if campaign.purpose.requires_consent() {
        match &campaign.consent_override {
            None => crate::outln!(
                "Consent       a {} campaign calls only contacts with recorded consent: {} \
                 left out",
                campaign.purpose.as_str(),
                thousands(counts.without_consent)
            ),
            Some(reason) => crate::outln!("Consent       not required (override: {reason})"),
        }
    }
    // With --at the answer is for that instant, and says so.
    let moment = match at {
        Some(_) => format!("At {}", local(now, zone)),
        None => "Now".to_owned(),
    };
    match gate {
        Gate::Open { until } => {
            crate::outln!("{moment:<13} may call, until {}", local(until, zone))
        }
        Gate::Closed {
            reason,
            reopens: Some(reopens),
        } => crate::outln!(
            "{moment:<13} may not call ({reason}); next allowed {}",
            local(reopens, zone)
        ),
        Gate::Closed {
            reason,
            reopens: None,
        } => crate::outln!("{moment:<13} may not call ({reason}), nor in the next three weeks"),
        Gate::Ended => crate::outln!("{moment:<13} its end has passed: no more calls"),
    }
    if campaign.status.is_final() {
        return Ok(ExitCode::SUCCESS);
    }
    match first_at {
        Some(when) if !next_contacts.is_empty() => {
            let status_note = match campaign.status {
                shofar_campaign::Status::Draft => " (once started)",
                shofar_campaign::Status::Paused => " (once resumed)",
                _ => "",
            };
            crate::outln!(
                "Next to dial{status_note}, from {}:",
                if when == now && at.is_none() {
                    "now".to_owned()
                } else {
                    local(when, zone)
                }
            );
            for (index, contact) in next_contacts.iter().enumerate() {
                crate::outln!(
                    "  {:>3}. {:<16} score {:.2}  attempts {}{}",
                    index + 1,
                    contact.e164.to_string(),
                    contact.score,
                    contact.attempts,
                    if contact.in_predicted_window {
                        "  (in its best hours)"
                    } else {
                        ""
                    }
                );
            }
        }
        _ if counts.total == 0 => crate::outln!(
            "No contacts yet: shofar import FILE --campaign {:?}",
            campaign.name
        ),
        _ => crate::outln!("Nobody is due to be dialed then."),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_settings(settings: &Settings) {
    let zone = settings.time_zone;
    let when = |at: Option<DateTime<Utc>>, none: &str| {
        at.map_or_else(|| none.to_owned(), |at| local(at, zone))
    };
    crate::outln!(
        "Schedule      {} → {} ({})",
        when(settings.start, "when started"),
        when(settings.end, "no end"),
        zone.name()
    );
    let days: Vec<String> = DAY_NAMES
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let ranges: Vec<String> = settings
                .windows
                .day(index)
                .iter()
                .map(ToString::to_string)
                .collect();
            let ranges = if ranges.is_empty() {
                "closed".to_owned()
            } else {
                ranges.join(", ")
            };
            format!("{} {ranges}", &name[..3])
        })
        .collect();
    crate::outln!("Windows       {}", days.join("; "));
    let quiet = &settings.quiet;
    let mut kept = Vec::new();
    if quiet.shabbat {
        kept.push("Shabbat".to_owned());
    }
    if quiet.holidays {
        kept.push("Yom Tov".to_owned());
    }
    if let Some(from) = quiet.erev_from {
        kept.push(format!("erev afternoons from {}", from.format("%H:%M")));
    }
    if quiet.yom_hazikaron {
        kept.push("Yom HaZikaron".to_owned());
    }
    crate::outln!(
        "Quiet         {}",
        if kept.is_empty() {
            "none".to_owned()
        } else {
            kept.join(", ")
        }
    );
    let retry = |rule: Retry| match rule {
        Retry::Never => "never".to_owned(),
        Retry::After(delay) => shofar_campaign::retry::format_delay(delay),
    };
    let policy = &settings.retry;
    crate::outln!(
        "Retries       busy {}, no answer {}, congestion {}, failed {}, voicemail {}; at most {} attempts",
        retry(policy.busy),
        retry(policy.no_answer),
        retry(policy.congestion),
        retry(policy.failed),
        retry(policy.voicemail),
        settings.max_attempts
    );
    crate::outln!(
        "Pacing        {} calls/s, {} channels",
        settings.pacing.cps,
        settings.pacing.max_channels
    );
    if let Some(caller_id) = &settings.caller_id {
        crate::outln!("Caller ID     {caller_id}");
    }
}

fn move_campaign(app: &mut App, event: Event, args: TransitionArgs) -> anyhow::Result<ExitCode> {
    let id = app.store.resolve_campaign(&args.campaign)?;
    let campaign = app.store.campaign(id)?;
    let now = Utc::now();
    if event == Event::Start {
        match app.store.start_blocker(&campaign, now)? {
            None => {}
            Some(StartBlocker::KindUnavailable(kind)) => bail!(
                "campaign {} ({}) cannot start: {}",
                id.0,
                kind.as_str(),
                shofar_campaign::SMS_UNAVAILABLE
            ),
            Some(StartBlocker::EndPassed(end)) => bail!(
                "campaign {} cannot start: its end ({}) has passed",
                id.0,
                local(end, campaign.settings.time_zone)
            ),
            Some(StartBlocker::NothingToCall { consent_required }) => bail!(
                "campaign {} has no contact that could be called{}; import contacts first: \
                 shofar import FILE --campaign {:?}",
                id.0,
                if consent_required {
                    " (it needs contacts with recorded consent)"
                } else {
                    ""
                },
                campaign.name
            ),
        }
    }
    let (from, to) =
        app.store
            .campaign_event(id, event, now, &app.actor, args.reason.as_deref())?;
    if args.json {
        print_json(&json!({ "id": id, "from": from.as_str(), "to": to.as_str() }))?;
    } else {
        crate::outln!("Campaign {} {:?}: {from} → {to}", id.0, campaign.name);
        if to == shofar_campaign::Status::Scheduled
            && let Some(start) = campaign.settings.start
        {
            crate::outln!(
                "It becomes active at {}.",
                local(start, campaign.settings.time_zone)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
