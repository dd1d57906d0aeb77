//! `shofar call NUMBER`: one real call through Asterisk, printed as its record.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Local, Utc};
use parking_lot::Mutex;
use shofar_campaign::AnsweringMachine;
use shofar_dnc::SharedDnc;
use shofar_ivr::Flow;
use shofar_store::Store;
use shofar_store::calls::{CallKind, CallRecord};
use shofar_telephony::prompts::PromptLibrary;
use shofar_telephony::{Amd, AriLink, CallRequest, Telephony, TelephonyError, TransferRoute};
use tokio_util::sync::CancellationToken;

use crate::App;
use crate::cli::{AmdArg, CallArgs};
use crate::commands::audio;
use crate::config::Config;
use crate::output::print_json;
use shofar_dialer::CallTemplate;
use shofar_store::campaigns::Campaign;

/// The prompt a campaign's own message is played as.
pub const CAMPAIGN_PROMPT: &str = "campaign";

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
    let trunk = &app.config.trunk;
    let ari = asterisk.ari().context("cannot place calls")?;
    let campaign = match &args.campaign {
        Some(key) => Some(app.store.campaign(app.store.resolve_campaign(key)?)?),
        None => None,
    };
    let template = call_template(
        &app.config,
        campaign.as_ref(),
        &Overrides {
            flow: args.flow.clone(),
            audio: args.audio.clone(),
            amd: args.amd,
            ring_timeout: args.ring_timeout,
        },
        false,
        &app.store,
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
    let store = Arc::new(Mutex::new(Store::open(&db_path)?));
    let instance = format!("cli{}", std::process::id());
    let call_id = format!(
        "{}-{instance}-{}",
        asterisk.app,
        Utc::now().format("%Y%m%d%H%M%S%3f")
    );
    let request = CallRequest {
        call_id: call_id.clone(),
        number,
        campaign: campaign.as_ref().map(|c| c.id),
        contact_id: None,
        attempt: 1,
        kind: CallKind::Test,
        caller_id: template.caller_id,
        flow: template.flow,
        prompts: template.prompts,
        amd: template.amd,
        endpoint: trunk.endpoint(number),
        ring_timeout: template.ring_timeout,
        max_call: template.max_call,
        transfer: template.transfer,
        stop: shofar_telephony::CallStop::new(),
        dial_gate: None,
    };
    let app_name = format!("{}-{instance}", asterisk.app);
    let ari = shofar_ari::AriConfig {
        app: app_name,
        ..ari
    };
    if !args.json {
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
            backend: std::sync::Arc::new(link),
            store,
            dnc,
            link_wait: Duration::from_secs(10),
        };
        telephony.call(request).await
    });
    shutdown.cancel();
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

/// What a one-off call may set instead of its campaign's settings.
#[derive(Debug, Default)]
pub struct Overrides {
    pub flow: Option<std::path::PathBuf>,
    pub audio: Option<std::path::PathBuf>,
    pub amd: Option<AmdArg>,
    pub ring_timeout: Option<u32>,
}

/// Everything the calls of a campaign (or a one-off call) share: the flow, the
/// prompts' media, AMD, the caller ID and the transfer route. With `simulated`,
/// no audio is needed (the simulator plays nothing): every prompt gets a
/// placeholder and no file is converted.
pub fn call_template(
    config: &Config,
    campaign: Option<&Campaign>,
    overrides: &Overrides,
    simulated: bool,
    store: &Store,
) -> anyhow::Result<CallTemplate> {
    let asterisk = &config.asterisk;
    let trunk = &config.trunk;
    let normalizer = config.normalizer()?;
    let library = PromptLibrary {
        sounds_dir: asterisk.sounds_dir.clone(),
        asterisk_dir: asterisk.asterisk_sounds_dir().to_owned(),
    };
    let flow = match (
        &overrides.flow,
        campaign.and_then(|c| c.settings.ivr_flow.as_ref()),
    ) {
        (Some(path), _) => read_flow(path)?,
        (None, Some(setting)) => campaign_flow(store, setting).with_context(|| {
            format!(
                "campaign {:?}: its ivr_flow setting",
                campaign.map(|c| &c.name)
            )
        })?,
        (None, None) => Flow::default_flow(),
    };
    let amd = overrides
        .amd
        .unwrap_or(match campaign.map(|c| c.settings.amd) {
            Some(AnsweringMachine::HangUp) => AmdArg::Hangup,
            Some(AnsweringMachine::LeaveMessage) => AmdArg::Message,
            Some(AnsweringMachine::Off) | None => AmdArg::Off,
        });
    let amd = match amd {
        AmdArg::Off => Amd::Off,
        AmdArg::Hangup => Amd::HangUp,
        AmdArg::Message => Amd::LeaveMessage {
            prompt: "voicemail".to_owned(),
        },
    };
    let mut wanted: Vec<String> = flow.prompts().to_vec();
    if let Amd::LeaveMessage { prompt } = &amd {
        wanted.push(prompt.clone());
    }
    let prompts: HashMap<String, String> = if simulated {
        wanted
            .iter()
            .map(|name| (name.clone(), format!("sound:simulated/{name}")))
            .collect()
    } else {
        let mut folders: Vec<String> = Vec::new();
        if let Some(audio_path) = overrides
            .audio
            .clone()
            .or_else(|| campaign.and_then(|c| c.settings.audio.as_ref().map(Into::into)))
        {
            let folder = audio::add_message(&library, &audio_path).map_err(|error| {
                TemplateProblem::new("audio_unusable", Vec::new(), format!("{error:#}"))
            })?;
            folders.push(folder);
        }
        if let Some(campaign) = campaign {
            folders.push(format!("campaign-{}", campaign.id.0));
        }
        folders.push("prompts".to_owned());
        let folder_refs: Vec<&str> = folders.iter().map(String::as_str).collect();
        let (prompts, missing) = library.resolve(&wanted, &folder_refs);
        if !missing.is_empty() {
            let message = format!(
                "the flow plays prompts that have no audio: {}. Add each with `shofar audio add NAME FILE`{}",
                missing.join(", "),
                if missing.iter().any(|m| m == CAMPAIGN_PROMPT) {
                    " (or give the message with --audio FILE, or the campaign's `audio` setting)"
                } else {
                    ""
                }
            );
            return Err(TemplateProblem::new("prompts_missing", missing, message).into());
        }
        prompts.into_iter().collect()
    };
    let transfer_trunk = trunk.clone();
    let transfer_normalizer = normalizer.clone();
    Ok(CallTemplate {
        caller_id: campaign
            .and_then(|c| c.settings.caller_id.clone())
            .or_else(|| trunk.caller_id.clone())
            // Presented the way the trunk writes numbers (national: 036123456).
            .map(|number| match normalizer.normalize_str(&number) {
                Ok(normalized) => trunk.dial_digits(normalized.e164),
                Err(_) => number
                    .chars()
                    .filter(|c| c.is_ascii_digit() || *c == '+')
                    .collect(),
            }),
        flow: Arc::new(flow),
        prompts: Arc::new(prompts),
        amd,
        ring_timeout: Duration::from_secs(u64::from(
            overrides
                .ring_timeout
                .unwrap_or(asterisk.ring_timeout_seconds),
        )),
        max_call: Duration::from_secs(u64::from(asterisk.max_call_seconds)),
        transfer: Some(TransferRoute {
            endpoint_for: Arc::new(move |to: &str| {
                transfer_normalizer
                    .normalize_str(to)
                    .ok()
                    .map(|n| transfer_trunk.endpoint(n.e164))
            }),
        }),
    })
}

