//! `shofar call NUMBER`: one real call through Asterisk, printed as its record.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Local, Utc};
use shofar_campaign::AnsweringMachine;
use shofar_dnc::SharedDnc;
use shofar_store::Store;
use shofar_store::calls::{CallKind, CallRecord};
use shofar_telephony::{
    AriLink, CallControl, CallPlan, CallPlanner, Overrides, Telephony, TelephonyError,
};
use tokio_util::sync::CancellationToken;

use crate::App;
use crate::cli::{AmdArg, CallArgs};
use crate::output::print_json;

pub fn run(app: &mut App, args: CallArgs) -> anyhow::Result<ExitCode> {
    let normalizer = app.config.normalizer()?;
    let number = normalizer
        .normalize_str(&args.number)
        .map_err(|rejection| {
            anyhow::anyhow!(
                "{:?} is not a number that can be called: {rejection}",
                args.number
            )
        })?
        .e164;
    let asterisk = &app.config.asterisk;
    let ari = asterisk.ari().context("cannot place calls")?;
    let campaign = match &args.campaign {
        Some(key) => Some(app.store.campaign(app.store.resolve_campaign(key)?)?),
        None => None,
    };
    let planner = CallPlanner::new(asterisk, app.config.trunk.clone(), normalizer, false);
    let template = planner.template(
        &app.store,
        campaign.as_ref(),
        &Overrides {
            flow: args.flow.clone(),
            audio: args.audio.clone(),
            amd: args.amd.map(|amd| match amd {
                AmdArg::Off => AnsweringMachine::Off,
                AmdArg::HangUp => AnsweringMachine::HangUp,
                AmdArg::LeaveMessage => AnsweringMachine::LeaveMessage,
            }),
            ring_timeout: args.ring_timeout,
        },
    )?;

    let (index, _) = app
        .store
        .load_dnc()
        .context("cannot load the do-not-call list")?;
    let dnc = SharedDnc::new(index);
    let db_path = app
        .store
        .path()
        .map(ToOwned::to_owned)
        .context("the store has no file")?;
    let (writer, writer_thread) = shofar_store::writer::spawn(Store::open(&db_path)?);
    let instance = format!("cli{}", std::process::id());
    let call_id = format!(
        "{}-{instance}-{}",
        asterisk.app,
        Utc::now().format("%Y%m%d%H%M%S%3f")
    );
    let plan = CallPlan {
        call_id: call_id.clone(),
        number,
        campaign: campaign.as_ref().map(|c| c.id),
        contact_id: None,
        attempt: 1,
        kind: CallKind::Test,
        template: Arc::new(template),
    };
    let app_name = format!("{}-{instance}", asterisk.app);
    let ari = shofar_ari::AriConfig {
        app: app_name,
        ..ari
    };
    // A listed number is refused by the check at the dial itself (below); saying
    // "calling" first would announce a call that is never placed.
    if !args.json && !dnc.contains(plan.number) {
        eprintln!("calling {} ({number}) as call {call_id} …", args.number);
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let shutdown = CancellationToken::new();
    let result = runtime.block_on(async {
        // Ask Asterisk first: a dead Asterisk or wrong credentials are reported at
        // once, not after the event socket gave up.
        shofar_ari::Client::new(ari.clone())?
            .asterisk_info()
            .await?;
        let link = AriLink::start(
            ari,
            &format!("{}-{instance}-", asterisk.app),
            shutdown.clone(),
        )?;
        let telephony = Telephony {
            backend: Arc::new(link),
            writer,
            dnc,
            planner: Arc::new(planner),
            link_wait: Duration::from_secs(10),
        };
        telephony.call(plan, CallControl::default()).await
    });
    shutdown.cancel();
    writer_thread.stop();
    match result {
        Ok(record) => {
            if args.json {
                print_json(&record)?;
            } else {
                print_record(&record);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(TelephonyError::Blacklisted { number, call_id }) => {
            let record = app.store.call_record(&call_id)?;
            if args.json {
                print_json(&record)?;
            }
            eprintln!(
                "shofar: {number} is on the do-not-call list: not dialed (recorded as call {call_id}). \
                 `shofar blacklist check {number}` shows why."
            );
            Ok(ExitCode::from(1))
        }
        Err(error) => Err(error).context("the call failed"),
    }
}

fn clock(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local)
        .format("%d.%m.%Y %H:%M:%S")
        .to_string()
}

fn seconds(ms: Option<i64>) -> String {
    ms.map_or_else(
        || "-".to_owned(),
        |ms| format!("{:.1} s", ms as f64 / 1000.0),
    )
}

pub fn print_record(record: &CallRecord) {
    crate::outln!("call {}", record.call_id);
    crate::outln!("  number     {}", record.number);
    crate::outln!(
        "  outcome    {}{}",
        record
            .outcome
            .as_ref()
            .map_or("(open)", |outcome| outcome.as_str()),
        record
            .ended_by
            .as_ref()
            .map(|by| format!(", ended by {by}"))
            .unwrap_or_default()
    );
    if let Some(code) = record.hangup_code {
        crate::outln!(
            "  cause      {code} {}{}",
            record.hangup_cause.as_deref().unwrap_or(""),
            record
                .dial_status
                .as_deref()
                .map(|s| format!(" (dial status {s})"))
                .unwrap_or_default()
        );
    }
    crate::outln!("  dialed     {}", clock(record.started_at));
    if let Some(answered) = record.answered_at {
        crate::outln!(
            "  answered   {} (rang {})",
            clock(answered),
            seconds(record.ring_ms)
        );
    }
    if let Some(ended) = record.ended_at {
        crate::outln!(
            "  ended      {} (call {}, talk {})",
            clock(ended),
            seconds(record.duration_ms),
            seconds(record.talk_ms)
        );
    }
    if let Some(amd) = &record.amd_result {
        crate::outln!("  machine?   {amd}");
    }
    crate::outln!(
        "  keys       {}",
        if record.dtmf.is_empty() {
            "-"
        } else {
            &record.dtmf
        }
    );
    crate::outln!(
        "  actions    {}",
        if record.actions.is_empty() {
            "-".to_owned()
        } else {
            record
                .actions
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    if record.opted_out {
        crate::outln!("  opted out: the number is now on the do-not-call list");
    }
    if let Some(detail) = &record.detail {
        crate::outln!("  note       {detail}");
    }
}
