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

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use shofar_ari::{AriConfig, Client, Event, EventSource, Feed, Originate};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::TelephonyError;
use crate::backend::{Backend, CallSignal, Link};

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
        EventSource::spawn(&config, feed_tx, shutdown.clone())?;
        let (link_tx, link_rx) = watch::channel(Link::Down { error: None });
        let routes: Routes = Arc::default();
        tokio::spawn(route(
            client.clone(),
            routes.clone(),
            feed_rx,
            link_tx,
            prefix.to_owned(),
            shutdown,
        ));
        Ok(AriLink {
            client,
            routes,
            link: link_rx,
            prefix: prefix.to_owned(),
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

    async fn originate(&self, call: &Originate) -> Result<(), TelephonyError> {
        self.client.originate(call).await?;
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

    async fn continue_in_dialplan(
        &self,
        channel_id: &str,
        context: &str,
        extension: &str,
    ) -> Result<(), TelephonyError> {
        Ok(self
            .client
            .continue_in_dialplan(channel_id, context, extension)
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
                        let _ = sender.send(CallSignal::Ari(event));
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
        let _ = sender.send(CallSignal::Vanished {
            detail: "the channel no longer exists in Asterisk (Asterisk restarted or the call ended while the supervisor was disconnected)".to_owned(),
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
