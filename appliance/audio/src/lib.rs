//! Campaign audio: an uploaded WAV or MP3 converted once into the files
//! Asterisk plays to a SIP trunk without transcoding.
//!
//! [`convert_bytes`] (or [`convert_file`]) takes any common WAV (8/16/24/32-bit
//! integer or float PCM, any rate from 4 to 384 kHz, any channel count) or
//! MP3, and writes into the output directory:
//!
//! - `NAME.ulaw`: raw G.711 μ-law, 8000 Hz mono, no header;
//! - `NAME.alaw`: raw G.711 A-law, 8000 Hz mono, no header;
//! - `NAME.sln`: raw signed 16-bit little-endian, 8000 Hz mono.
//!
//! Asterisk, given `sound:NAME` without an extension, picks the file that
//! matches the channel's codec, so whichever of alaw or ulaw the trunk
//! negotiates is played as is.
//!
//! # Guarantees
//!
//! - **Format by content.** WAV and MP3 are recognised from their bytes; the
//!   file name plays no part. Anything else is refused with an error naming
//!   the accepted formats.
//! - **All or nothing.** The three files are written under hidden temporary
//!   names and renamed into place only once all are complete, so Asterisk
//!   never plays a half-written file and a failed conversion leaves nothing
//!   behind. `NAME` is checked before it touches a path (see [`validate_stem`]).
//! - **No panics, bounded work.** Any input, however malformed, yields
//!   `Ok` or an [`AudioError`] (property-tested on random and damaged
//!   files); as a second line of defence, a panic inside a third-party
//!   decoder is caught (with the default `panic = "unwind"`) and reported as
//!   a damaged file. Input size is capped by [`Limits::max_bytes`] and
//!   decoded length by [`Limits::max_seconds`]; decoded audio is converted
//!   as it streams, so only the input bytes and the 8 kHz result are held in
//!   memory, never the full-rate signal.
//! - **Faithful signal.** Channels are averaged to mono; the rate is changed
//!   with a band-limited (anti-aliased) FFT resampler, so duration and pitch
//!   are preserved and content above 4 kHz is removed rather than folded
//!   back. G.711 codes are the ITU-T ones, identical to Asterisk's encoder.
//! - **Actionable errors.** Every error message says what is wrong and what a
//!   staff member can do about it.
//!
//! The crate does no logging and has no global state; limits are passed in.
#![forbid(unsafe_code)]

mod decode;
mod g711;
mod output;
mod resample;
mod sniff;

use std::fmt;
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

pub use g711::{linear_to_alaw, linear_to_ulaw};

/// The rate every output file is written at, in Hz.
pub const TELEPHONE_RATE: u32 = 8_000;

/// Below this peak level (dBFS) a recording is flagged [`Converted::silent`].
pub const SILENT_BELOW_DBFS: f64 = -50.0;

/// The peak reported for digital silence, instead of −∞, so the value is
/// always a finite number.
pub const SILENCE_PEAK_DBFS: f64 = -120.0;

/// The longest accepted file name stem.
pub const MAX_STEM_LEN: usize = 64;

/// Caps on what one upload may cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest accepted input, in bytes. Default 50 MiB.
    pub max_bytes: u64,
    /// Longest accepted audio, in seconds. Default 600 (ten minutes).
    pub max_seconds: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 50 * 1024 * 1024,
            max_seconds: 600.0,
        }
    }
}

/// The container/codec of an upload, as recognised from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    Wav,
    Mp3,
}

impl SourceFormat {
    fn extension(self) -> &'static str {
        match self {
            SourceFormat::Wav => "wav",
            SourceFormat::Mp3 => "mp3",
        }
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceFormat::Wav => "WAV",
            SourceFormat::Mp3 => "MP3",
        })
    }
}

/// What an upload is, from its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    pub format: SourceFormat,
    /// In Hz.
    pub sample_rate: u32,
    pub channels: u16,
}

/// The result of a successful conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// Length of the converted audio, in seconds.
    pub duration_seconds: f64,
    pub source: SourceInfo,
    /// `NAME.ulaw`, `NAME.alaw`, `NAME.sln`, in that order.
    pub files: Vec<PathBuf>,
    /// Peak level of the converted audio, in dBFS (0 is full scale);
    /// [`SILENCE_PEAK_DBFS`] for digital silence.
    pub peak_dbfs: f64,
    /// The peak is below [`SILENT_BELOW_DBFS`]: the recording is probably
    /// blank or far too quiet. Not an error; the UI should warn.
    pub silent: bool,
}

/// Where in a damaged file the damage was found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CorruptAt {
    /// In the header, before any audio.
    Header,
    /// This many seconds into the audio.
    Seconds(f64),
}

