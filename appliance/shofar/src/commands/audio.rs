//! `shofar audio`: prompts converted once to what the trunk plays.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};
use shofar_audio::Converted;
use shofar_telephony::prompts::{FORMATS, PromptLibrary, valid_name};

use crate::App;
use crate::cli::AudioCommand;
use crate::output::print_json;

fn library(app: &App) -> PromptLibrary {
    PromptLibrary {
        sounds_dir: app.config.asterisk.sounds_dir.clone(),
        asterisk_dir: app.config.asterisk.asterisk_sounds_dir().to_owned(),
    }
}

pub fn run(app: &mut App, command: AudioCommand) -> anyhow::Result<ExitCode> {
    match command {
        AudioCommand::Add {
            name,
            file,
            campaign,
        } => {
            if !valid_name(&name) {
                bail!(
                    "{name:?} is not a prompt name: use letters (Hebrew or English), digits, spaces, '.', '-' or '_' (at most 64)"
                );
            }
            let folder = match campaign {
                Some(key) => format!("campaign-{}", app.store.resolve_campaign(&key)?.0),
                None => "prompts".to_owned(),
            };
            let library = library(app);
            let converted = convert(&library, &file, &folder, &name)?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let digest: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            // The register the web UI lists prompts from.
            app.store.audio_register(
                &format!("{folder}/{name}"),
                &library.folder(&folder).display().to_string(),
                (converted.duration_seconds * 1000.0).round() as i64,
                &digest,
                &app.actor,
            )?;
            crate::outln!(
                "{folder}/{name}: {:.1} s from {} ({} Hz, {} channel{}), peak {:.1} dBFS{}",
                converted.duration_seconds,
                file.display(),
                converted.source.sample_rate,
                converted.source.channels,
                if converted.source.channels == 1 {
                    ""
                } else {
                    "s"
                },
                converted.peak_dbfs,
                if converted.silent {
                    " — warning: it is almost silent; check the recording"
                } else {
                    ""
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        AudioCommand::List { json } => {
            let library = library(app);
            let prompts = list(&library.sounds_dir)?;
            if json {
                print_json(&prompts)?;
            } else if prompts.is_empty() {
                crate::outln!(
                    "no prompts in {} yet: add them with `shofar audio add NAME FILE`",
                    library.sounds_dir.display()
                );
            } else {
                for prompt in &prompts {
                    crate::outln!("{}/{}", prompt.folder, prompt.name);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn convert(
    library: &PromptLibrary,
    file: &Path,
    folder: &str,
    name: &str,
) -> anyhow::Result<Converted> {
    library
        .convert(file, folder, name)
        .map_err(anyhow::Error::msg)
}

#[derive(Debug, Serialize)]
struct Prompt {
    folder: String,
    name: String,
}

fn list(sounds_dir: &PathBuf) -> anyhow::Result<Vec<Prompt>> {
    let mut prompts = Vec::new();
    let Ok(folders) = std::fs::read_dir(sounds_dir) else {
        return Ok(prompts);
    };
    for folder in folders.flatten().filter(|e| e.path().is_dir()) {
        let folder_name = folder.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(folder.path())?.flatten() {
            let path = file.path();
            if path.extension().and_then(|e| e.to_str()) == Some(FORMATS[0])
                && let Some(stem) = path.file_stem()
            {
                prompts.push(Prompt {
                    folder: folder_name.clone(),
                    name: stem.to_string_lossy().into_owned(),
                });
            }
        }
    }
    prompts.sort_by(|a, b| (&a.folder, &a.name).cmp(&(&b.folder, &b.name)));
    Ok(prompts)
}
