//! `shofar serve`: the long-running supervisor. Runs every active campaign
//! through the dialer, serves `/healthz` and `/metrics`, and stops gracefully on
//! SIGTERM or Ctrl-C: no new calls, active calls finish (or are ended after the
//! grace), every record closed.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use parking_lot::Mutex;
use shofar_dialer::health::SystemHealth;
use shofar_dialer::metrics::Metrics;
use shofar_dialer::{Dialer, DialerConfig, DialerParts, DialerStatus};
use shofar_dnc::SharedDnc;
use shofar_scheduler::Scheduler;
use shofar_store::Store;
use shofar_telephony::{AriLink, Backend, Simulator, Telephony};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::App;
use crate::cli::ServeArgs;
use crate::commands::call::{Overrides, call_template};
use crate::config::BackendKind;

pub fn run(app: &mut App, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let listen: SocketAddr = match &args.listen {
        Some(listen) => listen.parse().with_context(|| {
            format!("--listen {listen:?} is not an ADDRESS:PORT such as 127.0.0.1:8080")
        })?,
        None => app.config.http.address()?,
    };
    let backend_kind = if args.simulate {
        BackendKind::Simulator
    } else {
        app.config.dialer.backend
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("shofar")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(app, listen, backend_kind, args.quiet))
}

async fn serve(
    app: &mut App,
    listen: SocketAddr,
    backend_kind: BackendKind,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let config = app.config.clone();
    let shutdown = CancellationToken::new();
    // The engine outlives the dialer's shutdown: calls finish during the grace.
    let engine_stop = CancellationToken::new();
    spawn_signal_handler(shutdown.clone())?;

    let db = app.data_dir.join("shofar.db");
    let (index, dnc_cursor) = app
        .store
        .load_dnc()
        .context("cannot load the do-not-call list")?;
    let dnc = SharedDnc::new(index);
    let calls_store = Arc::new(Mutex::new(Store::open(&db)?));
    let dialer_store = Arc::new(Mutex::new(Store::open(&db)?));

    let app_name = config.asterisk.app.clone();
    let prefix = format!("{app_name}-d-");
    let backend: Arc<dyn Backend> = match backend_kind {
        BackendKind::Asterisk => {
            let ari = config
                .asterisk
                .ari()
                .context("cannot run campaigns through Asterisk ([asterisk] in shofar.toml)")?;
            Arc::new(AriLink::start(ari, &prefix, engine_stop.clone())?)
        }
        BackendKind::Simulator => Arc::new(Simulator::new(
            config.simulator.clone(),
            &app_name,
            &prefix,
            engine_stop.clone(),
        )?),
    };
    let simulated = backend_kind == BackendKind::Simulator;
    let telephony = Telephony {
        backend: backend.clone(),
        store: calls_store,
        dnc,
        link_wait: Duration::from_secs(10),
    };
    let mut dialer_config = DialerConfig::new(config.dialer.ceiling()?, config.dialer.max_channels);
    dialer_config.thresholds = config.dialer.thresholds()?;
    dialer_config.grace = Duration::from_secs(u64::from(config.dialer.grace_seconds));
    dialer_config.call_prefix = prefix;
    let template_config = config.clone();
    let trunk = config.trunk.clone();
    let metrics = Arc::new(Metrics::new());
    let dialer = Dialer::new(DialerParts {
        config: dialer_config,
        telephony,
        store: dialer_store,
        scheduler: Scheduler::new(config.calendar.box_calendar()?),
        prepare: Arc::new(move |campaign| {
            call_template(
                &template_config,
                Some(campaign),
                &Overrides::default(),
                simulated,
            )
            .map_err(|error| format!("{error:#}"))
        }),
        endpoint_for: Arc::new(move |number| trunk.endpoint(number)),
        metrics: metrics.clone(),
        health: Box::new(SystemHealth::new()),
        dnc_cursor,
    })?;
    let status = dialer.status();

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {listen}: is another shofar serve running? Choose another \
             address with --listen or [http] listen"
            )
        })?;
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .with_state(Served {
            metrics,
            status: status.clone(),
        });
    let http_stop = CancellationToken::new();
    let http = tokio::spawn({
        let http_stop = http_stop.clone();
        async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { http_stop.cancelled().await })
                .await
        }
    });
    let dialing = tokio::spawn(dialer.run(shutdown.clone()));

    let engine = if simulated {
        "the simulator (nobody is called)"
    } else {
        "Asterisk"
    };
    tracing::info!(%listen, backend = backend.kind(), "shofar serve started");
    eprintln!(
        "shofar serve: dialing through {engine}; metrics at http://{listen}/metrics, health at \
         http://{listen}/healthz. Stop with Ctrl-C (active calls finish first)."
    );
    notify(&[sd_notify::NotifyState::Ready]);
    let watchdog = spawn_watchdog(status.clone(), shutdown.clone());
    let reporter = (!quiet).then(|| spawn_reporter(status.clone(), shutdown.clone()));

    let result = dialing.await;
    notify(&[sd_notify::NotifyState::Stopping]);
    shutdown.cancel();
    http_stop.cancel();
    engine_stop.cancel();
    let _ = http.await;
    if let Some(watchdog) = watchdog {
        watchdog.abort();
    }
    if let Some(reporter) = reporter {
        reporter.abort();
    }
    let summary = result
        .context("the dialer task failed")?
        .context("the dialer stopped")?;
    tracing::info!(
        calls_started = summary.calls_started,
        calls_ended = summary.calls_ended,
        calls_cut = summary.calls_cut,
        calls_left_open = summary.calls_left_open,
        "shofar serve stopped"
    );
    eprintln!(
        "shofar serve: stopped. {} calls placed, {} ended{}{}.",
        summary.calls_started,
        summary.calls_ended,
        if summary.calls_cut > 0 {
            format!(
                ", {} ended early because the grace period ran out",
                summary.calls_cut
            )
        } else {
            String::new()
        },
        if summary.calls_left_open > 0 {
            format!(
                "; {} still open (the next start closes them)",
                summary.calls_left_open
            )
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone)]
struct Served {
    metrics: Arc<Metrics>,
    status: watch::Receiver<DialerStatus>,
}