impl fmt::Display for CorruptAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorruptAt::Header => f.write_str("in its header"),
            CorruptAt::Seconds(seconds) => write!(f, "{seconds:.1} s into the audio"),
        }
    }
}

const ACCEPTED: &str = "accepted formats are WAV (PCM) and MP3";

/// Why an upload could not be converted. Messages are written for the staff
/// member who uploaded the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    #[error(
        "audio name {stem:?} is not usable: {problem}; use 1 to {MAX_STEM_LEN} letters, \
         digits, '.', '_' or '-', not starting with '.'"
    )]
    InvalidStem { stem: String, problem: &'static str },

    #[error("the file is empty (0 bytes); choose the recording again and re-upload it")]
    Empty,

    #[error(
        "the file is not audio this system can read (its content is neither WAV nor MP3, \
         whatever its name says); {ACCEPTED}: export or save the recording in one of \
         those and upload it again"
    )]
    NotAudio,

    #[error(
        "the file is {size_bytes} bytes, over the limit of {limit_bytes} bytes; \
         shorten the recording or save it as MP3, then upload it again"
    )]
    TooLarge { size_bytes: u64, limit_bytes: u64 },

    #[error(
        "the recording is {seconds:.1} seconds long, over the limit of {limit_seconds} \
         seconds; shorten it and upload it again"
    )]
    TooLong { seconds: f64, limit_seconds: f64 },

    #[error(
        "the {format} file contains no audio (zero length); check the recording plays, \
         export it again and re-upload it"
    )]
    NoAudio { format: SourceFormat },

    #[error(
        "the {format} file is incomplete: it should be {expected_bytes} bytes but is \
         {actual_bytes}; the upload or the export was cut off, upload the file again"
    )]
    Truncated {
        format: SourceFormat,
        expected_bytes: u64,
        actual_bytes: u64,
    },

    #[error(
        "the {format} file is damaged {at} ({detail}); check that it plays on a computer, \
         export it again and re-upload it"
    )]
    Corrupt {
        format: SourceFormat,
        at: CorruptAt,
        detail: String,
    },

    #[error(
        "the {format} file uses an encoding this system cannot convert ({detail}); \
         {ACCEPTED}: re-export it as 16-bit PCM WAV or as MP3"
    )]
    UnsupportedEncoding {
        format: SourceFormat,
        detail: String,
    },

    #[error(
        "the {format} file's sample rate is {rate} Hz, outside the supported 4000 to \
         384000 Hz; re-export it at a standard rate such as 44100 or 8000 Hz"
    )]
    UnsupportedSampleRate { format: SourceFormat, rate: u32 },

    #[error("could not read {path}: {source}; check that the file exists and is readable")]
    ReadInput {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "could not write {path}: {source}; check that the audio directory exists, is \
         writable by the Shofar service and the disk is not full"
    )]
    WriteOutput {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("internal error while converting audio ({0}); please report this with the file")]
    Internal(String),
}

/// Checks that `stem` is safe to use as a file name stem: 1 to
/// [`MAX_STEM_LEN`] characters from `[A-Za-z0-9._-]`, not starting with `.`
/// (so no hidden files and no `..`).
pub fn validate_stem(stem: &str) -> Result<(), AudioError> {
    let problem = if stem.is_empty() {
        Some("it is empty")
    } else if stem.len() > MAX_STEM_LEN {
        Some("it is too long")
    } else if stem.starts_with('.') {
        Some("it starts with '.'")
    } else if !stem
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        Some("it contains a character other than letters, digits, '.', '_' or '-'")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(AudioError::InvalidStem {
            stem: stem.to_owned(),
            problem,
        }),
        None => Ok(()),
    }
}

/// Identifies an upload from its content and reads its header, without
/// decoding the audio.
pub fn probe(bytes: &[u8]) -> Result<SourceInfo, AudioError> {
    let format = recognise(bytes)?;
    guarded(format, || decode::probe(bytes, format))
}

/// [`probe`] for a file on disk; reads at most `limits.max_bytes`.
pub fn probe_file(path: &Path, limits: &Limits) -> Result<SourceInfo, AudioError> {
    probe(&read_limited(path, limits)?)
}

/// Converts the audio file at `input`; see [`convert_bytes`].
pub fn convert_file(
    input: &Path,
    out_dir: &Path,
    stem: &str,
    limits: &Limits,
) -> Result<Converted, AudioError> {
    validate_stem(stem)?;
    let bytes = read_limited(input, limits)?;
    convert_bytes(&bytes, out_dir, stem, limits)
}

