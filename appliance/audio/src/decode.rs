//! Decoding WAV and MP3 with symphonia into 8 kHz mono samples.

use std::io::Cursor;

use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::well_known::{FORMAT_ID_MP3, FORMAT_ID_WAVE};
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::resample::ToTelephoneRate;
use crate::{AudioError, CorruptAt, Limits, SourceFormat, SourceInfo};

/// Sample rates we convert from. Anything outside is either a broken header
/// or not speech audio, and would make the resampler's filter enormous.
pub(crate) const MIN_SOURCE_RATE: u32 = 4_000;
pub(crate) const MAX_SOURCE_RATE: u32 = 384_000;

/// Decoding tolerates a few damaged MP3 frames (a glitch is better than
/// refusing an otherwise good recording) but not more than one in twenty.
const MAX_BAD_PACKET_FRACTION: f64 = 0.05;

pub(crate) struct Decoded {
    pub(crate) source: SourceInfo,
    /// Mono samples at 8 kHz, full scale ±1.0 (may slightly exceed it).
    pub(crate) samples: Vec<f32>,
}

/// Opens the container and reads its parameters without decoding audio.
fn open<'a>(
    bytes: &'a [u8],
    format: SourceFormat,
) -> Result<(Box<dyn FormatReader + 'a>, SourceInfo), AudioError> {
    let stream = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(format.extension());
    let reader = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|error| header_error(format, error))?;
    let expected_id = match format {
        SourceFormat::Wav => FORMAT_ID_WAVE,
        SourceFormat::Mp3 => FORMAT_ID_MP3,
    };
    if reader.format_info().format != expected_id {
        return Err(AudioError::Corrupt {
            format,
            at: CorruptAt::Header,
            detail: format!(
                "the header is not a valid {format} header (it reads as {})",
                reader.format_info().long_name
            ),
        });
    }
    let params = audio_params(reader.as_ref(), format)?;
    let sample_rate = params.sample_rate.ok_or_else(|| AudioError::Corrupt {
        format,
        at: CorruptAt::Header,
        detail: "the header gives no sample rate".to_owned(),
    })?;
    let channels = params.channels.as_ref().map_or(0, |c| c.count());
    if channels == 0 {
        return Err(AudioError::Corrupt {
            format,
            at: CorruptAt::Header,
            detail: "the header gives no channels".to_owned(),
        });
    }
    let source = SourceInfo {
        format,
        sample_rate,
        channels: u16::try_from(channels).unwrap_or(u16::MAX),
    };
    Ok((reader, source))
}

fn audio_params(
    reader: &dyn FormatReader,
    format: SourceFormat,
) -> Result<AudioCodecParameters, AudioError> {
    reader
        .default_track(TrackType::Audio)
        .and_then(|track| track.codec_params.as_ref())
        .and_then(|params| params.audio())
        .cloned()
        .ok_or(AudioError::NoAudio { format })
}

pub(crate) fn probe(bytes: &[u8], format: SourceFormat) -> Result<SourceInfo, AudioError> {
    open(bytes, format).map(|(_, source)| source)
}

