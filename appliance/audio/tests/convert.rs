//! Conversion end to end: real WAV and MP3 inputs in, the three G.711/linear
//! files out, checked by decoding them again.

use std::path::Path;

use proptest::prelude::*;
use shofar_audio::{AudioError, Limits, convert_bytes, convert_file, ulaw_to_linear};

/// A RIFF/WAVE file: PCM at `bits` (8 unsigned, 16, 24 signed) from samples in -1..1.
fn wav(rate: u32, channels: u16, bits: u16, frames: &[Vec<f64>]) -> Vec<u8> {
    let bytes_per_sample = usize::from(bits / 8);
    let mut data = Vec::new();
    for frame in frames {
        for &sample in frame {
            let sample = sample.clamp(-1.0, 1.0);
            match bits {
                8 => data.push(((sample * 127.0) + 128.0).round() as u8),
                16 => data.extend_from_slice(&((sample * 32767.0).round() as i16).to_le_bytes()),
                24 => data
                    .extend_from_slice(&((sample * 8_388_607.0).round() as i32).to_le_bytes()[..3]),
                _ => unreachable!(),
            }
        }
    }
    let block = u16::try_from(usize::from(channels) * bytes_per_sample).unwrap();
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    out.extend_from_slice(&block.to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

fn tone(rate: u32, channels: u16, hertz: f64, seconds: f64, amplitude: f64) -> Vec<Vec<f64>> {
    let frames = (f64::from(rate) * seconds) as usize;
    (0..frames)
        .map(|i| {
            let value =
                amplitude * (2.0 * std::f64::consts::PI * hertz * i as f64 / f64::from(rate)).sin();
            vec![value; usize::from(channels)]
        })
        .collect()
}

/// The power of one frequency in a signal (Goertzel), relative to full scale.
fn power(samples: &[f64], rate: f64, hertz: f64) -> f64 {
    let coefficient = 2.0 * (2.0 * std::f64::consts::PI * hertz / rate).cos();
    let (mut previous, mut before) = (0.0, 0.0);
    for &sample in samples {
        let current = sample + coefficient * previous - before;
        before = previous;
        previous = current;
    }
    (previous * previous + before * before - coefficient * previous * before)
        / (samples.len() as f64).powi(2)
}

fn read_sln(dir: &Path, stem: &str) -> Vec<f64> {
    std::fs::read(dir.join(format!("{stem}.sln")))
        .unwrap()
        .chunks(2)
        .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect()
}

#[test]
fn a_1khz_tone_comes_out_as_1khz_at_8khz_from_any_common_wav() {
    for (rate, channels, bits) in [
        (44_100, 2, 16),
        (48_000, 1, 24),
        (8_000, 1, 16),
        (22_050, 1, 8),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let input = wav(
            rate,
            channels,
            bits,
            &tone(rate, channels, 1000.0, 2.0, 0.5),
        );
        let converted = convert_bytes(&input, dir.path(), "message", &Limits::default()).unwrap();
        assert_eq!(converted.files.len(), 3);
        assert_eq!(
            (converted.source.sample_rate, converted.source.channels),
            (rate, channels)
        );
        assert!(
            (converted.duration_seconds - 2.0).abs() < 0.002,
            "{rate}: {}",
            converted.duration_seconds
        );
        assert!(!converted.silent);
        assert!(
            (converted.peak_dbfs - (-6.02)).abs() < 0.5,
            "{rate}: peak {}",
            converted.peak_dbfs
        );
        let samples = read_sln(dir.path(), "message");
        assert_eq!(samples.len(), 16_000);
        let at_1k = power(&samples, 8000.0, 1000.0);
        let at_2k = power(&samples, 8000.0, 2000.0);
        assert!(
            at_1k > 1000.0 * at_2k,
            "{rate} Hz: 1 kHz {at_1k}, 2 kHz {at_2k}"
        );
        // μ-law carries the same tone.
        let ulaw: Vec<f64> = std::fs::read(dir.path().join("message.ulaw"))
            .unwrap()
            .into_iter()
            .map(|c| f64::from(ulaw_to_linear(c)) / 32768.0)
            .collect();
        assert!(power(&ulaw, 8000.0, 1000.0) > 0.5 * at_1k);
    }
}

/// 5 kHz is above the 4 kHz an 8 kHz file can hold: it must be filtered out, not
/// folded back to 3 kHz.
#[test]
fn what_8khz_cannot_hold_is_filtered_not_aliased() {
    let dir = tempfile::tempdir().unwrap();
    let input = wav(44_100, 1, 16, &tone(44_100, 1, 5000.0, 1.0, 0.5));
    let converted = convert_bytes(&input, dir.path(), "high", &Limits::default()).unwrap();
    let samples = read_sln(dir.path(), "high");
    let folded = power(&samples, 8000.0, 3000.0);
    let reference = 0.25 / 4.0; // a full 0.5-amplitude tone's power
    assert!(
        folded < reference * 1e-3,
        "5 kHz folded to 3 kHz with power {folded}"
    );
    // Away from the edges (where the filter rings), almost nothing is left.
    let middle = &samples[400..samples.len() - 400];
    let rms = (middle.iter().map(|s| s * s).sum::<f64>() / middle.len() as f64).sqrt();
    assert!(
        rms < 0.01,
        "{rms} RMS left of a 0.35 RMS tone (peak {} dBFS)",
        converted.peak_dbfs
    );
}

#[test]
fn an_mp3_converts_with_its_length_and_pitch() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tone-1khz-2s.mp3");
    let dir = tempfile::tempdir().unwrap();
    let converted = convert_file(&fixture, dir.path(), "mp3", &Limits::default()).unwrap();
    assert_eq!(converted.source.format, shofar_audio::Format::Mp3);
    // MP3 adds encoder delay and padding: some tens of milliseconds.
    assert!(
        (converted.duration_seconds - 2.0).abs() < 0.1,
        "{}",
        converted.duration_seconds
    );
    let samples = read_sln(dir.path(), "mp3");
    assert!(power(&samples, 8000.0, 1000.0) > 1000.0 * power(&samples, 8000.0, 2500.0));
}

#[test]
fn bad_inputs_are_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let check = |input: &[u8], stem: &str, limits: Limits, expected: &str| {
        let error = convert_bytes(input, dir.path(), stem, &limits).unwrap_err();
        assert!(error.to_string().contains(expected), "{error}");
        error
    };
    let good = wav(8000, 1, 16, &tone(8000, 1, 440.0, 1.0, 0.5));
    check(
        b"hello, this is a text file",
        "x",
        Limits::default(),
        "not a WAV or MP3",
    );
    check(&[0u8; 4096], "x", Limits::default(), "not a WAV or MP3");
    let truncated = &good[..30];
    let error = check(truncated, "x", Limits::default(), "damaged");
    assert!(matches!(error, AudioError::Corrupt { .. }));
    check(&wav(8000, 1, 16, &[]), "x", Limits::default(), "no sound");
    check(
        &good,
        "x",
        Limits {
            max_bytes: 100,
            max_seconds: 600.0,
        },
        "at most 100 bytes",
    );
    check(
        &good,
        "x",
        Limits {
            max_bytes: 1 << 20,
            max_seconds: 0.5,
        },
        "at most 0 s",
    );
    check(&good, "../escape", Limits::default(), "not a usable name");
    check(&good, ".hidden", Limits::default(), "not a usable name");
    // Nothing was left behind by the failures.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_silent_recording_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let input = wav(16_000, 1, 16, &tone(16_000, 1, 440.0, 0.5, 0.001));
    let converted = convert_bytes(&input, dir.path(), "quiet", &Limits::default()).unwrap();
    assert!(converted.silent, "peak {}", converted.peak_dbfs);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// No input makes the converter panic: random bytes, and random bytes after a
    /// valid WAV or MP3 header.
    #[test]
    fn no_input_panics(body in proptest::collection::vec(any::<u8>(), 0..2048), header in 0..3usize) {
        let dir = tempfile::tempdir().unwrap();
        let mut input = match header {
            0 => Vec::new(),
            1 => wav(8000, 1, 16, &[]).into_iter().take(44).collect(),
            _ => b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec(),
        };
        input.extend_from_slice(&body);
        let _ = convert_bytes(&input, dir.path(), "fuzz", &Limits::default());
    }
}
