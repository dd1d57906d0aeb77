//! Writing the three Asterisk files so that they appear whole or not at all.
//!
//! Each file is written and fsynced under a hidden temporary name in the
//! output directory (hidden, so `sound:NAME` can never match it), then
//! renamed into place. A rename within one directory is atomic, so Asterisk
//! sees either the old file or the complete new one. Temporary files are
//! removed when anything fails.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::AudioError;
use crate::g711::{linear_to_alaw, linear_to_ulaw};

/// Writes `NAME.ulaw`, `NAME.alaw` and `NAME.sln` and returns their paths,
/// in that order.
pub(crate) fn write_all(
    out_dir: &Path,
    stem: &str,
    samples: &[i16],
) -> Result<Vec<PathBuf>, AudioError> {
    let ulaw: Vec<u8> = samples.iter().map(|s| linear_to_ulaw(*s)).collect();
    let alaw: Vec<u8> = samples.iter().map(|s| linear_to_alaw(*s)).collect();
    let sln: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let contents = [("ulaw", ulaw), ("alaw", alaw), ("sln", sln)];

    // Everything is written before anything is renamed, so a full disk or
    // an I/O error leaves no new file behind.
    let mut staged = Vec::with_capacity(contents.len());
    for (extension, bytes) in &contents {
        let final_path = out_dir.join(format!("{stem}.{extension}"));
        let temporary = write_temporary(out_dir, stem, extension, bytes)?;
        staged.push((temporary, final_path));
    }

    let mut published: Vec<PathBuf> = Vec::with_capacity(staged.len());
    for (temporary, final_path) in staged {
        if let Err(error) = temporary.persist(&final_path) {
            // Undo the renames already done, so that a failed conversion
            // does not leave a mix of formats from this upload.
            for path in &published {
                let _ = std::fs::remove_file(path);
            }
            return Err(AudioError::WriteOutput {
                path: final_path,
                source: error.error,
            });
        }
        published.push(final_path);
    }

    // Make the renames themselves durable across a power cut.
    File::open(out_dir)
        .and_then(|directory| directory.sync_all())
        .map_err(|source| AudioError::WriteOutput {
            path: out_dir.to_path_buf(),
            source,
        })?;
    Ok(published)
}

fn write_temporary(
    out_dir: &Path,
    stem: &str,
    extension: &str,
    bytes: &[u8],
) -> Result<tempfile::NamedTempFile, AudioError> {
    let error = |source| AudioError::WriteOutput {
        path: out_dir.join(format!(".{stem}.{extension}.tmp")),
        source,
    };
    let prefix = format!(".{stem}.{extension}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // tempfile creates 0600 files; Asterisk usually runs as its own user and
    // must be able to read what we publish.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut file = builder.tempfile_in(out_dir).map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    Ok(file)
}