async fn healthz(State(served): State<Served>) -> impl IntoResponse {
    let status = served.status.borrow().clone();
    let body = serde_json::json!({
        "status": if status.telephony_up { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "backend": status.backend,
        "telephony_up": status.telephony_up,
        "active_calls": status.active,
        "campaigns_running": status.campaigns.iter().filter(|c| c.running).count(),
    });
    (StatusCode::OK, axum::Json(body))
}

async fn metrics_text(State(served): State<Served>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        served.metrics.render(),
    )
}

fn spawn_signal_handler(shutdown: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "stopping: no new calls");
        eprintln!("shofar serve: {name}: stopping — no new calls; active calls finish first");
        shutdown.cancel();
        // A second signal: stop at once (the next start closes what is open). One
        // within a second of the first is the same signal delivered twice (to the
        // process and to its group, as `timeout` does), not a second request.
        let first = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
            if first.elapsed() >= Duration::from_secs(1) {
                break;
            }
        }
        eprintln!("shofar serve: second signal: exiting now");
        std::process::exit(130);
    });
    Ok(())
}

fn notify(state: &[sd_notify::NotifyState<'_>]) {
    if let Err(error) = sd_notify::notify(false, state) {
        tracing::debug!(%error, "sd_notify failed");
    }
}

/// Under systemd with `WatchdogSec=`, pings while the dialer's loop is alive
/// (its status snapshot is fresh), so a hung loop gets the process restarted.
fn spawn_watchdog(
    status: watch::Receiver<DialerStatus>,
    shutdown: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut usec = 0;
    if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
        return None;
    }
    let interval = Duration::from_micros(usec) / 2;
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = tokio::time::sleep(interval) => {}
            }
            let at = status.borrow().at;
            // Fresh: published in the last 10 s; before the first one (waiting for
            // Asterisk), alive enough.
            let fresh = at.is_none_or(|at| chrono::Utc::now() - at < chrono::Duration::seconds(10));
            if fresh || shutdown.is_cancelled() {
                notify(&[sd_notify::NotifyState::Watchdog]);
            } else {
                tracing::error!(
                    "the dialer loop has not reported for 10 s; not pinging the watchdog"
                );
            }
        }
    }))
}

/// Prints a line of figures every 10 s (stderr), so a terminal shows progress.
fn spawn_reporter(
    status: watch::Receiver<DialerStatus>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let interactive = std::io::stderr().is_terminal();
    tokio::spawn(async move {
        let period = if interactive {
            Duration::from_secs(5)
        } else {
            Duration::from_secs(30)
        };
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
            let status = status.borrow().clone();
            if status.at.is_none() {
                eprintln!("shofar serve: waiting for the telephony engine …");
                continue;
            }
            let mut line = format!(
                "shofar serve: {} calls up, {:.0}/s dialing (pace {:.1}/s of {:.1}), cpu {:.0} %",
                status.active,
                status.dial_rate_cps,
                status.pace_cps,
                status.ceiling_cps,
                status.cpu_percent
            );
            for campaign in &status.campaigns {
                let answered = campaign.ended.get("answered").copied().unwrap_or(0)
                    + campaign.ended.get("opted_out").copied().unwrap_or(0);
                let ended: u64 = campaign.ended.values().sum();
                line.push_str(&format!(
                    "; #{} {}: {} up, {} dialed, {} answered of {} ended{}",
                    campaign.campaign.0,
                    campaign.name,
                    campaign.active,
                    campaign.started,
                    answered,
                    ended,
                    campaign
                        .problem
                        .as_deref()
                        .map(|p| format!(" — cannot call: {p}"))
                        .unwrap_or_default()
                ));
            }
            if status.campaigns.is_empty() {
                line.push_str("; no campaign is active (`shofar campaign start NAME`)");
            }
            eprintln!("{line}");
        }
    })
}
