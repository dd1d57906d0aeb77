//! `shofar live`: the dashboard's figures in a terminal, from the live socket of a
//! running `shofar serve`.

use std::process::ExitCode;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::Value;
use shofar_store::calls::CallOutcome;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::App;
use crate::cli::LiveArgs;
use crate::output::thousands;

pub fn run(app: &App, args: LiveArgs) -> anyhow::Result<ExitCode> {
    let base = match &args.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let scheme = if app.config.http.tls { "https" } else { "http" };
            format!("{scheme}://{}", app.config.http.address()?)
        }
    };
    let (secure, rest) = match base.split_once("://") {
        Some(("http", rest)) => (false, rest),
        Some(("https", rest)) => (true, rest),
        _ => bail!("--url {base:?} is not an address like http://127.0.0.1:8080"),
    };
    let socket = format!("{}://{rest}/api/v1/live", if secure { "wss" } else { "ws" });
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
    let authority = rest.split('/').next().unwrap_or(rest).to_owned();
    // Over HTTPS, trust the box's own certificate (its self-signed one is in no
    // system store): --ca, else [http] tls_cert, else the one serve made.
    let tls = if secure {
        let ca = args
            .ca
            .clone()
            .or_else(|| app.config.http.tls_cert.clone())
            .unwrap_or_else(|| {
                shofar_web::server::self_signed(&crate::commands::serve::tls_dir(&app.data_dir))
                    .cert
            });
        Some(tls_connector(&ca, &authority)?)
    } else {
        None
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let refused = |error: tokio_tungstenite::tungstenite::Error| match error {
            tokio_tungstenite::tungstenite::Error::Http(response) => anyhow::anyhow!(
                "the box refused the live socket ({}): is the token right and not revoked?",
                response.status()
            ),
            other => {
                anyhow::anyhow!("cannot reach {socket}: {other}; is shofar serve running there?")
            }
        };
        let mut stream: Box<
            dyn futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
                + Unpin,
        > = match tls {
            None => Box::new(
                tokio_tungstenite::connect_async(request)
                    .await
                    .map_err(refused)?
                    .0,
            ),
            Some((connector, name)) => {
                let tcp = tokio::net::TcpStream::connect(&authority)
                    .await
                    .with_context(|| {
                        format!("cannot reach {authority}: is shofar serve running there?")
                    })?;
                let tls = connector.connect(name, tcp).await.with_context(|| {
                    format!(
                        "the TLS handshake with {authority} failed: is its certificate the one \
                         given with --ca (or [http] tls_cert)?"
                    )
                })?;
                Box::new(
                    tokio_tungstenite::client_async(request, tls)
                        .await
                        .map_err(refused)?
                        .0,
                )
            }
        };
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
                crate::outln!("{snapshot}");
            } else {
                crate::outln!("{}", line(&snapshot));
            }
            seen += 1;
            if args.count.is_some_and(|count| seen >= count) {
                break;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// A TLS client that trusts the certificates in the PEM file `ca`, and the name
/// the box's certificate must be valid for (the host of `authority`, an IP
/// address or a DNS name).
fn tls_connector(
    ca: &std::path::Path,
    authority: &str,
) -> anyhow::Result<(
    tokio_rustls::TlsConnector,
    rustls_pki_types::ServerName<'static>,
)> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, ServerName};
    use tokio_rustls::rustls;

    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(ca).with_context(|| {
        format!(
            "cannot read the certificate {} to trust the box by; give it with --ca FILE",
            ca.display()
        )
    })?;
    for certificate in certificates {
        let certificate =
            certificate.with_context(|| format!("{} is not a PEM certificate", ca.display()))?;
        roots
            .add(certificate)
            .with_context(|| format!("{} holds a certificate rustls refuses", ca.display()))?;
    }
    if roots.is_empty() {
        bail!(
            "{} holds no certificate; give the box's with --ca FILE",
            ca.display()
        );
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let name = ServerName::try_from(host.clone())
        .with_context(|| format!("{host:?} is not a host name or address"))?;
    Ok((
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)),
        name,
    ))
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
        let outcome = |outcome: CallOutcome| count(&figures["by_outcome"][outcome.as_str()]);
        out.push_str(&format!(
            " | {}: {} calls, answered {} ({}), busy {}, no answer {}, failed {}, converted {}, \
             opted out {}",
            campaign["name"].as_str().unwrap_or("?"),
            count(&figures["calls"]),
            count(&figures["answered"]),
            percent(&figures["answer_rate"]),
            outcome(CallOutcome::Busy),
            outcome(CallOutcome::NoAnswer),
            outcome(CallOutcome::Failed),
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
