//! What a call session needs from a telephony engine, and the two engines that
//! provide it: Asterisk over ARI ([`AriLink`]) and a simulator ([`Simulator`])
//! for demos and load benchmarks.
//!
//! The trait is shaped after ARI: channels with ids the caller chooses, events
//! routed to the session that registered the id, playbacks, bridges. The
//! simulator speaks the same events, so a simulated call goes through the very
//! same session, IVR engine and record path as a real one.
//!
//! Invariants every backend keeps:
//! - Events of a channel go only to the sender registered for its id; a route is
//!   registered before the originate, so no event is lost to a race.
//! - The backend is *up* only when a session may dial and will hear every event.
//! - A backend never decides what a call does: it carries commands out and
//!   reports what happened.

pub mod ari;
pub mod sim;

use std::time::Duration;

use async_trait::async_trait;
use shofar_ari::{Event, Originate};
use tokio::sync::mpsc;

use crate::TelephonyError;

pub use ari::AriLink;
pub use sim::{SimConfig, Simulator};

/// What a call's session receives.
#[derive(Debug, Clone, PartialEq)]
pub enum CallSignal {
    Ari(Event),
    /// The channel is gone and its end was never seen (Asterisk restarted, or
    /// the socket was down when it ended).
    Vanished {
        detail: String,
    },
}

/// The link's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Not connected yet, or reconnecting after this error.
    Down { error: Option<String> },
    /// Connected and reconciled; `generation` counts connections.
    Up { generation: u64 },
}

/// A telephony engine, as a call session sees it.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// `"asterisk"` or `"simulator"`, for logs, metrics and the records' detail.
    fn kind(&self) -> &'static str;

    /// The Stasis application calls return to (the AMD dialplan's `SHOFAR_APP`).
    fn app(&self) -> &str;

    /// The start of every channel id this process creates.
    fn prefix(&self) -> &str;

    fn link(&self) -> Link;

    fn is_up(&self) -> bool {
        matches!(self.link(), Link::Up { .. })
    }

    /// Waits until the link is up, at most `limit`.
    async fn wait_up(&self, limit: Duration) -> Result<u64, TelephonyError>;

    /// Routes a channel's events to `sender`, from now on.
    fn register(&self, channel_id: &str, sender: mpsc::UnboundedSender<CallSignal>);

    fn unregister(&self, channel_id: &str);

    /// How many channels are routed now.
    fn routed(&self) -> usize;

    /// Dials; the outcome arrives as events.
    async fn originate(&self, call: &Originate) -> Result<(), TelephonyError>;

    async fn hangup(&self, channel_id: &str) -> Result<(), TelephonyError>;

    async fn play(
        &self,
        channel_id: &str,
        playback_id: &str,
        media: &str,
    ) -> Result<(), TelephonyError>;

    async fn stop_playback(&self, playback_id: &str) -> Result<(), TelephonyError>;

    /// Sends an answered channel through the dialplan (answering-machine
    /// detection); it comes back with a `StasisStart` whose arguments say what
    /// was found.
    async fn continue_in_dialplan(
        &self,
        channel_id: &str,
        context: &str,
        extension: &str,
    ) -> Result<(), TelephonyError>;

    /// Ringing to a channel (while a transfer dials the agent).
    async fn ring(&self, channel_id: &str) -> Result<(), TelephonyError>;

    async fn create_bridge(&self, bridge_id: &str) -> Result<(), TelephonyError>;

    async fn add_to_bridge(&self, bridge_id: &str, channel_id: &str) -> Result<(), TelephonyError>;

    async fn destroy_bridge(&self, bridge_id: &str) -> Result<(), TelephonyError>;

    /// The ids of every channel the engine has up now (not only this process's):
    /// for the health reading and for reconciling calls after a restart.
    async fn channels(&self) -> Result<Vec<String>, TelephonyError>;
}
