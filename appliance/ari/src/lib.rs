//! A typed client for Asterisk's REST Interface (ARI): the REST calls the box makes
//! ([`Client`]) and the event WebSocket ([`events`]), which reconnects by itself.
//!
//! Invariants:
//! - This is the only crate that knows ARI's JSON and URLs; everything above it
//!   sees [`Event`], [`Channel`] and typed errors.
//! - It never decides anything about a call: no retries of a dial, no hang-ups of
//!   its own. It reports what Asterisk said, and the link state.
//! - Secrets (the ARI password) never appear in an error message or a log line.
#![forbid(unsafe_code)]

mod client;
pub mod events;
mod model;

pub use client::{AriConfig, Client, Originate, install_crypto_provider};
pub use events::{EventSource, Feed};
pub use model::{AsteriskInfo, CallerId, Channel, ChannelState, Endpoint, Event, Playback};

/// What went wrong talking to Asterisk.
#[derive(Debug, thiserror::Error)]
pub enum AriError {
    #[error(
        "cannot reach Asterisk's ARI at {url}: {detail} (is Asterisk running, with http.conf enabled on that address?)"
    )]
    Unreachable { url: String, detail: String },
    #[error(
        "Asterisk refused the ARI credentials for user {user:?}: check ari_user and ari_password in [asterisk] of shofar.toml against ari.conf"
    )]
    Unauthorized { user: String },
    #[error("Asterisk has no {what}")]
    NotFound { what: String },
    #[error("Asterisk refused {action}: {status} {message}")]
    Rejected {
        action: String,
        status: u16,
        message: String,
    },
    #[error("Asterisk sent a response this client cannot read ({action}): {detail}")]
    Decode { action: String, detail: String },
    #[error("the ARI configuration is invalid: {0}")]
    Config(String),
}

impl AriError {
    /// True when the resource (channel, playback) was already gone — usually a
    /// race with a hang-up, which callers may ignore.
    pub fn is_not_found(&self) -> bool {
        matches!(self, AriError::NotFound { .. })
    }
}

pub type Result<T, E = AriError> = std::result::Result<T, E>;
