//! What a call session needs from a telephony engine, and the two engines that
//! provide it: Asterisk over ARI ([`AriLink`]) and a simulator ([`Simulator`])
//! for demos and load benchmarks.
//!
//! The trait speaks the call's own terms, not an engine's wire format: channels
//! with ids the caller chooses, [`ChannelEvent`]s routed to the session that
//! registered the id, playbacks, bridges. ARI's JSON stays inside `shofar-ari`
//! and [`AriLink`], which translates it; the simulator emits the same events
//! directly, so a simulated call goes through the very same session, IVR engine
//! and record path as a real one.
//!
//! Invariants every backend keeps:
//! - Nothing reaches a callee but a [`Dial`], and a `Dial` is made only from a
//!   [`SpentPermit`] — a pre-dial check passed for that number moments before
//!   (`DialPermit::spend`). `originate` consumes it: one check, one dial.
//! - Events of a channel go only to the sender registered for its id; a route is
//!   registered before the originate, so no event is lost to a race.
//! - The backend is *up* only when a session may dial and will hear every event.
//! - A backend never decides what a call does: it carries commands out and
//!   reports what happened.

pub mod ari;
pub mod sim;

use std::time::Duration;

use async_trait::async_trait;
use shofar_dnc::SpentPermit;
use shofar_phone::E164;
use tokio::sync::mpsc;

use crate::TelephonyError;

pub use ari::AriLink;
pub use sim::{SimConfig, Simulator};

/// What a call's session receives: an event of one of its channels (the
/// callee's, or a transfer's agent).
#[derive(Debug, Clone, PartialEq)]
pub struct CallSignal {
    pub channel_id: String,
    pub event: ChannelEvent,
}

/// What happened on a channel, in the call's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelEvent {
    /// The far end rings (or the network reports progress).
    Ringing,
    /// The network's word on the dial: Asterisk's `DIALSTATUS` (`BUSY`,
    /// `NOANSWER`, `CONGESTION`, `CHANUNAVAIL`, `ANSWER`, …).
    DialStatus(String),
    /// The channel answered and is the application's to drive.
    Answered,
    /// Answering-machine detection is done: `HUMAN`, `MACHINE` or `NOTSURE`.
    MachineDetection(String),
    /// A key pressed.
    Key(char),
    /// A playback ended (played out or stopped).
    PlaybackFinished { playback_id: String },
    /// The channel is being hung up (by the far end, unless the session asked).
    HangupRequested,
    /// The channel is gone, with its Q.850 cause.
    Ended { cause: i64, cause_text: String },
    /// The channel is gone and its end was never seen (Asterisk restarted, or
    /// the socket was down when it ended).
    Vanished { detail: String },
}

/// A call to a callee, allowed by the pre-dial check: made only from the
/// [`SpentPermit`] of its number, and consumed by [`Backend::originate`].
#[derive(Debug)]
pub struct Dial {
    permit: SpentPermit,
    pub channel_id: String,
    /// The engine's dial string, e.g. `PJSIP/0525551234@trunk`.
    pub endpoint: String,
    /// The number callees see; `None` leaves it to the trunk.
    pub caller_id: Option<String>,
    pub ring_timeout: Duration,
}

impl Dial {
    pub fn new(
        permit: SpentPermit,
        channel_id: String,
        endpoint: String,
        caller_id: Option<String>,
        ring_timeout: Duration,
    ) -> Dial {
        Dial {
            permit,
            channel_id,
            endpoint,
            caller_id,
            ring_timeout,
        }
    }

    pub fn number(&self) -> E164 {
        self.permit.number()
    }

    /// The do-not-call list version the number was checked against.
    pub fn list_version(&self) -> u64 {
        self.permit.list_version()
    }
}

/// A transfer's second leg: the organization's own agent, dialed for a callee
/// already on the line (not a callee: no pre-dial check).
#[derive(Debug, Clone)]
pub struct AgentDial {
    pub channel_id: String,
    /// The callee's channel, whose call this agent joins.
    pub for_call: String,
    pub endpoint: String,
    pub caller_id: Option<String>,
    pub ring_timeout: Duration,
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

    /// Dials a callee, spending the dial's permit; the outcome arrives as events.
    async fn originate(&self, dial: Dial) -> Result<(), TelephonyError>;

    /// Dials a transfer's agent; the outcome arrives as events.
    async fn originate_agent(&self, dial: AgentDial) -> Result<(), TelephonyError>;

    async fn hangup(&self, channel_id: &str) -> Result<(), TelephonyError>;

    async fn play(
        &self,
        channel_id: &str,
        playback_id: &str,
        media: &str,
    ) -> Result<(), TelephonyError>;

    async fn stop_playback(&self, playback_id: &str) -> Result<(), TelephonyError>;

    /// Runs answering-machine detection on an answered channel; the verdict
    /// arrives as [`ChannelEvent::MachineDetection`].
    async fn detect_machine(&self, channel_id: &str) -> Result<(), TelephonyError>;

    /// Ringing to a channel (while a transfer dials the agent).
    async fn ring(&self, channel_id: &str) -> Result<(), TelephonyError>;

    async fn create_bridge(&self, bridge_id: &str) -> Result<(), TelephonyError>;

    async fn add_to_bridge(&self, bridge_id: &str, channel_id: &str) -> Result<(), TelephonyError>;

    async fn destroy_bridge(&self, bridge_id: &str) -> Result<(), TelephonyError>;

    /// Waits until the engine's own tasks (its event socket, its simulated
    /// channels) have ended, once the shutdown token it was started with was
    /// cancelled.
    async fn finished(&self) {}

    /// The ids of every channel the engine has up now (not only this process's):
    /// for the health reading and for reconciling calls after a restart.
    async fn channels(&self) -> Result<Vec<String>, TelephonyError>;
}
