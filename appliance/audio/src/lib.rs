//! Campaign audio: an uploaded WAV or MP3, converted once to what a G.711 trunk
//! plays without transcoding.
//!
//! Guarantees:
//! - The output is 8 kHz mono in three raw formats Asterisk reads by extension:
//!   `NAME.ulaw` (G.711 μ-law), `NAME.alaw` (G.711 A-law) and `NAME.sln` (16-bit
//!   linear), band-limited before resampling so nothing above 4 kHz folds back.
//! - Files appear whole or not at all: each is written to a temporary name and
//!   renamed; a failed conversion leaves nothing behind.
//! - The type is read from the content, never from the file name; limits on
//!   size and length are checked before the work.
//! - No input makes it panic.
#![forbid(unsafe_code)]

mod g711;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use rubato::{FftFixedIn, Resampler};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

pub use g711::{alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear};

/// The rate every output file has.
pub const OUTPUT_RATE: u32 = 8000;

/// Below this peak a recording is flagged as silent.
pub const SILENT_DBFS: f64 = -50.0;

/// How much a conversion accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_seconds: f64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 50 * 1024 * 1024,
            max_seconds: 600.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Wav,
    Mp3,
}

/// What the input was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceInfo {
    pub format: Format,
    pub sample_rate: u32,
    pub channels: u16,
}

/// What a conversion made.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    pub duration_seconds: f64,
    pub source: SourceInfo,
    pub files: Vec<PathBuf>,
    pub peak_dbfs: f64,
    /// The peak is below [`SILENT_DBFS`]: probably a bad recording.
    pub silent: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("this is not a WAV or MP3 file: upload a .wav or .mp3 recording")]
    Unsupported,
    #[error(
        "the file is {actual} bytes; at most {limit} bytes are accepted — shorten or compress the recording"
    )]
    TooLarge { actual: u64, limit: u64 },
    #[error("the recording is {actual:.1} s long; at most {limit:.0} s are accepted")]
    TooLong { actual: f64, limit: f64 },
    #[error("the recording has no sound in it (zero length)")]
    Empty,
    #[error(
        "the {format:?} file is damaged ({detail}); export it again from the recording program"
    )]
    Corrupt { format: Format, detail: String },
    #[error(
        "{name:?} is not a usable name: use letters, digits, '.', '-' or '_' (at most 64, not starting with '.')"
    )]
    BadName { name: String },
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Reads the type from the first bytes.
fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        return Some(Format::Wav);
    }
    if bytes.starts_with(b"ID3") {
        return Some(Format::Mp3);
    }
    // An MPEG audio frame header: 11 sync bits, layer III.
    if bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0 && bytes[1] & 0x06 == 0x02 {
        return Some(Format::Mp3);
    }
    None
}

fn valid_stem(stem: &str) -> bool {
    !stem.is_empty()
        && stem.len() <= 64
        && !stem.starts_with('.')
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// Decoded audio: mono samples in -1.0..=1.0 at the source rate.
struct Decoded {
    info: SourceInfo,
    mono: Vec<f32>,
}

fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, AudioError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(AudioError::TooLarge {
            actual: bytes.len() as u64,
            limit: limits.max_bytes,
        });
    }
    let format_kind = sniff(bytes).ok_or(AudioError::Unsupported)?;
    let corrupt = |detail: String| AudioError::Corrupt {
        format: format_kind,
        detail,
    };
    let stream = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(match format_kind {
        Format::Wav => "wav",
        Format::Mp3 => "mp3",
    });
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| corrupt(e.to_string()))?;
    let mut reader = probed.format;
    let track = reader
        .default_track()
        .ok_or_else(|| corrupt("no audio track".to_owned()))?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| corrupt(e.to_string()))?;
    let mut sample_rate = params.sample_rate.unwrap_or(0);
    let mut channels = params.channels.map_or(0, |c| c.count()) as u16;
    let mut mono = Vec::new();
    loop {
        let packet = match reader.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(corrupt(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A damaged frame in an MP3 is skipped, as players do.
            Err(SymphoniaError::DecodeError(_)) if format_kind == Format::Mp3 => continue,
            Err(e) => return Err(corrupt(e.to_string())),
        };
        let spec = *decoded.spec();
        sample_rate = spec.rate;
        channels = spec.channels.count() as u16;
        if channels == 0 || sample_rate == 0 {
            return Err(corrupt("no channels or no sample rate".to_owned()));
        }
        let mut buffer = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
        buffer.copy_interleaved_ref(decoded);
        for frame in buffer.samples().chunks(usize::from(channels)) {
            mono.push(frame.iter().sum::<f32>() / f32::from(channels));
        }
        let seconds = mono.len() as f64 / f64::from(sample_rate);
        if seconds > limits.max_seconds {
            return Err(AudioError::TooLong {
                actual: seconds,
                limit: limits.max_seconds,
            });
        }
    }
    if mono.is_empty() || sample_rate == 0 {
        return Err(AudioError::Empty);
    }
    Ok(Decoded {
        info: SourceInfo {
            format: format_kind,
            sample_rate,
            channels,
        },
        mono,
    })
}

