//! Calls: the session that ties the pre-dial check, Asterisk (over ARI), the IVR
//! engine and the call record together; the prompts a call plays; and the
//! Asterisk and trunk configuration.
//!
//! Invariants:
//! - This crate never builds ARI JSON or URLs (that is `shofar-ari`) and never
//!   decides what a caller hears next (that is `shofar-ivr`).
//! - It never dials without a permit from `SharedDnc::predial_check`, taken
//!   right before the originate: a backend originates only a [`Dial`], which only
//!   a spent permit makes.
//! - ARI's wire types stay in `shofar-ari` and [`AriLink`]: the [`Backend`] trait
//!   speaks [`ChannelEvent`]s and [`Dial`]s.
#![forbid(unsafe_code)]

pub mod backend;
pub mod config;
pub mod outcome;
pub mod plan;
pub mod prompts;
pub mod render;
pub mod session;

use shofar_phone::E164;

pub use backend::{
    AgentDial, AriLink, Backend, CallSignal, ChannelEvent, Dial, Link, SimConfig, Simulator,
};
pub use plan::{Amd, CallPlan, CallPlanner, CallTemplate, Overrides, Problem};
pub use session::{CallControl, CallStop, DialGate, Telephony};

/// Why a call could not be made or finished.
#[derive(Debug, thiserror::Error)]
pub enum TelephonyError {
    #[error(transparent)]
    Ari(#[from] shofar_ari::AriError),
    #[error(
        "not dialing: {error}. Check that Asterisk is running and ARI is reachable (`shofar asterisk-config`, docs/trunk.md)"
    )]
    LinkDown { error: String },
    #[error("{number} is on the do-not-call list: not dialed (call record {call_id})")]
    Blacklisted { number: E164, call_id: String },
    #[error(
        "the flow plays prompts that have no audio: {}. Add each with `shofar audio add NAME FILE`",
        .0.join(", ")
    )]
    MissingPrompts(Vec<String>),
    #[error(transparent)]
    Store(#[from] shofar_store::StoreError),
    /// Stopped before it was recorded or dialed: nothing happened.
    #[error("not placed: {reason}")]
    NotPlaced { reason: String },
    /// The telephony engine refused a command (the simulator's own errors).
    #[error("{0}")]
    Backend(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("internal error: {0}")]
    Internal(String),
}
