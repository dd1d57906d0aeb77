//! The event half: a task that keeps the ARI WebSocket connected and forwards
//! what arrives, in order, as a [`Feed`].
//!
//! Design constraints:
//! - Asterisk may die, restart or be slow to start: the task reconnects by itself
//!   with exponential backoff (250 ms doubling to 10 s, reset after a connection
//!   that worked) and says so on the feed, so the layer above can stop dialing
//!   while the link is down and reconcile when it is back.
//! - `Connected` is sent only after the WebSocket handshake succeeded, which is
//!   when Asterisk has registered the application: from then on an answered call
//!   reaches the box.
//! - An event this crate cannot read is logged and skipped; it never ends the
//!   connection.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::model::Event;
use crate::{AriConfig, Result};

/// What the event task reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Feed {
    /// The socket is up and the application registered. `generation` counts
    /// connections: 1 for the first, more after each reconnect.
    Connected {
        generation: u64,
    },
    /// The socket went down (or could not be opened); the task keeps trying.
    Disconnected {
        error: String,
    },
    Event(Event),
}

/// The reconnecting event socket. Dropping it does not stop the task; cancel the
/// token given to [`EventSource::spawn`].
pub struct EventSource;

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl EventSource {
    /// Starts the task. It runs until `shutdown` is cancelled or the receiver of
    /// `feed` is dropped.
    pub fn spawn(
        config: &AriConfig,
        feed: mpsc::UnboundedSender<Feed>,
        shutdown: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>> {
        let url = config.events_url()?;
        let shown = config.url.clone();
        Ok(tokio::spawn(run(url, shown, feed, shutdown)))
    }
}

async fn run(
    url: String,
    shown_url: String,
    feed: mpsc::UnboundedSender<Feed>,
    shutdown: CancellationToken,
) {
    let mut generation = 0;
    let mut backoff = FIRST_BACKOFF;
    let mut reported_down = false;
    loop {
        let connected = tokio::select! {
            () = shutdown.cancelled() => return,
            result = tokio_tungstenite::connect_async(url.as_str()) => result,
        };
        match connected {
            Ok((mut socket, _response)) => {
                generation += 1;
                backoff = FIRST_BACKOFF;
                reported_down = false;
                tracing::info!(generation, url = %shown_url, "ARI event socket connected");
                if feed.send(Feed::Connected { generation }).is_err() {
                    return;
                }
                let error = loop {
                    let message = tokio::select! {
                        () = shutdown.cancelled() => {
                            let _ = socket.close(None).await;
                            return;
                        }
                        message = socket.next() => message,
                    };
                    match message {
                        Some(Ok(Message::Text(text))) => match serde_json::from_str::<Event>(&text)
                        {
                            Ok(Event::Other) => {}
                            Ok(event) => {
                                if feed.send(Feed::Event(event)).is_err() {
                                    return;
                                }
                            }
                            Err(error) => {
                                tracing::warn!(%error, "skipping an ARI event this version cannot read");
                            }
                        },
                        Some(Ok(Message::Ping(payload))) => {
                            let _ = socket.send(Message::Pong(payload)).await;
                        }
                        Some(Ok(Message::Close(frame))) => {
                            break format!(
                                "Asterisk closed the event socket{}",
                                frame.map(|f| format!(": {}", f.reason)).unwrap_or_default()
                            );
                        }
                        Some(Ok(_)) => {}
                        Some(Err(error)) => break format!("the event socket failed: {error}"),
                        None => break "Asterisk closed the event socket".to_owned(),
                    }
                };
                tracing::warn!(%error, "ARI event socket down; reconnecting");
                if feed.send(Feed::Disconnected { error }).is_err() {
                    return;
                }
            }
            Err(error) => {
                let error = describe(&error, &shown_url);
                if !reported_down {
                    tracing::warn!(%error, "cannot open the ARI event socket; retrying");
                    reported_down = true;
                    if feed.send(Feed::Disconnected { error }).is_err() {
                        return;
                    }
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// A connection error without the URL (it carries the password).
fn describe(error: &tokio_tungstenite::tungstenite::Error, shown_url: &str) -> String {
    use tokio_tungstenite::tungstenite::Error as E;
    match error {
        E::Http(response) if response.status() == 401 => format!(
            "Asterisk at {shown_url} refused the ARI credentials: check ari_user and ari_password"
        ),
        E::Http(response) => format!(
            "Asterisk at {shown_url} refused the event socket with HTTP {} (is the application name allowed and res_ari loaded?)",
            response.status()
        ),
        E::Io(io) => format!("cannot reach Asterisk's ARI at {shown_url}: {io}"),
        other => format!("cannot open the ARI event socket at {shown_url}: {other}"),
    }
}