/// Resamples mono audio to 8 kHz; the output has exactly the input's duration.
fn resample(mono: &[f32], from: u32) -> Result<Vec<f32>, String> {
    if from == OUTPUT_RATE {
        return Ok(mono.to_vec());
    }
    let input: Vec<f64> = mono.iter().map(|&s| f64::from(s)).collect();
    let expected = (input.len() as u64 * u64::from(OUTPUT_RATE) / u64::from(from)) as usize;
    let chunk = 1024;
    let mut resampler = FftFixedIn::<f64>::new(from as usize, OUTPUT_RATE as usize, chunk, 2, 1)
        .map_err(|e| e.to_string())?;
    let delay = resampler.output_delay();
    let mut output = Vec::with_capacity(expected + delay + chunk);
    let mut position = 0;
    while input.len() - position >= resampler.input_frames_next() {
        let needed = resampler.input_frames_next();
        let out = resampler
            .process(&[&input[position..position + needed]], None)
            .map_err(|e| e.to_string())?;
        output.extend_from_slice(&out[0]);
        position += needed;
    }
    // The tail, then zeros until the resampler's delay has been flushed out.
    let tail = resampler
        .process_partial(Some(&[&input[position..]]), None)
        .map_err(|e| e.to_string())?;
    output.extend_from_slice(&tail[0]);
    while output.len() < expected + delay {
        let out = resampler
            .process_partial::<&[f64]>(None, None)
            .map_err(|e| e.to_string())?;
        if out[0].is_empty() {
            break;
        }
        output.extend_from_slice(&out[0]);
    }
    let mut output: Vec<f32> = output
        .into_iter()
        .skip(delay)
        .take(expected)
        .map(|s| s as f32)
        .collect();
    output.resize(expected, 0.0);
    Ok(output)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AudioError> {
    let io = |source| AudioError::Io {
        path: path.to_owned(),
        source,
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.part"));
    std::fs::write(&temporary, bytes).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        io(e)
    })
}

/// Converts a WAV or MP3 held in memory into `out_dir/stem.{ulaw,alaw,sln}`.
pub fn convert_bytes(
    input: &[u8],
    out_dir: &Path,
    stem: &str,
    limits: &Limits,
) -> Result<Converted, AudioError> {
    if !valid_stem(stem) {
        return Err(AudioError::BadName {
            name: stem.to_owned(),
        });
    }
    let decoded = decode(input, limits)?;
    let samples = resample(&decoded.mono, decoded.info.sample_rate).map_err(|detail| {
        AudioError::Corrupt {
            format: decoded.info.format,
            detail,
        }
    })?;
    let linear: Vec<i16> = samples
        .iter()
        .map(|&s| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
        .collect();
    let peak = linear
        .iter()
        .map(|s| i32::from(*s).unsigned_abs())
        .max()
        .unwrap_or(0);
    let peak_dbfs = if peak == 0 {
        f64::NEG_INFINITY
    } else {
        20.0 * (f64::from(peak) / 32767.0).log10()
    };
    let ulaw: Vec<u8> = linear.iter().map(|&s| linear_to_ulaw(s)).collect();
    let alaw: Vec<u8> = linear.iter().map(|&s| linear_to_alaw(s)).collect();
    let sln: Vec<u8> = linear.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut files = Vec::new();
    for (extension, bytes) in [("ulaw", &ulaw), ("alaw", &alaw), ("sln", &sln)] {
        let path = out_dir.join(format!("{stem}.{extension}"));
        if let Err(error) = write_atomically(&path, bytes) {
            for written in &files {
                let _ = std::fs::remove_file(written);
            }
            return Err(error);
        }
        files.push(path);
    }
    Ok(Converted {
        duration_seconds: linear.len() as f64 / f64::from(OUTPUT_RATE),
        source: decoded.info,
        files,
        peak_dbfs,
        silent: peak_dbfs < SILENT_DBFS,
    })
}

/// Converts the file at `input`; see [`convert_bytes`].
pub fn convert_file(
    input: &Path,
    out_dir: &Path,
    stem: &str,
    limits: &Limits,
) -> Result<Converted, AudioError> {
    let io = |source| AudioError::Io {
        path: input.to_owned(),
        source,
    };
    let size = std::fs::metadata(input).map_err(io)?.len();
    if size > limits.max_bytes {
        return Err(AudioError::TooLarge {
            actual: size,
            limit: limits.max_bytes,
        });
    }
    let bytes = std::fs::read(input).map_err(io)?;
    convert_bytes(&bytes, out_dir, stem, limits)
}

/// What an input is, without converting it.
pub fn probe(input: &[u8]) -> Result<SourceInfo, AudioError> {
    decode(input, &Limits::default()).map(|d| d.info)
}
