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
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use shofar_dialer::health::SystemHealth;
use shofar_dialer::metrics::Metrics;
use shofar_dialer::test_calls::TestCallEngine;
use shofar_dialer::{Dialer, DialerConfig, DialerParts, DialerStatus};
use shofar_dnc::SharedDnc;
use shofar_scheduler::Scheduler;
use shofar_store::Store;
use shofar_telephony::{AriLink, Backend, CallPlanner, Simulator, Telephony};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use shofar_telephony::prompts::PromptLibrary;
use shofar_web::auth::{LoginThrottle, SessionPolicy};
use shofar_web::jobs::Jobs;
use shofar_web::live::{AlertLimits, Live};
use shofar_web::pool::StorePool;
use shofar_web::server::{self, Bound, ServeOptions, Timeouts, TlsFiles};
use shofar_web::sync::SyncFollower;
use shofar_web::{AppState, Shared, SystemProbe, WebConfig};

use crate::App;
use crate::cli::ServeArgs;
use crate::config::{BackendKind, Config};

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
    // Held until serve ends: `shofar db restore` refuses while it is.
    let _serving = match app.store.path().map(shofar_store::backup::serving) {
        Some(Ok(Some(claim))) => Some(claim),
        Some(Ok(None)) => {
            tracing::warn!("another shofar serve already runs on this database");
            None
        }
        Some(Err(error)) => {
            tracing::warn!(%error, "cannot make the serve lock file; a restore would not be refused while serving");
            None
        }
        None => None,
    };
    // A restore staged in the web UI is applied now, before anything reads the
    // database; only with the claim, so never under another serve.
    if let Some(claim) = &_serving {
        super::db::apply_pending_restore(app, claim)?;
    } else if shofar_store::backup::BackupFolder::in_data_dir(&app.data_dir).has_pending_restore() {
        tracing::warn!(
            "a restore is pending but another shofar serve holds the database; it waits"
        );
    }
    let mut config = app.config.clone();
    let stored = app
        .store
        .stored_settings()
        .context("cannot read the settings changed in the web UI")?;
    for change in config.apply_stored(&stored)? {
        tracing::info!(setting = %change, "using a setting changed in the web UI");
    }
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
    let web_dnc = dnc.clone();
    // Every call's and settlement's writes go through one writer thread.
    let (writer, writer_thread) = shofar_store::writer::spawn(Store::open(&db)?);
    let dialer_store = Store::open(&db)?;

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
    let planner = CallPlanner::new(
        &config.asterisk,
        config.trunk.clone(),
        config.normalizer()?,
        simulated,
    );
    let telephony = Telephony {
        backend: backend.clone(),
        writer,
        dnc,
        planner: Arc::new(planner),
        link_wait: Duration::from_secs(10),
    };
    let test_calls = Arc::new(TestCallEngine::new(
        telephony.clone(),
        db.clone(),
        prefix.clone(),
    ));
    let mut dialer_config = DialerConfig::new(config.dialer.ceiling()?, config.dialer.max_channels);
    dialer_config.thresholds = config.dialer.thresholds()?;
    dialer_config.grace = Duration::from_secs(u64::from(config.dialer.grace_seconds));
    dialer_config.call_prefix = prefix;
    // The sync agent's status file, followed by the live figures and shown on
    // /metrics too.
    let sync = SyncFollower::new();
    let mut metrics = Metrics::new();
    metrics.register_collector(Box::new(sync.metrics()));
    let metrics = Arc::new(metrics);
    let dialer = Dialer::new(DialerParts {
        config: dialer_config,
        telephony,
        store: dialer_store,
        scheduler: Scheduler::new(config.calendar.box_calendar()?),
        metrics: metrics.clone(),
        health: Box::new(SystemHealth::new()),
        dnc_cursor,
    })?;
    let status = dialer.status();

    // The names the box answers to: a self-signed certificate is made for them,
    // and the redirect to HTTPS keeps them (any other goes to the box's address).
    let mut names = certificate_names(listen);
    names.extend(config.http.host_names.iter().cloned());
    names.dedup();
    let tls = if config.http.tls {
        let configured = config
            .http
            .tls_cert
            .clone()
            .zip(config.http.tls_key.clone())
            .map(|(cert, key)| TlsFiles { cert, key });
        let (files, made) = server::certificate(configured, &tls_dir(&app.data_dir), &names)?;
        if made {
            eprintln!(
                "shofar serve: made a self-signed TLS certificate ({}); browsers will warn until \
                 it is replaced with the organization's own ([http] tls_cert, tls_key)",
                files.cert.display()
            );
        }
        Some(files)
    } else {
        None
    };
    let options = ServeOptions {
        tls,
        redirect: config.http.redirect_address()?,
        host_names: names,
        timeouts: Timeouts::default(),
    };
    let bound = Bound::bind(listen, options).await?;
    let listen = bound.address;
    let scheme = if bound.is_tls() { "https" } else { "http" };

    let pool = StorePool::open(&db, 4).context("cannot open the database for the web API")?;
    // The live figures read through a connection of their own: a flood of slow
    // requests must not make the dashboard wait (docs/benchmarks.md).
    let live_pool =
        StorePool::open(&db, 1).context("cannot open the database for the live figures")?;
    let jobs = Arc::new(Jobs::new(app.data_dir.join("uploads")));
    let thresholds = config.dialer.thresholds()?;
    let live = Live::new(
        Some(status.clone()),
        AlertLimits {
            cpu_percent: thresholds.cpu_high_percent,
            memory_percent: thresholds.memory_high_percent,
            load_per_core: thresholds.load_per_core_high,
            ..AlertLimits::default()
        },
        sync,
    );
    let state = AppState::new(Shared {
        config: web_config(&config, &app.data_dir, scheme == "https")?,
        pool: pool.clone(),
        dnc: web_dnc,
        throttle: LoginThrottle::default(),
        jobs: jobs.clone(),
        live,
        probe: Some(Arc::new(BoxProbe {
            // What runs: `--simulate` overrides the file's backend.
            config: Config {
                dialer: crate::config::DialerSection {
                    backend: if simulated {
                        BackendKind::Simulator
                    } else {
                        config.dialer.backend
                    },
                    ..config.dialer.clone()
                },
                ..config.clone()
            },
            simulated,
        })),
        calls: Some(test_calls.clone()),
    });
    let (router, _) = shofar_web::router(state.clone());
    let router = router.route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move { metrics_text(&metrics) }
        }),
    );
    let http_stop = CancellationToken::new();
    let live_task = tokio::spawn({
        let (state, stop) = (state.clone(), http_stop.clone());
        async move {
            let probe = state.probe.clone();
            let data_dir = state.config.data_dir.clone();
            state.live.run(live_pool, jobs, probe, data_dir, stop).await
        }
    });
    let http = tokio::spawn(bound.serve(router, http_stop.clone()));
    // Imports' upkeep (issue 15): what they left in the store and on disk.
    let housekeeping = tokio::spawn(shofar_web::jobs::housekeeping(
        db.clone(),
        app.data_dir.clone(),
        http_stop.clone(),
    ));
    first_run(app, listen, scheme)?;
    let dialing = tokio::spawn(dialer.run(shutdown.clone()));

    let engine = if simulated {
        "the simulator (nobody is called)"
    } else {
        "Asterisk"
    };
    tracing::info!(%listen, backend = backend.kind(), "shofar serve started");
    eprintln!(
        "shofar serve: dialing through {engine}; web UI and API at {scheme}://{listen}/ \
         (API /api/v1, metrics /metrics, health /healthz). Stop with Ctrl-C (active calls \
         finish first)."
    );
    notify(&[sd_notify::NotifyState::Ready]);
    let watchdog = spawn_watchdog(status.clone(), shutdown.clone());
    let reporter = (!quiet).then(|| spawn_reporter(status.clone(), shutdown.clone()));

    let result = dialing.await;
    notify(&[sd_notify::NotifyState::Stopping]);
    shutdown.cancel();
    http_stop.cancel();
    test_calls.shut_down().await;
    engine_stop.cancel();
    backend.finished().await;
    let _ = live_task.await;
    let _ = housekeeping.await;
    match http.await {
        Ok(Err(error)) => tracing::error!(%error, "the web server failed"),
        Err(error) => tracing::error!(%error, "the web server task failed"),
        Ok(Ok(())) => {}
    }
    if let Some(watchdog) = watchdog {
        watchdog.abort();
    }
    if let Some(reporter) = reporter {
        reporter.abort();
    }
    // The last writes (the dialer's and the test calls') are in; the writer
    // commits what is queued and ends.
    drop(state);
    drop(test_calls);
    let _ = tokio::task::spawn_blocking(move || writer_thread.stop()).await;
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

