//! The ARI link: the event socket, routing each event to the call it concerns,
//! and reconciliation whenever the socket comes back.
//!
//! Design constraints:
//! - The link is *up* only once the socket is connected **and** reconciliation
//!   has run; calls wait for that before they originate (an answered call with no
//!   socket listening is dropped by Asterisk).
//! - After every (re)connect, `GET /channels` is compared with the calls routed
//!   here: a call whose channel vanished while the socket was down gets
//!   [`CallSignal::Vanished`] and closes with a cause; a channel with this
//!   link's id prefix that no call owns is hung up (an orphan).
//! - A route is registered *before* the originate, so no event of a call is
//!   ever dropped for arriving before the originate's response.
//! - ARI's events and requests stop here: sessions get [`ChannelEvent`]s
//!   ([`translate`]) and give [`Dial`]s.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use shofar_ari::{AriConfig, ChannelState, Client, Event, EventSource, Feed, Originate};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::TelephonyError;
use crate::backend::{AgentDial, Backend, CallSignal, ChannelEvent, Dial, Link};
use crate::render::AMD_CONTEXT;

type Routes = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<CallSignal>>>>;

/// A connection to Asterisk over ARI, shared by every call. Cheap to clone.
#[derive(Clone)]
pub struct AriLink {
    client: Client,
    /// Channel id → the session that owns it. A plain mutex: held only to insert,
    /// remove or look up, never across an await.
    routes: Routes,
    link: watch::Receiver<Link>,
    prefix: String,
    /// The event socket's task and the router's: they end with the shutdown
    /// token, and [`Backend::finished`] waits for them.
    tasks: TaskTracker,
}