pub(crate) fn decode(
    bytes: &[u8],
    format: SourceFormat,
    limits: &Limits,
) -> Result<Decoded, AudioError> {
    let (mut reader, source) = open(bytes, format)?;
    let rate = source.sample_rate;
    if !(MIN_SOURCE_RATE..=MAX_SOURCE_RATE).contains(&rate) {
        return Err(AudioError::UnsupportedSampleRate { format, rate });
    }
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or(AudioError::NoAudio { format })?;
    let track_id = track.id;
    // Refuse an over-long file before spending time decoding it, when the
    // header says how long it is.
    if let Some(frames) = track.num_frames {
        let seconds = frames as f64 / f64::from(rate);
        if seconds > limits.max_seconds {
            return Err(AudioError::TooLong {
                seconds,
                limit_seconds: limits.max_seconds,
            });
        }
    }
    let params = audio_params(reader.as_ref(), format)?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|error| match error {
            SymphoniaError::Unsupported(what) => AudioError::UnsupportedEncoding {
                format,
                detail: what.to_owned(),
            },
            other => header_error(format, other),
        })?;

    let max_frames = (limits.max_seconds * f64::from(rate)).max(0.0) as u64;
    let mut converter = ToTelephoneRate::new(rate)?;
    let mut interleaved: Vec<f32> = Vec::new();
    let mut mono: Vec<f32> = Vec::new();
    let mut frames: u64 = 0;
    let mut packets: u64 = 0;
    let mut bad_packets: u64 = 0;
    let mut first_bad_at: Option<f64> = None;
    let seconds_so_far = |frames: u64| frames as f64 / f64::from(rate);

    loop {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // The end of the bytes, whether or not the container said so.
            Err(SymphoniaError::IoError(error))
                if error.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break;
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(error) => {
                return Err(stream_error(format, seconds_so_far(frames), error));
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        packets += 1;
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            Err(SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_)) => {
                bad_packets += 1;
                first_bad_at.get_or_insert(seconds_so_far(frames));
                continue;
            }
            Err(error) => return Err(stream_error(format, seconds_so_far(frames), error)),
        };
        if buffer.spec().rate() != rate {
            return Err(AudioError::Corrupt {
                format,
                at: CorruptAt::Seconds(seconds_so_far(frames)),
                detail: format!(
                    "the sample rate changes from {rate} Hz to {} Hz",
                    buffer.spec().rate()
                ),
            });
        }
        let channels = buffer.spec().channels().count().max(1);
        let buffer_frames = buffer.frames();
        frames += buffer_frames as u64;
        if frames > max_frames {
            // Keep counting (cheap) so the error can say how long the file
            // really is, but stop converting.
            continue;
        }
        buffer.copy_to_vec_interleaved(&mut interleaved);
        mono.clear();
        mono.extend(
            interleaved
                .chunks_exact(channels)
                .map(|frame| frame.iter().sum::<f32>() / channels as f32),
        );
        converter.push(&mono)?;
    }

    if frames > max_frames {
        return Err(AudioError::TooLong {
            seconds: seconds_so_far(frames),
            limit_seconds: limits.max_seconds,
        });
    }
    if bad_packets > 0
        && (frames == 0 || bad_packets as f64 > packets as f64 * MAX_BAD_PACKET_FRACTION)
    {
        return Err(AudioError::Corrupt {
            format,
            at: CorruptAt::Seconds(first_bad_at.unwrap_or(0.0)),
            detail: format!("{bad_packets} of {packets} audio blocks could not be decoded"),
        });
    }
    if frames == 0 {
        return Err(AudioError::NoAudio { format });
    }
    Ok(Decoded {
        source,
        samples: converter.finish()?,
    })
}

/// Maps a failure while reading the header to an error for staff.
fn header_error(format: SourceFormat, error: SymphoniaError) -> AudioError {
    match error {
        SymphoniaError::Unsupported(what) => AudioError::UnsupportedEncoding {
            format,
            detail: what.to_owned(),
        },
        SymphoniaError::IoError(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::Corrupt {
                format,
                at: CorruptAt::Header,
                detail: "the file ends inside the header; the upload was probably cut off"
                    .to_owned(),
            }
        }
        other => AudioError::Corrupt {
            format,
            at: CorruptAt::Header,
            detail: other.to_string(),
        },
    }
}

/// Maps a failure while reading audio data to an error for staff.
fn stream_error(format: SourceFormat, seconds: f64, error: SymphoniaError) -> AudioError {
    match error {
        SymphoniaError::Unsupported(what) => AudioError::UnsupportedEncoding {
            format,
            detail: what.to_owned(),
        },
        other => AudioError::Corrupt {
            format,
            at: CorruptAt::Seconds(seconds),
            detail: other.to_string(),
        },
    }
}
