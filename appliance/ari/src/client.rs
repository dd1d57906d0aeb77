//! The REST half: one method per ARI call the box makes.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::model::{AsteriskInfo, Channel, Endpoint, Playback};
use crate::{AriError, Result};

/// Where ARI is and who the box is to it.
#[derive(Clone)]
pub struct AriConfig {
    /// Asterisk's HTTP server, e.g. `http://127.0.0.1:8088` (the `/ari` prefix is
    /// added here).
    pub url: String,
    pub user: String,
    pub password: String,
    /// The Stasis application name the box registers.
    pub app: String,
}

impl std::fmt::Debug for AriConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password stays out of logs and error reports.
        f.debug_struct("AriConfig")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}

impl AriConfig {
    fn base(&self) -> Result<String> {
        let url = self.url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(AriError::Config(format!(
                "ari_url {url:?} must start with http:// (e.g. http://127.0.0.1:8088)"
            )));
        }
        if self.app.is_empty()
            || !self
                .app
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(AriError::Config(format!(
                "the Stasis application name {:?} must be letters, digits, - or _",
                self.app
            )));
        }
        Ok(format!("{url}/ari"))
    }

    /// The event WebSocket's URL (with the credentials, so never log it).
    pub(crate) fn events_url(&self) -> Result<String> {
        let base = self.base()?;
        let ws = base
            .replacen("http://", "ws://", 1)
            .replacen("https://", "wss://", 1);
        Ok(format!(
            "{ws}/events?app={}&api_key={}:{}&subscribeAll=false",
            encode(&self.app),
            encode(&self.user),
            encode(&self.password)
        ))
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A call to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Originate {
    /// The channel id the caller chose (reconciliation finds the call by it).
    pub channel_id: String,
    /// E.g. `PJSIP/0525551234@trunk`.
    pub endpoint: String,
    /// Arguments the Stasis application receives on answer.
    pub app_args: Vec<String>,
    /// `"Name" <number>` or just the number.
    pub caller_id: Option<String>,
    /// Seconds to wait for an answer.
    pub timeout_seconds: u32,
    /// Channel variables, e.g. `PJSIP_HEADER(add,X-Campaign)`.
    pub variables: BTreeMap<String, String>,
}

/// The REST client. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    config: AriConfig,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

impl Client {
    pub fn new(config: AriConfig) -> Result<Client> {
        let base = config.base()?;
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| AriError::Config(e.to_string()))?;
        Ok(Client { http, base, config })
    }

    pub fn config(&self) -> &AriConfig {
        &self.config
    }

    pub fn app(&self) -> &str {
        &self.config.app
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<serde_json::Value>,
        action: &str,
    ) -> Result<reqwest::Response> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.config.user, Some(&self.config.password))
            .query(query);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| AriError::Unreachable {
            url: self.config.url.clone(),
            detail: without_url(&e),
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let message = response
            .json::<ErrorBody>()
            .await
            .map(|b| b.message)
            .unwrap_or_default();
        Err(match status {
            StatusCode::UNAUTHORIZED => AriError::Unauthorized {
                user: self.config.user.clone(),
            },
            StatusCode::NOT_FOUND => AriError::NotFound {
                what: if message.is_empty() {
                    action.to_owned()
                } else {
                    format!("{action} ({message})")
                },
            },
            _ => AriError::Rejected {
                action: action.to_owned(),
                status: status.as_u16(),
                message,
            },
        })
    }

    async fn json<T: DeserializeOwned>(
        &self,
        response: reqwest::Response,
        action: &str,
    ) -> Result<T> {
        response.json::<T>().await.map_err(|e| AriError::Decode {
            action: action.to_owned(),
            detail: without_url(&e),
        })
    }

    /// `GET /asterisk/info`: also the cheapest check that ARI is up and the
    /// credentials are right.
    pub async fn asterisk_info(&self) -> Result<AsteriskInfo> {
        let action = "asterisk info";
        let response = self
            .send(Method::GET, "/asterisk/info", &[], None, action)
            .await?;
        self.json(response, action).await
    }

    /// Places a call into the application. The caller must hold the event
    /// socket up: a call answered while no socket listens is dropped by Asterisk.
    pub async fn originate(&self, call: &Originate) -> Result<Channel> {
        let action = "originate";
        let timeout = call.timeout_seconds.to_string();
        let app_args = call.app_args.join(",");
        let mut query = vec![
            ("endpoint", call.endpoint.as_str()),
            ("app", self.config.app.as_str()),
            ("channelId", call.channel_id.as_str()),
            ("timeout", timeout.as_str()),
        ];
        if !app_args.is_empty() {
            query.push(("appArgs", app_args.as_str()));
        }
        if let Some(caller_id) = &call.caller_id {
            query.push(("callerId", caller_id.as_str()));
        }
        let body = serde_json::json!({ "variables": call.variables });
        let response = self
            .send(Method::POST, "/channels", &query, Some(body), action)
            .await?;
        self.json(response, action).await
    }

    /// Hangs a channel up with a normal-clearing cause. `Ok(false)` when it was
    /// already gone.
    pub async fn hangup(&self, channel_id: &str) -> Result<bool> {
        let path = format!("/channels/{}", encode(channel_id));
        match self
            .send(
                Method::DELETE,
                &path,
                &[("reason", "normal")],
                None,
                "hang up",
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Starts playing `media` (`sound:…`, `tone:…`) on a channel, under a playback
    /// id the caller chose.
    pub async fn play(&self, channel_id: &str, playback_id: &str, media: &str) -> Result<Playback> {
        let action = "play";
        let path = format!(
            "/channels/{}/play/{}",
            encode(channel_id),
            encode(playback_id)
        );
        let response = self
            .send(Method::POST, &path, &[("media", media)], None, action)
            .await?;
        self.json(response, action).await
    }

    /// Stops a playback. `Ok(false)` when it had already finished.
    pub async fn stop_playback(&self, playback_id: &str) -> Result<bool> {
        let path = format!("/playbacks/{}", encode(playback_id));
        match self
            .send(Method::DELETE, &path, &[], None, "stop playback")
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// An endpoint, e.g. (`PJSIP`, `trunk`).
    pub async fn endpoint(&self, technology: &str, resource: &str) -> Result<Endpoint> {
        let action = "read an endpoint";
        let path = format!("/endpoints/{}/{}", encode(technology), encode(resource));
        let response = self.send(Method::GET, &path, &[], None, action).await?;
        self.json(response, action).await
    }

    /// Every channel Asterisk has now.
    pub async fn channels(&self) -> Result<Vec<Channel>> {
        let action = "list channels";
        let response = self
            .send(Method::GET, "/channels", &[], None, action)
            .await?;
        self.json(response, action).await
    }

    /// Sends a channel out of the application into the dialplan (it comes back
    /// with a new StasisStart when the dialplan calls `Stasis()` again).
    pub async fn continue_in_dialplan(
        &self,
        channel_id: &str,
        context: &str,
        extension: &str,
    ) -> Result<()> {
        let path = format!("/channels/{}/continue", encode(channel_id));
        self.send(
            Method::POST,
            &path,
            &[
                ("context", context),
                ("extension", extension),
                ("priority", "1"),
            ],
            None,
            "continue in the dialplan",
        )
        .await?;
        Ok(())
    }

    /// Creates a mixing bridge under an id the caller chose.
    pub async fn create_bridge(&self, bridge_id: &str) -> Result<()> {
        self.send(
            Method::POST,
            "/bridges",
            &[("type", "mixing"), ("bridgeId", bridge_id)],
            None,
            "create a bridge",
        )
        .await?;
        Ok(())
    }

    pub async fn add_to_bridge(&self, bridge_id: &str, channel_id: &str) -> Result<()> {
        let path = format!("/bridges/{}/addChannel", encode(bridge_id));
        self.send(
            Method::POST,
            &path,
            &[("channel", channel_id)],
            None,
            "add to a bridge",
        )
        .await?;
        Ok(())
    }

    /// Destroys a bridge; `Ok(false)` when it was already gone.
    pub async fn destroy_bridge(&self, bridge_id: &str) -> Result<bool> {
        let path = format!("/bridges/{}", encode(bridge_id));
        match self
            .send(Method::DELETE, &path, &[], None, "destroy a bridge")
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Starts ringing indication on a channel (the caller hears ringback while an
    /// agent is dialed).
    pub async fn ring(&self, channel_id: &str) -> Result<()> {
        let path = format!("/channels/{}/ring", encode(channel_id));
        self.send(Method::POST, &path, &[], None, "ring").await?;
        Ok(())
    }
}

/// A reqwest error's text without its URL, which may carry the ARI password in
/// a query string.
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_connect() {
        "connection refused or unreachable"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_decode() {
        "the body is not the JSON expected"
    } else {
        "request failed"
    };
    match std::error::Error::source(error) {
        Some(source) => format!("{kind}: {source}"),
        None => kind.to_owned(),
    }
}

/// Makes ring the process's TLS crypto provider, if none is yet. ARI is plain HTTP
/// on loopback, but a workspace build compiles reqwest with rustls and no provider
/// of its own (the sync agent's S3 client needs TLS), and such a reqwest refuses
/// to build any client — TLS or not — until a provider is installed. Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AriConfig {
        AriConfig {
            url: "http://127.0.0.1:8088/".into(),
            user: "shofar".into(),
            password: "p&ss word".into(),
            app: "shofar".into(),
        }
    }

    #[test]
    fn the_events_url_escapes_the_credentials() {
        assert_eq!(
            config().events_url().unwrap(),
            "ws://127.0.0.1:8088/ari/events?app=shofar&api_key=shofar:p%26ss%20word&subscribeAll=false"
        );
    }

    #[test]
    fn a_bad_url_or_app_is_refused_with_the_reason() {
        let mut bad = config();
        bad.url = "127.0.0.1:8088".into();
        assert!(
            bad.base()
                .unwrap_err()
                .to_string()
                .contains("must start with http://")
        );
        let mut bad = config();
        bad.app = "sho far".into();
        assert!(
            bad.base()
                .unwrap_err()
                .to_string()
                .contains("letters, digits")
        );
    }

    #[test]
    fn the_password_is_not_in_debug_output() {
        assert!(!format!("{:?}", config()).contains("p&ss"));
    }
}