/// Converts an uploaded WAV or MP3 into `out_dir/stem.{ulaw,alaw,sln}`,
/// replacing any earlier files of that name.
pub fn convert_bytes(
    input: &[u8],
    out_dir: &Path,
    stem: &str,
    limits: &Limits,
) -> Result<Converted, AudioError> {
    validate_stem(stem)?;
    check_size(input.len() as u64, limits)?;
    let format = recognise(input)?;
    let decoded = guarded(format, || decode::decode(input, format, limits))?;
    if decoded.samples.is_empty() {
        return Err(AudioError::NoAudio { format });
    }
    let samples: Vec<i16> = decoded.samples.iter().map(|s| to_i16(*s)).collect();
    let peak_dbfs = peak_dbfs(&samples);
    let files = output::write_all(out_dir, stem, &samples)?;
    Ok(Converted {
        duration_seconds: samples.len() as f64 / f64::from(TELEPHONE_RATE),
        source: decoded.source,
        files,
        peak_dbfs,
        silent: peak_dbfs < SILENT_BELOW_DBFS,
    })
}

fn check_size(size_bytes: u64, limits: &Limits) -> Result<(), AudioError> {
    if size_bytes > limits.max_bytes {
        return Err(AudioError::TooLarge {
            size_bytes,
            limit_bytes: limits.max_bytes,
        });
    }
    Ok(())
}

fn recognise(bytes: &[u8]) -> Result<SourceFormat, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::Empty);
    }
    let format = sniff::sniff(bytes).ok_or(AudioError::NotAudio)?;
    if format == SourceFormat::Wav {
        sniff::check_wav_complete(bytes)?;
    }
    Ok(format)
}

/// Reads a whole file, refusing it once it is known to exceed the limit
/// (without reading more than one byte past it).
fn read_limited(path: &Path, limits: &Limits) -> Result<Vec<u8>, AudioError> {
    let read_error = |source| AudioError::ReadInput {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(limits.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    let size_bytes = match std::fs::metadata(path) {
        Ok(metadata) => metadata.len().max(bytes.len() as u64),
        Err(_) => bytes.len() as u64,
    };
    check_size(size_bytes, limits)?;
    Ok(bytes)
}

/// Runs third-party decoding so that a panic inside it (a decoder bug
/// triggered by a malformed file) becomes an error for this one upload.
fn guarded<T>(
    format: SourceFormat,
    work: impl FnOnce() -> Result<T, AudioError>,
) -> Result<T, AudioError> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| {
        Err(AudioError::Corrupt {
            format,
            at: CorruptAt::Header,
            detail: "the decoder could not make sense of it".to_owned(),
        })
    })
}

fn to_i16(sample: f32) -> i16 {
    // `as` saturates and maps NaN to 0; the resampler can overshoot full
    // scale slightly on clipped sources.
    (sample * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16
}

fn peak_dbfs(samples: &[i16]) -> f64 {
    let peak = samples
        .iter()
        .map(|s| i32::from(*s).unsigned_abs())
        .max()
        .unwrap_or(0);
    if peak == 0 {
        SILENCE_PEAK_DBFS
    } else {
        (20.0 * (f64::from(peak) / 32_768.0).log10()).max(SILENCE_PEAK_DBFS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems() {
        for good in ["welcome", "campaign-12_v2.final", "A", &"x".repeat(64)] {
            assert!(validate_stem(good).is_ok(), "{good:?} should be accepted");
        }
        for (bad, problem) in [
            ("", "it is empty"),
            (".hidden", "it starts with '.'"),
            ("..", "it starts with '.'"),
            ("a/b", "it contains a character"),
            ("../etc/passwd", "it starts with '.'"),
            ("with space", "it contains a character"),
            ("shalom-שלום", "it contains a character"),
            (&"x".repeat(65), "it is too long"),
        ] {
            let message = validate_stem(bad).unwrap_err().to_string();
            assert!(message.contains(problem), "{bad:?}: {message}");
        }
    }

    #[test]
    fn peak_levels() {
        assert_eq!(peak_dbfs(&[]), SILENCE_PEAK_DBFS);
        assert_eq!(peak_dbfs(&[0, 0]), SILENCE_PEAK_DBFS);
        assert!((peak_dbfs(&[i16::MIN]) - 0.0).abs() < 1e-9);
        assert!((peak_dbfs(&[16_384, -3]) - -6.0206).abs() < 1e-3);
    }

    #[test]
    fn float_to_i16_saturates() {
        assert_eq!(to_i16(0.0), 0);
        assert_eq!(to_i16(1.5), i16::MAX);
        assert_eq!(to_i16(-1.5), i16::MIN);
        assert_eq!(to_i16(f32::NAN), 0);
        assert_eq!(to_i16(0.5), 16_384);
    }
}
