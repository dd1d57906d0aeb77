//! The broker connection: mutual TLS, a persistent session named after the box,
//! manual acknowledgements of what arrives. One task owns the connection and
//! reports what happens as [`LinkEvent`]s; after any error it throws the client
//! away and makes a new one (after a pause that grows to a minute), so nothing
//! rumqttc held in memory survives a loss: the agent's own lanes send again
//! whatever was not acknowledged.

use std::time::Duration;

use anyhow::Context;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, Publish, Transport};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::MqttConfig;

/// What the connection task tells the agent.
#[derive(Debug)]
pub enum LinkEvent {
    /// Connected; `session_present` says whether the broker kept the session (and
    /// with it the messages queued while the box was away).
    Up {
        client: AsyncClient,
        session_present: bool,
    },
    /// A publish of ours was written to the socket with this packet id (in the
    /// order the agent published).
    Sent(u16),
    /// The broker acknowledged that packet id.
    Acked(u16),
    /// A message arrived (to be acknowledged with `client.ack` once applied).
    Message(Publish),
    /// The connection is gone.
    Down(String),
}

/// Reads the TLS files and makes the options (client id = the box id, so the
/// broker's persistent session is this box's).
pub fn options(
    config: &MqttConfig,
    client_id: &str,
    max_inflight: u16,
) -> anyhow::Result<MqttOptions> {
    let read = |path: &std::path::Path, what: &str| {
        std::fs::read(path).with_context(|| {
            format!(
                "cannot read the {what} {} ([sync] in shofar.toml; the files must be readable by the shofar user)",
                path.display()
            )
        })
    };
    let ca = read(&config.ca, "broker CA")?;
    let cert = read(&config.cert, "box certificate")?;
    let key = read(&config.key, "box key")?;
    let mut options = MqttOptions::new(client_id, config.host.clone(), config.port);
    options
        .set_transport(Transport::tls(ca, Some((cert, key)), None))
        .set_keep_alive(Duration::from_secs(30))
        .set_clean_session(false)
        .set_manual_acks(true)
        .set_inflight(max_inflight)
        .set_request_channel_capacity(usize::from(max_inflight) * 2)
        // AWS IoT Core's payload limit is 128 KiB; a packet adds the topic and a header.
        .set_max_packet_size(132 * 1024, 132 * 1024);
    Ok(options)
}

/// Runs the connection until `stop`: connect, report, poll, and on any error
/// report `Down`, wait, and start over with a fresh client.
pub async fn run(options: MqttOptions, events: mpsc::Sender<LinkEvent>, stop: CancellationToken) {
    let mut pause = Duration::from_secs(1);
    loop {
        let (client, eventloop) = AsyncClient::new(options.clone(), 200);
        let closer = client.clone();
        let outcome = tokio::select! {
            _ = stop.cancelled() => {
                // Best effort: a clean DISCONNECT keeps the session on the broker.
                let _ = closer.try_disconnect();
                return;
            }
            outcome = drive(client, eventloop, &events, &mut pause) => outcome,
        };
        if events.send(LinkEvent::Down(outcome)).await.is_err() {
            return;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_secs(60));
    }
}

/// Polls one connection until it fails; returns why.
async fn drive(
    client: AsyncClient,
    mut eventloop: EventLoop,
    events: &mpsc::Sender<LinkEvent>,
    pause: &mut Duration,
) -> String {
    let mut client = Some(client);
    loop {
        let event = match eventloop.poll().await {
            Ok(event) => event,
            Err(error) => return error.to_string(),
        };
        let report = match event {
            Event::Incoming(Packet::ConnAck(ack)) => {
                *pause = Duration::from_secs(1);
                client.take().map(|client| LinkEvent::Up {
                    client,
                    session_present: ack.session_present,
                })
            }
            Event::Incoming(Packet::PubAck(ack)) => Some(LinkEvent::Acked(ack.pkid)),
            Event::Incoming(Packet::Publish(publish)) => Some(LinkEvent::Message(publish)),
            Event::Outgoing(Outgoing::Publish(pkid)) => Some(LinkEvent::Sent(pkid)),
            _ => None,
        };
        if let Some(report) = report
            && events.send(report).await.is_err()
        {
            return "the agent is stopping".into();
        }
    }
}