fn metrics_text(metrics: &Metrics) -> impl IntoResponse + use<> {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
}

/// The names a self-signed certificate is made for: the listen address (unless
/// it is every address), the host's name, and loopback.
fn certificate_names(listen: SocketAddr) -> Vec<String> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    if !listen.ip().is_unspecified() && !listen.ip().is_loopback() {
        names.push(listen.ip().to_string());
    }
    if let Ok(host) = std::fs::read_to_string("/etc/hostname") {
        let host = host.trim();
        if !host.is_empty() {
            names.push(host.to_owned());
            names.push(format!("{host}.local"));
        }
    }
    names.dedup();
    names
}

/// The web layer's part of the configuration.
fn web_config(
    config: &Config,
    data_dir: &std::path::Path,
    secure_cookies: bool,
) -> anyhow::Result<WebConfig> {
    Ok(WebConfig {
        data_dir: data_dir.to_owned(),
        normalizer: config.normalizer()?,
        box_calendar: config.calendar.box_calendar()?,
        duplicates: config.import.duplicates,
        invalid_rows_in_summary: config.import.invalid_rows_in_summary,
        prompts: PromptLibrary {
            sounds_dir: config.asterisk.sounds_dir.clone(),
            asterisk_dir: config.asterisk.asterisk_sounds_dir().to_owned(),
        },
        sessions: SessionPolicy {
            idle: chrono::Duration::hours(i64::from(config.http.session_idle_hours)),
            absolute: chrono::Duration::days(i64::from(config.http.session_days)),
        },
        secure_cookies,
        zone: chrono_tz::Asia::Jerusalem,
        max_upload_bytes: config.http.max_upload_mb * 1024 * 1024,
        max_audio_bytes: config.http.max_audio_mb * 1024 * 1024,
        max_backup_bytes: config.http.max_backup_mb * 1024 * 1024,
    })
}

