//! The call planner: the one place that turns a campaign (or a test call, or
//! `shofar call`) into what its calls play, and a number into what is dialed.
//!
//! A campaign's calls share a [`CallTemplate`] — its flow, the media of its
//! prompts, answering-machine handling, caller ID, timeouts — made once (and
//! again when the campaign changes) by [`CallPlanner::template`]. Each call is a
//! [`CallPlan`]: the template, who is called and why. What reaches the telephony
//! engine — the dial string of the number and of a transfer's agent — is worked
//! out here too ([`CallPlanner::endpoint`], [`CallPlanner::agent_endpoint`]),
//! from the trunk's configuration, when the session dials; no caller passes a
//! dial string in.
//!
//! Invariants, as what it never does:
//! - Never dials or decides to: the session spends the pre-dial check's permit on
//!   a `Dial` it builds with [`CallPlanner::endpoint`], at the last moment.
//! - Never hands out a template whose flow plays a prompt without audio: such a
//!   campaign gets a [`Problem`] (`prompts_missing`) instead, and makes no call.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use shofar_campaign::AnsweringMachine;
use shofar_ivr::Flow;
use shofar_phone::{E164, Normalizer};
use shofar_store::Store;
use shofar_store::calls::CallKind;
use shofar_store::campaigns::{Campaign, CampaignId};

use crate::config::{AsteriskConfig, TrunkConfig};
use crate::prompts::PromptLibrary;

/// The prompt a campaign's own message is played as.
pub const CAMPAIGN_PROMPT: &str = "campaign";

/// The prompt the voicemail drop plays.
pub const VOICEMAIL_PROMPT: &str = "voicemail";

/// What to do when answering-machine detection says a machine answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Amd {
    /// No detection: the IVR starts at once.
    Off,
    /// Detect; on a machine, hang up.
    HangUp,
    /// Detect; on a machine, play this prompt (the voicemail drop), then hang up.
    LeaveMessage { prompt: String },
}

/// What every call of a campaign (or a one-off call) shares.
#[derive(Debug, Clone)]
pub struct CallTemplate {
    pub flow: Arc<Flow>,
    /// Prompt name → media URI.
    pub prompts: Arc<HashMap<String, String>>,
    pub amd: Amd,
    /// Presented the way the trunk writes numbers; `None` leaves it to the trunk.
    pub caller_id: Option<String>,
    /// Whether the flow's transfers may dial an agent.
    pub transfers: bool,
    pub ring_timeout: Duration,
    pub max_call: Duration,
}

/// One call to place: who, why, and what it plays.
#[derive(Debug, Clone)]
pub struct CallPlan {
    /// The channel id. Asterisk matches ids by prefix when it checks for
    /// duplicates (measured: `x-1` is refused while `x-10` is up), so ids must be
    /// of fixed width — a timestamp or a zero-padded counter.
    pub call_id: String,
    pub number: E164,
    pub campaign: Option<CampaignId>,
    pub contact_id: Option<i64>,
    pub attempt: u32,
    pub kind: CallKind,
    pub template: Arc<CallTemplate>,
}

/// Why a campaign (or a one-off call) cannot call: what
/// [`CallPlanner::template`] answers instead of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable, for a UI to word: `prompts_missing`, `flow_invalid`,
    /// `flow_missing`, `audio_unusable`, `not_prepared`, or `other`.
    pub code: &'static str,
    /// What the problem concerns (the prompts without audio, say); may be empty.
    pub names: Vec<String>,
    /// In English, saying what to do.
    pub message: String,
}

impl Problem {
    pub fn new(code: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            code,
            names: Vec::new(),
            message: message.into(),
        }
    }

    fn named(code: &'static str, names: Vec<String>, message: String) -> Problem {
        Problem {
            code,
            names,
            message,
        }
    }
}

impl From<String> for Problem {
    fn from(message: String) -> Problem {
        Problem::new("other", message)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

/// How a one-off call (`shofar call`) differs from its campaign's settings.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// An IVR flow file instead of the campaign's.
    pub flow: Option<PathBuf>,
    /// The campaign's message from this audio file.
    pub audio: Option<PathBuf>,
    pub amd: Option<AnsweringMachine>,
    pub ring_timeout: Option<u32>,
}

/// Turns campaigns into call templates and numbers into dial strings, for one
/// box's trunk, sounds folder and numbering.
#[derive(Clone)]
pub struct CallPlanner {
    trunk: TrunkConfig,
    /// How the box reads numbers people typed (caller IDs, transfer targets).
    normalizer: Normalizer,
    library: PromptLibrary,
    ring_timeout: Duration,
    max_call: Duration,
    /// The simulator plays nothing: prompts get placeholders, no audio needed.
    simulated: bool,
}

impl std::fmt::Debug for CallPlanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallPlanner")
            .field("trunk", &self.trunk.name)
            .field("simulated", &self.simulated)
            .finish_non_exhaustive()
    }
}

impl CallPlanner {
    pub fn new(
        asterisk: &AsteriskConfig,
        trunk: TrunkConfig,
        normalizer: Normalizer,
        simulated: bool,
    ) -> CallPlanner {
        CallPlanner {
            trunk,
            normalizer,
            library: PromptLibrary {
                sounds_dir: asterisk.sounds_dir.clone(),
                asterisk_dir: asterisk.asterisk_sounds_dir().to_owned(),
            },
            ring_timeout: Duration::from_secs(u64::from(asterisk.ring_timeout_seconds)),
            max_call: Duration::from_secs(u64::from(asterisk.max_call_seconds)),
            simulated,
        }
    }

