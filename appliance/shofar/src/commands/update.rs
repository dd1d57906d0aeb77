//! `shofar update`: updates of the appliance image (shofar_update).

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use shofar_update::{UpdateState, Updates};

use crate::cli::UpdateCommand;
use crate::output::print_json;

/// How long `install` waits for the installer's answer: checking a bundle's
/// signature reads all of it, and writing a slot takes minutes on a slow disk.
const WAIT: Duration = Duration::from_secs(20 * 60);

pub fn run(data_dir: &Path, command: UpdateCommand) -> anyhow::Result<ExitCode> {
    let updates = Updates::new(data_dir);
    match command {
        UpdateCommand::Install { bundle, no_wait } => install(&updates, &bundle, no_wait),
        UpdateCommand::Status { json } => status(&updates, json),
        UpdateCommand::Reboot => {
            updates.request_reboot()?;
            crate::outln!("rebooting into the installed update");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn install(updates: &Updates, bundle: &Path, no_wait: bool) -> anyhow::Result<ExitCode> {
    let mut file = std::fs::File::open(bundle)
        .with_context(|| format!("cannot read the bundle {}", bundle.display()))?;
    let bytes = updates.submit(&mut file)?;
    crate::outln!(
        "handed {} ({} MB) to the installer",
        bundle.display(),
        bytes / 1_000_000
    );
    if no_wait {
        return Ok(ExitCode::SUCCESS);
    }
    let started = Instant::now();
    let mut said = None;
    loop {
        if let Some(last) = updates.last()? {
            if said.as_ref() != Some(&last.state) {
                crate::outln!("{}", last.message);
                said = Some(last.state);
            }
            if last.state.is_final() {
                return Ok(match last.state {
                    UpdateState::Installed => {
                        crate::outln!("reboot into it with `shofar update reboot`");
                        ExitCode::SUCCESS
                    }
                    _ => ExitCode::from(2),
                });
            }
        }
        if started.elapsed() > WAIT {
            anyhow::bail!(
                "the installer has not finished after {} minutes; see `journalctl -u shofar-update` \
                 and `shofar update status`",
                WAIT.as_secs() / 60
            );
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn status(updates: &Updates, json: bool) -> anyhow::Result<ExitCode> {
    let running = shofar_update::running();
    let last = updates.last()?;
    if json {
        print_json(&serde_json::json!({
            "available": updates.available(),
            "running": running,
            "last": last,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if !updates.available() {
        crate::outln!(
            "not the appliance image: updates come with the Debian package (apt install ./shofar_VERSION_amd64.deb)"
        );
        return Ok(ExitCode::SUCCESS);
    }
    crate::outln!(
        "running    {} from slot {}",
        running.version.as_deref().unwrap_or("(unknown version)"),
        running.slot.as_deref().unwrap_or("(unknown)")
    );
    match last {
        Some(last) => crate::outln!(
            "last       {}{}",
            last.message,
            last.at.map(|at| format!(" ({at})")).unwrap_or_default()
        ),
        None => crate::outln!("last       no update was installed"),
    }
    Ok(ExitCode::SUCCESS)
}