impl AriLink {
    /// Connects the event socket (in the background; it keeps reconnecting) and
    /// starts routing. `prefix` starts every channel id this link creates, so
    /// orphans can be told from channels that belong to someone else.
    pub fn start(
        config: AriConfig,
        prefix: &str,
        shutdown: CancellationToken,
    ) -> Result<AriLink, TelephonyError> {
        let client = Client::new(config.clone())?;
        let (feed_tx, feed_rx) = mpsc::unbounded_channel();
        let tasks = TaskTracker::new();
        tasks.spawn(EventSource::spawn(&config, feed_tx, shutdown.clone())?);
        let (link_tx, link_rx) = watch::channel(Link::Down { error: None });
        let routes: Routes = Arc::default();
        tasks.spawn(route(
            client.clone(),
            routes.clone(),
            feed_rx,
            link_tx,
            prefix.to_owned(),
            shutdown,
        ));
        tasks.close();
        Ok(AriLink {
            client,
            routes,
            link: link_rx,
            prefix: prefix.to_owned(),
            tasks,
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Waits until the link is up (connected and reconciled), at most `limit`.
    async fn wait_until_up(&self, limit: Duration) -> Result<u64, TelephonyError> {
        let mut link = self.link.clone();
        let waited =
            tokio::time::timeout(limit, link.wait_for(|l| matches!(l, Link::Up { .. }))).await;
        // `wait_for` only returns an `Up` state; anything else is treated as down.
        let up = match waited {
            Ok(Ok(state)) => match &*state {
                Link::Up { generation } => Some(*generation),
                Link::Down { .. } => None,
            },
            Ok(Err(_)) => {
                return Err(TelephonyError::LinkDown {
                    error: "the telephony link was shut down".to_owned(),
                });
            }
            Err(_) => None,
        };
        match up {
            Some(generation) => Ok(generation),
            None => Err(TelephonyError::LinkDown {
                error: match self.link() {
                    Link::Down { error: Some(error) } => error,
                    _ => format!(
                        "no event connection to Asterisk within {} s",
                        limit.as_secs()
                    ),
                },
            }),
        }
    }
}

#[async_trait]
impl Backend for AriLink {
    fn kind(&self) -> &'static str {
        "asterisk"
    }

    fn app(&self) -> &str {
        self.client.app()
    }

    fn prefix(&self) -> &str {
        &self.prefix
    }

    fn link(&self) -> Link {
        self.link.borrow().clone()
    }

    async fn wait_up(&self, limit: Duration) -> Result<u64, TelephonyError> {
        self.wait_until_up(limit).await
    }

    fn register(&self, channel_id: &str, sender: mpsc::UnboundedSender<CallSignal>) {
        self.routes.lock().insert(channel_id.to_owned(), sender);
    }

    fn unregister(&self, channel_id: &str) {
        self.routes.lock().remove(channel_id);
    }

    fn routed(&self) -> usize {
        self.routes.lock().len()
    }

    async fn originate(&self, dial: Dial) -> Result<(), TelephonyError> {
        let originate = Originate {
            app_args: vec!["call".to_owned(), dial.channel_id.clone()],
            // The AMD dialplan returns the channel to this application.
            variables: [("SHOFAR_APP".to_owned(), self.client.app().to_owned())].into(),
            timeout_seconds: dial.ring_timeout.as_secs().max(1) as u32,
            channel_id: dial.channel_id,
            endpoint: dial.endpoint,
            caller_id: dial.caller_id,
        };
        self.client.originate(&originate).await?;
        Ok(())
    }

    async fn originate_agent(&self, dial: AgentDial) -> Result<(), TelephonyError> {
        let originate = Originate {
            app_args: vec!["agent".to_owned(), dial.for_call],
            variables: Default::default(),
            timeout_seconds: dial.ring_timeout.as_secs().max(1) as u32,
            channel_id: dial.channel_id,
            endpoint: dial.endpoint,
            caller_id: dial.caller_id,
        };
        self.client.originate(&originate).await?;
        Ok(())
    }

    async fn hangup(&self, channel_id: &str) -> Result<(), TelephonyError> {
        self.client.hangup(channel_id).await?;
        Ok(())
    }

    async fn play(
        &self,
        channel_id: &str,
        playback_id: &str,
        media: &str,
    ) -> Result<(), TelephonyError> {
        self.client.play(channel_id, playback_id, media).await?;
        Ok(())
    }

    async fn stop_playback(&self, playback_id: &str) -> Result<(), TelephonyError> {
        self.client.stop_playback(playback_id).await?;
        Ok(())
    }

    async fn detect_machine(&self, channel_id: &str) -> Result<(), TelephonyError> {
        // The project's dialplan runs AMD() and returns the channel to Stasis
        // with `amd RESULT` (asterisk/extensions.conf).
        Ok(self
            .client
            .continue_in_dialplan(channel_id, AMD_CONTEXT, "s")
            .await?)
    }

    async fn ring(&self, channel_id: &str) -> Result<(), TelephonyError> {
        Ok(self.client.ring(channel_id).await?)
    }

    async fn create_bridge(&self, bridge_id: &str) -> Result<(), TelephonyError> {
        Ok(self.client.create_bridge(bridge_id).await?)
    }

    async fn add_to_bridge(&self, bridge_id: &str, channel_id: &str) -> Result<(), TelephonyError> {
        Ok(self.client.add_to_bridge(bridge_id, channel_id).await?)
    }

    async fn destroy_bridge(&self, bridge_id: &str) -> Result<(), TelephonyError> {
        self.client.destroy_bridge(bridge_id).await?;
        Ok(())
    }

    async fn finished(&self) {
        self.tasks.wait().await;
    }

    async fn channels(&self) -> Result<Vec<String>, TelephonyError> {
        Ok(self
            .client
            .channels()
            .await?
            .into_iter()
            .map(|channel| channel.id)
            .collect())
    }
}

async fn route(
    client: Client,
    routes: Routes,
    mut feed: mpsc::UnboundedReceiver<Feed>,
    link: watch::Sender<Link>,
    prefix: String,
    shutdown: CancellationToken,
) {
    loop {
        let item = tokio::select! {
            () = shutdown.cancelled() => return,
            item = feed.recv() => item,
        };
        let Some(item) = item else { return };
        match item {
            Feed::Connected { generation } => {
                match reconcile(&client, &routes, &prefix).await {
                    Ok(()) => {
                        link.send_replace(Link::Up { generation });
                    }
                    Err(error) => {
                        // The socket is up but the REST side is not answering: stay
                        // down; the next event or reconnect tries again.
                        tracing::warn!(%error, "cannot reconcile calls with Asterisk");
                        link.send_replace(Link::Down {
                            error: Some(error.to_string()),
                        });
                    }
                }
            }
            Feed::Disconnected { error } => {
                link.send_replace(Link::Down { error: Some(error) });
            }
            Feed::Event(event) => {
                tracing::debug!(?event, "ARI event");
                let Some(channel_id) = event.channel_id() else {
                    continue;
                };
                let sender = routes.lock().get(channel_id).cloned();
                match sender {
                    Some(sender) => {
                        if let Some(event) = translate(&event) {
                            let _ = sender.send(CallSignal {
                                channel_id: channel_id.to_owned(),
                                event,
                            });
                        }
                    }
                    None => {
                        if let Event::StasisStart { channel, .. } = &event
                            && channel.id.starts_with(&prefix)
                        {
                            tracing::warn!(channel = %channel.id, "hanging up a channel no call owns");
                            let _ = client.hangup(&channel.id).await;
                        }
                    }
                }
            }
        }
    }
}

/// Compares Asterisk's channels with the routed calls (see the module doc).
async fn reconcile(client: &Client, routes: &Routes, prefix: &str) -> Result<(), TelephonyError> {
    let channels = client.channels().await?;
    let present: std::collections::HashSet<&str> = channels.iter().map(|c| c.id.as_str()).collect();
    let vanished: Vec<(String, mpsc::UnboundedSender<CallSignal>)> = routes
        .lock()
        .iter()
        .filter(|(id, _)| !present.contains(id.as_str()))
        .map(|(id, sender)| (id.clone(), sender.clone()))
        .collect();
    for (channel_id, sender) in vanished {
        tracing::warn!(channel = %channel_id, "call vanished while the event socket was down");
        let _ = sender.send(CallSignal {
            channel_id,
            event: ChannelEvent::Vanished {
                detail: "the channel no longer exists in Asterisk (Asterisk restarted or the call ended while the supervisor was disconnected)".to_owned(),
            },
        });
    }
    let orphans: Vec<&str> = {
        let routes = routes.lock();
        channels
            .iter()
            .map(|c| c.id.as_str())
            .filter(|id| id.starts_with(prefix) && !routes.contains_key(*id))
            .collect()
    };
    for channel_id in orphans {
        tracing::warn!(channel = %channel_id, "hanging up an orphaned channel");
        let _ = client.hangup(channel_id).await;
    }
    Ok(())
}

/// What an ARI event means for the call that owns its channel; `None` for events
/// a call does not act on.
pub fn translate(event: &Event) -> Option<ChannelEvent> {
    Some(match event {
        Event::Dial { dialstatus, .. } => match dialstatus.as_str() {
            "RINGING" | "PROGRESS" => ChannelEvent::Ringing,
            "" => return None,
            status => ChannelEvent::DialStatus(status.to_owned()),
        },
        Event::ChannelStateChange { channel } if channel.state == ChannelState::Ringing => {
            ChannelEvent::Ringing
        }
        Event::StasisStart { args, .. } => match args.first().map(String::as_str) {
            // Back from the AMD dialplan (asterisk/extensions.conf).
            Some("amd") => ChannelEvent::MachineDetection(args.get(1).cloned().unwrap_or_default()),
            _ => ChannelEvent::Answered,
        },
        Event::ChannelDtmfReceived { digit, .. } => ChannelEvent::Key(digit.chars().next()?),
        Event::PlaybackFinished { playback } => ChannelEvent::PlaybackFinished {
            playback_id: playback.id.clone(),
        },
        Event::ChannelHangupRequest { .. } => ChannelEvent::HangupRequested,
        Event::ChannelDestroyed {
            cause, cause_txt, ..
        } => ChannelEvent::Ended {
            cause: *cause,
            cause_text: cause_txt.clone(),
        },
        Event::ChannelStateChange { .. }
        | Event::StasisEnd { .. }
        | Event::PlaybackStarted { .. }
        | Event::Other => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each event a call acts on, as Asterisk 22 sends it, and what the session
    /// is told.
    fn check(json: &str, expected: Option<ChannelEvent>) {
        let event: Event = serde_json::from_str(json).unwrap();
        assert_eq!(translate(&event), expected, "{json}");
    }

    const CHANNEL: &str = r#""channel":{"id":"c1","name":"PJSIP/carrier-1","state":"Up","caller":{"name":"","number":""},"connected":{"name":"","number":""},"accountcode":"","dialplan":{"context":"","exten":"","priority":1},"creationtime":"2026-11-21T19:00:00.000+0000","language":"he"}"#;

    #[test]
    fn ari_events_become_channel_events() {
        let ringing = CHANNEL.replace(r#""state":"Up""#, r#""state":"Ringing""#);
        check(
            &format!(r#"{{"type":"StasisStart","args":["call","c1"],{CHANNEL}}}"#),
            Some(ChannelEvent::Answered),
        );
        check(
            &format!(r#"{{"type":"StasisStart","args":["amd","MACHINE"],{CHANNEL}}}"#),
            Some(ChannelEvent::MachineDetection("MACHINE".to_owned())),
        );
        check(
            &format!(r#"{{"type":"ChannelStateChange",{ringing}}}"#),
            Some(ChannelEvent::Ringing),
        );
        check(
            &format!(r#"{{"type":"ChannelStateChange",{CHANNEL}}}"#),
            None,
        );
        check(
            &format!(r#"{{"type":"ChannelDtmfReceived","digit":"9","duration_ms":120,{CHANNEL}}}"#),
            Some(ChannelEvent::Key('9')),
        );
        check(
            &format!(r#"{{"type":"ChannelHangupRequest","cause":16,{CHANNEL}}}"#),
            Some(ChannelEvent::HangupRequested),
        );
        check(
            &format!(
                r#"{{"type":"ChannelDestroyed","cause":17,"cause_txt":"User busy",{CHANNEL}}}"#
            ),
            Some(ChannelEvent::Ended {
                cause: 17,
                cause_text: "User busy".to_owned(),
            }),
        );
        let peer = CHANNEL.replace(r#""channel""#, r#""peer""#);
        check(
            &format!(r#"{{"type":"Dial","dialstatus":"RINGING",{peer}}}"#),
            Some(ChannelEvent::Ringing),
        );
        check(
            &format!(r#"{{"type":"Dial","dialstatus":"BUSY",{peer}}}"#),
            Some(ChannelEvent::DialStatus("BUSY".to_owned())),
        );
        check(
            &format!(r#"{{"type":"Dial","dialstatus":"",{peer}}}"#),
            None,
        );
        check(
            r#"{"type":"PlaybackFinished","playback":{"id":"c1.3","media_uri":"sound:x","target_uri":"channel:c1","state":"done"}}"#,
            Some(ChannelEvent::PlaybackFinished {
                playback_id: "c1.3".to_owned(),
            }),
        );
        check(
            r#"{"type":"ChannelVarset","variable":"X","value":"1"}"#,
            None,
        );
    }
}