    pub fn simulated(&self) -> bool {
        self.simulated
    }

    /// The dial string of a callee's number, e.g. `PJSIP/0525551234@trunk`.
    pub fn endpoint(&self, number: E164) -> String {
        self.trunk.endpoint(number)
    }

    /// The dial string of a transfer's target as the flow writes it
    /// (`03-6123456`), or `None` when it is not a number the trunk can dial.
    pub fn agent_endpoint(&self, to: &str) -> Option<String> {
        self.normalizer
            .normalize_str(to)
            .ok()
            .map(|normalized| self.trunk.endpoint(normalized.e164))
    }

    /// What the calls of `campaign` (or of a one-off call without one) share, or
    /// why they cannot be made. Reads the campaign's saved flow from `store`;
    /// converts a message file the first time it is used.
    pub fn template(
        &self,
        store: &Store,
        campaign: Option<&Campaign>,
        overrides: &Overrides,
    ) -> Result<CallTemplate, Problem> {
        let flow = match (
            &overrides.flow,
            campaign.and_then(|c| c.settings.ivr_flow.as_ref()),
        ) {
            (Some(path), _) => read_flow(path)?,
            (None, Some(setting)) => campaign_flow(store, setting).map_err(|problem| Problem {
                message: format!(
                    "campaign {:?}: its ivr_flow setting: {}",
                    campaign.map(|c| c.name.as_str()).unwrap_or_default(),
                    problem.message
                ),
                ..problem
            })?,
            (None, None) => Flow::default_flow(),
        };
        let machine = overrides
            .amd
            .or(campaign.map(|c| c.settings.amd))
            .unwrap_or(AnsweringMachine::Off);
        let amd = match machine {
            AnsweringMachine::Off => Amd::Off,
            AnsweringMachine::HangUp => Amd::HangUp,
            AnsweringMachine::LeaveMessage => Amd::LeaveMessage {
                prompt: VOICEMAIL_PROMPT.to_owned(),
            },
        };
        let mut wanted: Vec<String> = flow.prompts().to_vec();
        if let Amd::LeaveMessage { prompt } = &amd {
            wanted.push(prompt.clone());
        }
        let prompts = if self.simulated {
            wanted
                .iter()
                .map(|name| (name.clone(), format!("sound:simulated/{name}")))
                .collect()
        } else {
            self.resolve_prompts(&wanted, campaign, overrides)?
        };
        let ring_timeout = overrides
            .ring_timeout
            .map(|seconds| Duration::from_secs(u64::from(seconds)))
            .unwrap_or(self.ring_timeout);
        Ok(CallTemplate {
            caller_id: campaign
                .and_then(|c| c.settings.caller_id.clone())
                .or_else(|| self.trunk.caller_id.clone())
                .map(|number| self.caller_id(&number)),
            flow: Arc::new(flow),
            prompts: Arc::new(prompts),
            amd,
            transfers: true,
            ring_timeout,
            max_call: self.max_call,
        })
    }

    /// A caller ID presented the way the trunk writes numbers (national:
    /// `036123456`); what is not a number keeps its digits and `+`.
    fn caller_id(&self, number: &str) -> String {
        match self.normalizer.normalize_str(number) {
            Ok(normalized) => self.trunk.dial_digits(normalized.e164),
            Err(_) => number
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect(),
        }
    }

    fn resolve_prompts(
        &self,
        wanted: &[String],
        campaign: Option<&Campaign>,
        overrides: &Overrides,
    ) -> Result<HashMap<String, String>, Problem> {
        let mut folders: Vec<String> = Vec::new();
        if let Some(audio_path) = overrides
            .audio
            .clone()
            .or_else(|| campaign.and_then(|c| c.settings.audio.as_ref().map(Into::into)))
        {
            let folder = self
                .library
                .add_message(&audio_path, CAMPAIGN_PROMPT)
                .map_err(|error| Problem::new("audio_unusable", error))?;
            folders.push(folder);
        }
        if let Some(campaign) = campaign {
            folders.push(format!("campaign-{}", campaign.id.0));
        }
        folders.push("prompts".to_owned());
        let folder_refs: Vec<&str> = folders.iter().map(String::as_str).collect();
        let (prompts, missing) = self.library.resolve(wanted, &folder_refs);
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
            return Err(Problem::named("prompts_missing", missing, message));
        }
        Ok(prompts)
    }
}

/// A campaign's `ivr_flow`: a flow saved in the box (the web UI's builder, `POST
/// /api/v1/flows`) by that name, else a file.
fn campaign_flow(store: &Store, setting: &str) -> Result<Flow, Problem> {
    let stored = store
        .flow_by_name(setting)
        .map_err(|error| Problem::new("other", format!("{error}")))?;
    match stored {
        Some(stored) => Flow::from_json(&stored.definition.to_string()).map_err(|errors| {
            Problem::named(
                "flow_invalid",
                vec![setting.to_owned()],
                format!("the saved IVR flow {setting:?} is invalid:\n{errors}"),
            )
        }),
        None => read_flow(Path::new(setting)),
    }
}

fn read_flow(path: &Path) -> Result<Flow, Problem> {
    let name = || vec![path.display().to_string()];
    let text = std::fs::read_to_string(path).map_err(|error| {
        Problem::named(
            "flow_missing",
            name(),
            format!("cannot read the IVR flow {}: {error}", path.display()),
        )
    })?;
    Flow::from_json(&text).map_err(|errors| {
        Problem::named(
            "flow_invalid",
            name(),
            format!("the IVR flow {} is invalid:\n{errors}", path.display()),
        )
    })
}