/// A campaign's `ivr_flow`: a flow saved in the box (the web UI's builder, `POST
/// /api/v1/flows`) by that name, else a file.
fn campaign_flow(store: &Store, setting: &str) -> anyhow::Result<Flow> {
    match store.flow_by_name(setting)? {
        Some(stored) => Flow::from_json(&stored.definition.to_string()).map_err(|errors| {
            TemplateProblem::new(
                "flow_invalid",
                vec![setting.to_owned()],
                format!("the saved IVR flow {setting:?} is invalid:\n{errors}"),
            )
            .into()
        }),
        None => read_flow(std::path::Path::new(setting)),
    }
}

fn read_flow(path: &std::path::Path) -> anyhow::Result<Flow> {
    let name = || vec![path.display().to_string()];
    let text = std::fs::read_to_string(path).map_err(|error| {
        TemplateProblem::new(
            "flow_missing",
            name(),
            format!("cannot read the IVR flow {}: {error}", path.display()),
        )
    })?;
    Flow::from_json(&text).map_err(|errors| {
        TemplateProblem::new(
            "flow_invalid",
            name(),
            format!("the IVR flow {} is invalid:\n{errors}", path.display()),
        )
        .into()
    })
}

/// Why a call template cannot be built, with a code the web UI words in its
/// language ([`shofar_dialer::Problem`]); the message is the CLI's.
#[derive(Debug)]
struct TemplateProblem {
    code: &'static str,
    names: Vec<String>,
    message: String,
}

impl TemplateProblem {
    fn new(code: &'static str, names: Vec<String>, message: String) -> TemplateProblem {
        TemplateProblem {
            code,
            names,
            message,
        }
    }
}

impl std::fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateProblem {}

/// Why a campaign cannot call, from [`call_template`]'s error: its code and
/// names when the error says, `other` otherwise; the message is the whole chain.
pub fn campaign_problem(error: &anyhow::Error) -> shofar_dialer::Problem {
    let found = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<TemplateProblem>());
    shofar_dialer::Problem {
        code: found.map_or("other", |p| p.code),
        names: found.map(|p| p.names.clone()).unwrap_or_default(),
        message: format!("{error:#}"),
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
    println!("call {}", record.call_id);
    println!("  number     {}", record.number);
    println!(
        "  outcome    {}{}",
        record.outcome.as_deref().unwrap_or("(open)"),
        record
            .ended_by
            .as_deref()
            .map(|by| format!(", ended by {by}"))
            .unwrap_or_default()
    );
    if let Some(code) = record.hangup_code {
        println!(
            "  cause      {code} {}{}",
            record.hangup_cause.as_deref().unwrap_or(""),
            record
                .dial_status
                .as_deref()
                .map(|s| format!(" (dial status {s})"))
                .unwrap_or_default()
        );
    }
    println!("  dialed     {}", clock(record.started_at));
    if let Some(answered) = record.answered_at {
        println!(
            "  answered   {} (rang {})",
            clock(answered),
            seconds(record.ring_ms)
        );
    }
    if let Some(ended) = record.ended_at {
        println!(
            "  ended      {} (call {}, talk {})",
            clock(ended),
            seconds(record.duration_ms),
            seconds(record.talk_ms)
        );
    }
    if let Some(amd) = &record.amd_result {
        println!("  machine?   {amd}");
    }
    println!(
        "  keys       {}",
        if record.dtmf.is_empty() {
            "-"
        } else {
            &record.dtmf
        }
    );
    println!(
        "  actions    {}",
        if record.actions.is_empty() {
            "-".to_owned()
        } else {
            record.actions.join(", ")
        }
    );
    if record.opted_out {
        println!("  opted out: the number is now on the do-not-call list");
    }
    if let Some(detail) = &record.detail {
        println!("  note       {detail}");
    }
}