/// On a box with no user yet: a one-time link to create the first admin,
/// printed once (and in the log), valid for a day. No default password exists.
fn first_run(app: &mut App, listen: SocketAddr, scheme: &str) -> anyhow::Result<()> {
    if app.store.user_count()? > 0 {
        return Ok(());
    }
    let secret = shofar_web::auth::random_hex(24);
    let now = chrono::Utc::now();
    app.store.setup_token_create(
        &shofar_web::auth::secret_hash(&secret),
        now,
        now + chrono::Duration::hours(24),
    )?;
    let host = if listen.ip().is_unspecified() {
        format!("127.0.0.1:{}", listen.port())
    } else {
        listen.to_string()
    };
    let url = format!("{scheme}://{host}/setup?token={secret}");
    tracing::warn!(setup_url = %url, "no user yet: the first admin is created with this one-time link");
    eprintln!(
        "shofar serve: no user yet. Within 24 hours, open {url}\n  to create the first admin \
         (or POST {{\"token\": \"{secret}\", \"name\": …, \"password\": …}} to \
         {scheme}://{host}/api/v1/setup), or run `shofar user add NAME --role admin`."
    );
    Ok(())
}

/// What the settings page shows of Asterisk and the configuration.
struct BoxProbe {
    config: Config,
    simulated: bool,
}

impl SystemProbe for BoxProbe {
    fn telephony_status(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = serde_json::Value> + Send + '_>> {
        Box::pin(async move {
            if self.simulated {
                return serde_json::json!({
                    "engine": "simulator",
                    "reachable": true,
                    "note": "the simulated network: nobody is called",
                });
            }
            let asked = tokio::time::timeout(
                Duration::from_secs(3),
                crate::commands::asterisk::telephony_status(&self.config),
            )
            .await;
            match asked {
                Ok(Ok(status)) => serde_json::json!({
                    "engine": "asterisk",
                    "reachable": true,
                    "version": status.version,
                    "trunk": status.trunk,
                    "trunk_state": status.trunk_state,
                    "channels": status.channels,
                }),
                Ok(Err(error)) => serde_json::json!({
                    "engine": "asterisk",
                    "reachable": false,
                    "error": format!("{error:#}"),
                }),
                Err(_) => serde_json::json!({
                    "engine": "asterisk",
                    "reachable": false,
                    "error": "Asterisk did not answer within 3 s",
                }),
            }
        })
    }

    fn configuration(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }
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
            // A plain sleep, not a select on `shutdown`: once it is cancelled its
            // future is always ready, and the loop spun — pinging without pause
            // and never yielding, so `abort()` never landed, the runtime could
            // not be dropped, and `systemctl stop shofar` ended in SIGKILL after
            // TimeoutStopSec (seen running shofar.service, issue 16). Winding
            // down is pinged at the same pace; the task is aborted at the end.
            tokio::time::sleep(interval).await;
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
                        .as_ref()
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

/// Where `shofar serve` keeps its self-signed certificate: `DATA_DIR/tls`.
pub fn tls_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("tls")
}
