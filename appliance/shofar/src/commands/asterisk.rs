//! `shofar asterisk-config`: Asterisk's configuration for this box.

use std::process::ExitCode;

use anyhow::Context;
use shofar_telephony::render;

use crate::App;
use crate::cli::AsteriskConfigArgs;

pub fn config(app: &App, args: AsteriskConfigArgs) -> anyhow::Result<ExitCode> {
    let files = render::render(&app.config.asterisk, &app.config.trunk)
        .context("cannot render the Asterisk configuration")?;
    if !args.write {
        for (name, text) in &files {
            println!(";;; ===== {name} =====\n{text}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let dir = args
        .dir
        .unwrap_or_else(|| app.config.asterisk.config_dir.clone());
    let written = render::write(&dir, &files).with_context(|| {
        format!(
            "cannot write the Asterisk configuration into {}",
            dir.display()
        )
    })?;
    println!(
        "wrote {} files into {}; reload Asterisk to use them (`asterisk -rx 'core reload'`)",
        written.len(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
