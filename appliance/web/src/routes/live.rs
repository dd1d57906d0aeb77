//! `/api/v1/live`: the dashboard's figures pushed over a WebSocket whenever they
//! change; `/api/v1/status`: the same snapshot once, for scripts.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use tokio::sync::watch;

use chrono::Utc;

use crate::auth::{Analyst, Caller, Credential};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::Json;
use crate::live::LiveSnapshot;
use crate::state::AppState;

/// The live figures now: calls up, queue, dialing rate, counts and rates per
/// campaign and in total, health and alerts, running imports.
#[utoipa::path(
    get, path = "/api/v1/status", operation_id = "live_status", tag = "live",
    responses((status = 200, body = LiveSnapshot))
)]
pub async fn status(State(state): State<AppState>, _: Caller<Analyst>) -> Json<LiveSnapshot> {
    Json((*state.live.current()).clone())
}

/// A page served from one origin opens its socket to the same host; a socket
/// opened from another site's page is refused (the cookie is SameSite=Strict
/// too, but a browser's WebSocket handshake deserves its own check).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Not a browser (curl, a script with a token).
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

/// Live figures over a WebSocket: a `LiveSnapshot` JSON message at once, then
/// another whenever a figure changes (and every 5 s regardless).
#[utoipa::path(
    get, path = "/api/v1/live", operation_id = "live_live", tag = "live",
    responses(
        (status = 101, description = "Switched to a WebSocket; each message is a LiveSnapshot", body = LiveSnapshot)
    )
)]
pub async fn live(
    State(state): State<AppState>,
    caller: Caller<Analyst>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::bad_request(format!(
            "connect with a WebSocket (ws:// or wss://): {}",
            rejection.body_text()
        ))
    })?;
    if !same_origin(&headers) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "the live socket only serves pages of this box",
        ));
    }
    let updates = state.live.subscribe();
    let credential = caller.credential.clone();
    Ok(upgrade.on_upgrade(move |socket| stream(socket, updates, state, credential)))
}

/// How often an open socket checks that its login still holds.
const RECHECK: Duration = Duration::from_secs(15);

/// Whether the session or token the socket was opened with still lets it in.
async fn still_allowed(state: &AppState, credential: &Credential) -> bool {
    let now = Utc::now();
    let credential = credential.clone();
    state
        .pool
        .run(move |store| {
            Ok(match &credential {
                Credential::Session(session) => store.session_alive(session.id, now)?,
                Credential::Token(token) => store.token_alive(token.id, now)?,
            })
        })
        .await
        // A database hiccup is not a logout.
        .unwrap_or(true)
}

async fn stream(
    mut socket: WebSocket,
    mut updates: watch::Receiver<Arc<LiveSnapshot>>,
    state: AppState,
    credential: Credential,
) {
    let mut current = updates.borrow_and_update().clone();
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.tick().await;
    loop {
        let text = match serde_json::to_string(&*current) {
            Ok(text) => text,
            Err(error) => {
                tracing::error!(%error, "cannot serialize the live snapshot");
                return;
            }
        };
        if socket.send(Message::Text(text.into())).await.is_err() {
            return;
        }
        loop {
            tokio::select! {
                changed = updates.changed() => {
                    if changed.is_err() {
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                    current = updates.borrow_and_update().clone();
                    break;
                }
                _ = recheck.tick() => {
                    if !still_allowed(&state, &credential).await {
                        // Logged out, expired, revoked or disabled: the figures stop.
                        let _ = socket
                            .send(Message::Close(Some(CloseFrame {
                                code: 4401,
                                reason: "the session has ended; log in again".into(),
                            })))
                            .await;
                        return;
                    }
                }
                message = socket.recv() => match message {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    // Pings are answered by axum; anything else is ignored.
                    Some(Ok(_)) => {}
                },
            }
        }
    }
}
