//! `shofar asterisk-config`: Asterisk's configuration for this box.

use std::process::ExitCode;

use anyhow::Context;
use shofar_telephony::render;

use crate::cli::AsteriskConfigArgs;
use crate::config::Config;
use crate::output::print_json;

pub fn config(config: &Config, args: AsteriskConfigArgs) -> anyhow::Result<ExitCode> {
    let files = render::render(&config.asterisk, &config.trunk)
        .context("cannot render the Asterisk configuration")?;
    if !args.write {
        for (name, text) in &files {
            crate::outln!(";;; ===== {name} =====\n{text}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let dir = args
        .dir
        .unwrap_or_else(|| config.asterisk.config_dir.clone());
    let written = render::write(&dir, &files).with_context(|| {
        format!(
            "cannot write the Asterisk configuration into {}",
            dir.display()
        )
    })?;
    crate::outln!(
        "wrote {} files into {}; reload Asterisk to use them (`asterisk -rx 'core reload'`)",
        written.len(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// What `asterisk-status` and the web UI's settings page show.
pub struct TelephonyStatus {
    pub version: String,
    pub trunk: String,
    /// `online`, `offline`, `unknown`, `missing` (no such endpoint), or why it
    /// could not be read.
    pub trunk_state: String,
    pub channels: usize,
}

/// Asks Asterisk (ARI) for its version, the trunk's state and its channels.
pub async fn telephony_status(config: &Config) -> anyhow::Result<TelephonyStatus> {
    let ari = config.asterisk.ari().context("cannot ask Asterisk")?;
    let trunk = config.trunk.name.clone();
    let client = shofar_ari::Client::new(ari)?;
    let info = client.asterisk_info().await?;
    let endpoint = client.endpoint("PJSIP", &trunk).await;
    let channels = client.channels().await?;
    let trunk_state = match &endpoint {
        Ok(endpoint) => endpoint.state.clone(),
        Err(error) if error.is_not_found() => "missing".to_owned(),
        Err(error) => format!("unknown ({error})"),
    };
    Ok(TelephonyStatus {
        version: info.version().to_owned(),
        trunk,
        trunk_state,
        channels: channels.len(),
    })
}

/// `shofar asterisk-status`: what an operator checks first when calls fail.
pub fn status(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let TelephonyStatus {
        version,
        trunk,
        trunk_state,
        channels,
    } = runtime.block_on(telephony_status(config))?;
    if json {
        print_json(&serde_json::json!({
            "asterisk": version,
            "trunk": trunk,
            "trunk_state": trunk_state,
            "channels": channels,
        }))?;
    } else {
        crate::outln!("Asterisk   {} (ARI {})", version, config.asterisk.ari_url);
        crate::outln!(
            "trunk      {trunk}: {trunk_state}{}",
            match trunk_state.as_str() {
                "missing" =>
                    " — Asterisk has no such endpoint: run `shofar asterisk-config --write` and reload",
                "offline" =>
                    " — the carrier does not answer OPTIONS: check host, port and firewall (docs/trunk.md)",
                "unknown" => " (qualify_seconds = 0: reachability is not checked)",
                _ => "",
            }
        );
        crate::outln!("channels   {channels} up");
    }
    Ok(ExitCode::SUCCESS)
}
