//! ARI's data model: the fields of channels, playbacks and events the box uses.
//! Unknown fields are ignored and unknown event types map to [`Event::Other`], so
//! a newer Asterisk does not break the client.

use serde::Deserialize;

/// `GET /asterisk/info`, the parts worth showing.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AsteriskInfo {
    #[serde(default)]
    pub system: Option<SystemInfo>,
    #[serde(default)]
    pub status: Option<StatusInfo>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SystemInfo {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub entity_id: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct StatusInfo {
    #[serde(default)]
    pub startup_time: String,
    #[serde(default)]
    pub last_reload_time: String,
}

impl AsteriskInfo {
    pub fn version(&self) -> &str {
        self.system.as_ref().map_or("", |s| s.version.as_str())
    }
}

/// An endpoint (a PJSIP trunk): whether Asterisk can reach it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Endpoint {
    #[serde(default)]
    pub technology: String,
    #[serde(default)]
    pub resource: String,
    /// `online`, `offline` or `unknown` (unknown when qualify is off).
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub channel_ids: Vec<String>,
}

/// A channel's state as ARI names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ChannelState {
    Down,
    Rsrvd,
    OffHook,
    Dialing,
    Ring,
    Ringing,
    Up,
    Busy,
    #[serde(rename = "Dialing Offhook")]
    DialingOffhook,
    #[serde(rename = "Pre-ring")]
    PreRing,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct CallerId {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub number: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub state: ChannelState,
    #[serde(default)]
    pub caller: CallerId,
    #[serde(default)]
    pub connected: CallerId,
    #[serde(default)]
    pub creationtime: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Playback {
    pub id: String,
    #[serde(default)]
    pub media_uri: String,
    /// `channel:ID` or `bridge:ID`.
    #[serde(default)]
    pub target_uri: String,
    #[serde(default)]
    pub state: String,
}

impl Playback {
    /// The channel this playback plays to, if it plays to a channel.
    pub fn channel_id(&self) -> Option<&str> {
        self.target_uri.strip_prefix("channel:")
    }
}

/// An event from the WebSocket. Only the events the box acts on are typed.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "type")]
pub enum Event {
    StasisStart {
        channel: Channel,
        #[serde(default)]
        args: Vec<String>,
    },
    StasisEnd {
        channel: Channel,
    },
    ChannelStateChange {
        channel: Channel,
    },
    ChannelDtmfReceived {
        channel: Channel,
        digit: String,
        #[serde(default)]
        duration_ms: u32,
    },
    ChannelHangupRequest {
        channel: Channel,
        #[serde(default)]
        cause: Option<i64>,
        #[serde(default)]
        soft: Option<bool>,
    },
    ChannelDestroyed {
        channel: Channel,
        #[serde(default)]
        cause: i64,
        #[serde(default)]
        cause_txt: String,
    },
    /// A dial's progress; `peer` is the channel being dialed.
    Dial {
        peer: Channel,
        #[serde(default)]
        dialstatus: String,
    },
    PlaybackStarted {
        playback: Playback,
    },
    PlaybackFinished {
        playback: Playback,
    },
    #[serde(other)]
    Other,
}

impl Event {
    /// The channel the event concerns, for routing it to its call.
    pub fn channel_id(&self) -> Option<&str> {
        match self {
            Event::StasisStart { channel, .. }
            | Event::StasisEnd { channel }
            | Event::ChannelStateChange { channel }
            | Event::ChannelDtmfReceived { channel, .. }
            | Event::ChannelHangupRequest { channel, .. }
            | Event::ChannelDestroyed { channel, .. } => Some(&channel.id),
            Event::Dial { peer, .. } => Some(&peer.id),
            Event::PlaybackStarted { playback } | Event::PlaybackFinished { playback } => {
                playback.channel_id()
            }
            Event::Other => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Event {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn events_as_asterisk_22_sends_them_are_read() {
        let start = parse(
            r#"{"type":"StasisStart","timestamp":"2026-11-21T19:00:00.000+0000","args":["call","c1"],
                "channel":{"id":"c1","name":"PJSIP/carrier-00000001","state":"Up",
                "caller":{"name":"","number":"036123456"},"connected":{"name":"","number":"0525551234"},
                "accountcode":"","dialplan":{"context":"default","exten":"s","priority":1,"app_name":"Stasis","app_data":"shofar"},
                "creationtime":"2026-11-21T19:00:00.000+0000","language":"en"},"asterisk_id":"x","application":"shofar"}"#,
        );
        assert_eq!(start.channel_id(), Some("c1"));
        let Event::StasisStart { channel, args } = start else {
            panic!("not a StasisStart")
        };
        assert_eq!(
            (channel.state, args.as_slice()),
            (ChannelState::Up, &["call".to_owned(), "c1".to_owned()][..])
        );

        let destroyed = parse(
            r#"{"type":"ChannelDestroyed","cause":17,"cause_txt":"User busy",
                "channel":{"id":"c2","name":"PJSIP/carrier-2","state":"Down"}}"#,
        );
        assert!(matches!(
            destroyed,
            Event::ChannelDestroyed { cause: 17, .. }
        ));

        let dial = parse(
            r#"{"type":"Dial","dialstatus":"BUSY","peer":{"id":"c2","name":"n","state":"Down"}}"#,
        );
        assert_eq!(dial.channel_id(), Some("c2"));

        let finished = parse(
            r#"{"type":"PlaybackFinished","playback":{"id":"c1-p1","media_uri":"sound:x",
                "target_uri":"channel:c1","language":"en","state":"done"}}"#,
        );
        assert_eq!(finished.channel_id(), Some("c1"));

        assert_eq!(
            parse(r#"{"type":"ChannelVarset","variable":"X"}"#),
            Event::Other
        );
    }
}
