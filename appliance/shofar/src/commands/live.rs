//! `shofar live`: the dashboard's figures in a terminal, from the live socket of a
//! running `shofar serve`.

use std::process::ExitCode;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::App;
use crate::cli::LiveArgs;
use crate::output::thousands;

pub fn run(app: &App, args: LiveArgs) -> anyhow::Result<ExitCode> {
    let base = match &args.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", app.config.http.address()?),
    };
    let socket = match base.split_once("://") {
        Some(("http", rest)) => format!("ws://{rest}/api/v1/live"),
        Some(("https", _)) => bail!(
            "shofar live speaks plain HTTP; on the box, give the plain address (or read \
             {base}/api/v1/status with curl)"
        ),
        _ => bail!("--url {base:?} is not an address like http://127.0.0.1:8080"),
    };
    let mut request = socket
        .as_str()
        .into_client_request()
        .with_context(|| format!("{socket} is not a usable address"))?;
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", args.token.trim())
            .parse()
            .context("the token has characters a header cannot carry")?,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let (mut stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|error| match error {
                tokio_tungstenite::tungstenite::Error::Http(response) => anyhow::anyhow!(
                    "the box refused the live socket ({}): is the token right and not revoked?",
                    response.status()
                ),
                other => anyhow::anyhow!(
                    "cannot reach {socket}: {other}; is shofar serve running there?"
                ),
            })?;
        let mut seen = 0u64;
        while let Some(message) = stream.next().await {
            let text = match message.context("the live socket failed")? {
                Message::Text(text) => text,
                Message::Close(frame) => {
                    let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                    bail!("the box closed the live socket {reason}");
                }
                _ => continue,
            };
            let snapshot: Value = serde_json::from_str(&text).context("an unreadable snapshot")?;
            if args.json {
                println!("{snapshot}");
            } else {
                println!("{}", line(&snapshot));
            }
            seen += 1;
            if args.count.is_some_and(|count| seen >= count) {
                break;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn count(value: &Value) -> String {
    thousands(value.as_u64().unwrap_or(0))
}

fn percent(value: &Value) -> String {
    value
        .as_f64()
        .map_or_else(|| "-".to_owned(), |rate| format!("{:.0} %", rate * 100.0))
}

/// One snapshot as a line of text.
fn line(snapshot: &Value) -> String {
    let time = snapshot["at"]
        .as_str()
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map(|at| {
            at.with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_default();
    let mut out = format!(
        "{time} calls up {}, {:.0}/s, queue {}",
        count(&snapshot["active_calls"]),
        snapshot["dialing_rate"].as_f64().unwrap_or(0.0),
        count(&snapshot["queue_depth"])
    );
    for campaign in snapshot["campaigns"].as_array().into_iter().flatten() {
        let figures = &campaign["figures"];
        let outcome = |name: &str| count(&figures["by_outcome"][name]);
        out.push_str(&format!(
            " | {}: {} calls, answered {} ({}), busy {}, no answer {}, failed {}, converted {}, \
             opted out {}",
            campaign["name"].as_str().unwrap_or("?"),
            count(&figures["calls"]),
            count(&figures["answered"]),
            percent(&figures["answer_rate"]),
            outcome("busy"),
            outcome("no_answer"),
            outcome("failed"),
            count(&figures["converted"]),
            count(&figures["opted_out"]),
        ));
    }
    for alert in snapshot["alerts"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "\n  ! {}: {}",
            alert["severity"].as_str().unwrap_or(""),
            alert["message"].as_str().unwrap_or("")
        ));
    }
    out
}
