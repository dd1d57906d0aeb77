//! Converting real uploads: WAVs made here in every common shape, and an MP3
//! fixture made with lame (see `fixtures/README.md`).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use shofar_audio::{
    Converted, Limits, SILENCE_PEAK_DBFS, SourceFormat, SourceInfo, convert_bytes, convert_file,
    linear_to_alaw, linear_to_ulaw, probe,
};

const MP3_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tone-1khz-2s.mp3"
);

const FADE_SECONDS: f64 = 0.01;

/// How a test WAV is stored.
#[derive(Clone, Copy, Debug)]
struct WavShape {
    rate: u32,
    channels: u16,
    bits: u16,
    float: bool,
}

const fn int(rate: u32, channels: u16, bits: u16) -> WavShape {
    WavShape {
        rate,
        channels,
        bits,
        float: false,
    }
}

/// A WAV of `tones` (frequency Hz, amplitude 0..1) summed, the same in
/// every channel. The signal fades in and out over 10 ms, as real
/// recordings do: a tone switched on at full amplitude is a click, whose
/// spectrum reaches into every band and would blur the measurements.
fn wav(shape: WavShape, seconds: f64, tones: &[(f64, f64)]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: shape.channels,
        sample_rate: shape.rate,
        bits_per_sample: shape.bits,
        sample_format: if shape.float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut bytes = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut bytes, spec).unwrap();
    let frames = (seconds * f64::from(shape.rate)).round() as usize;
    let full_scale = f64::from((1u32 << (shape.bits - 1)) - 1);
    for frame in 0..frames {
        let t = frame as f64 / f64::from(shape.rate);
        let fade = (t / FADE_SECONDS)
            .min((seconds - t) / FADE_SECONDS)
            .clamp(0.0, 1.0);
        let envelope = 0.5 - 0.5 * (std::f64::consts::PI * fade).cos();
        let value: f64 = envelope
            * tones
                .iter()
                .map(|(freq, amplitude)| amplitude * (2.0 * std::f64::consts::PI * freq * t).sin())
                .sum::<f64>();
        for _ in 0..shape.channels {
            match (shape.float, shape.bits) {
                (true, _) => writer.write_sample(value as f32).unwrap(),
                // hound stores 8-bit WAV as unsigned, offsetting for us.
                (false, 8) => writer
                    .write_sample((value * full_scale).round() as i8)
                    .unwrap(),
                (false, 16) => writer
                    .write_sample((value * full_scale).round() as i16)
                    .unwrap(),
                (false, _) => writer
                    .write_sample((value * full_scale).round() as i32)
                    .unwrap(),
            }
        }
    }
    writer.finalize().unwrap();
    bytes.into_inner()
}

fn read_sln(path: &Path) -> Vec<f64> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(2)
        .map(|pair| f64::from(i16::from_le_bytes([pair[0], pair[1]])) / 32_768.0)
        .collect()
}

/// Amplitude of the `freq` component (a single DFT bin, windowless: the
/// test signals hold whole numbers of periods, near enough).
fn tone_amplitude(samples: &[f64], freq: f64) -> f64 {
    let omega = 2.0 * std::f64::consts::PI * freq / 8000.0;
    let (mut re, mut im) = (0.0, 0.0);
    for (n, x) in samples.iter().enumerate() {
        re += x * (omega * n as f64).cos();
        im += x * (omega * n as f64).sin();
    }
    2.0 * (re * re + im * im).sqrt() / samples.len() as f64
}

fn rms(samples: &[f64]) -> f64 {
    (samples.iter().map(|x| x * x).sum::<f64>() / samples.len().max(1) as f64).sqrt()
}

fn zero_crossings(samples: &[f64]) -> usize {
    samples
        .windows(2)
        .filter(|pair| (pair[0] < 0.0) != (pair[1] < 0.0))
        .count()
}

fn convert(bytes: &[u8]) -> (tempfile::TempDir, Converted) {
    let dir = tempfile::tempdir().unwrap();
    let converted = convert_bytes(bytes, dir.path(), "prompt", &Limits::default())
        .unwrap_or_else(|error| panic!("conversion failed: {error}"));
    (dir, converted)
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The files are the three expected, consistent with each other, and the
/// audio is a pure `freq` tone of `amplitude` lasting `seconds`.
fn check_tone(
    converted: &Converted,
    dir: &Path,
    seconds: f64,
    duration_tolerance: f64,
    freq: f64,
    amplitude: f64,
) {
    let expected_files: Vec<PathBuf> = ["prompt.ulaw", "prompt.alaw", "prompt.sln"]
        .iter()
        .map(|name| dir.join(name))
        .collect();
    assert_eq!(converted.files, expected_files);
    assert_eq!(
        names_in(dir),
        ["prompt.alaw", "prompt.sln", "prompt.ulaw"],
        "no temporary files left behind"
    );

    let sln_bytes = std::fs::read(dir.join("prompt.sln")).unwrap();
    let linear: Vec<i16> = sln_bytes
        .chunks_exact(2)
        .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    let ulaw: Vec<u8> = linear.iter().map(|s| linear_to_ulaw(*s)).collect();
    let alaw: Vec<u8> = linear.iter().map(|s| linear_to_alaw(*s)).collect();
    assert!(
        std::fs::read(dir.join("prompt.ulaw")).unwrap() == ulaw,
        "μ-law file matches .sln"
    );
    assert!(
        std::fs::read(dir.join("prompt.alaw")).unwrap() == alaw,
        "A-law file matches .sln"
    );

    let samples = read_sln(&dir.join("prompt.sln"));
    let duration = samples.len() as f64 / 8000.0;
    assert!((converted.duration_seconds - duration).abs() < 1e-9);
    assert!(
        (duration - seconds).abs() <= duration_tolerance,
        "duration {duration} s, expected {seconds} s"
    );

    // Measure the steady part, away from the fades (and, for MP3, the
    // encoder's ramp-up).
    let steady = &samples[800..samples.len() - 800];
    let measured = tone_amplitude(steady, freq);
    assert!(
        (measured - amplitude).abs() < 0.05 * amplitude,
        "{freq} Hz amplitude {measured}, expected {amplitude}"
    );
    // Everything else (harmonics, aliases, noise) is far below the tone.
    let residual_power = (rms(steady).powi(2) - measured * measured / 2.0).max(0.0);
    let purity_db = 10.0 * (residual_power / (measured * measured / 2.0)).log10();
    assert!(
        purity_db < -30.0,
        "residual {purity_db:.1} dB relative to the tone"
    );
    let crossings = zero_crossings(&samples) as f64;
    let expected_crossings = 2.0 * freq * duration;
    assert!(
        (crossings - expected_crossings).abs() <= 0.01 * expected_crossings + 2.0,
        "{crossings} zero crossings, expected {expected_crossings}"
    );

    let expected_peak_db = 20.0 * amplitude.log10();
    assert!(
        (converted.peak_dbfs - expected_peak_db).abs() < 1.0,
        "peak {} dBFS, expected about {expected_peak_db}",
        converted.peak_dbfs
    );
    assert!(!converted.silent);
}

fn check_wav_tone(shape: WavShape) {
    let seconds = 1.5;
    let (dir, converted) = convert(&wav(shape, seconds, &[(1000.0, 0.5)]));
    assert_eq!(
        converted.source,
        SourceInfo {
            format: SourceFormat::Wav,
            sample_rate: shape.rate,
            channels: shape.channels,
        },
        "{shape:?}"
    );
    // "Within 1 ms per second."
    check_tone(
        &converted,
        dir.path(),
        seconds,
        0.001 * seconds,
        1000.0,
        0.5,
    );
}

#[test]
fn wav_44100_stereo_16_bit() {
    check_wav_tone(int(44_100, 2, 16));
}

#[test]
fn wav_48000_mono_24_bit() {
    check_wav_tone(int(48_000, 1, 24));
}

#[test]
fn wav_8000_mono_16_bit() {
    check_wav_tone(int(8_000, 1, 16));
}

#[test]
fn wav_22050_mono_8_bit_unsigned() {
    check_wav_tone(int(22_050, 1, 8));
}

#[test]
fn wav_16000_six_channels_32_bit_float() {
    check_wav_tone(WavShape {
        rate: 16_000,
        channels: 6,
        bits: 32,
        float: true,
    });
}

#[test]
fn wav_11025_mono_32_bit_int() {
    check_wav_tone(int(11_025, 1, 32));
}

/// Channels are averaged: a tone in the left channel only comes out at half
/// its amplitude, and opposite-phase channels cancel.
#[test]
fn stereo_is_averaged() {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut bytes, spec).unwrap();
    for n in 0..8000 {
        let value =
            (0.8 * 32_767.0 * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / 8000.0).sin())
                as i16;
        writer.write_sample(value).unwrap();
        writer.write_sample(0i16).unwrap();
    }
    writer.finalize().unwrap();
    let (dir, converted) = convert(&bytes.into_inner());
    check_tone(&converted, dir.path(), 1.0, 0.0, 1000.0, 0.4);
}

/// A 5 kHz tone is above the 4 kHz Nyquist limit of the output. Without an
/// anti-aliasing filter it would fold back to an audible 3 kHz tone; with
/// one it all but disappears.
#[test]
fn tone_above_telephone_band_is_filtered_not_aliased() {
    let input_amplitude: f64 = 0.5;
    let (dir, converted) = convert(&wav(int(44_100, 1, 16), 1.0, &[(5000.0, input_amplitude)]));
    let samples = read_sln(&dir.path().join("prompt.sln"));
    let alias_db = 20.0 * (tone_amplitude(&samples, 3000.0) / input_amplitude).log10();
    let total_db = 20.0 * (rms(&samples) * 2f64.sqrt() / input_amplitude).log10();
    assert!(alias_db < -60.0, "3 kHz alias at {alias_db:.1} dB");
    assert!(total_db < -50.0, "output energy at {total_db:.1} dB");
    assert!(
        converted.silent,
        "nothing audible is left: {}",
        converted.peak_dbfs
    );
}

/// In the same file, the in-band tone survives while the out-of-band one goes.
#[test]
fn in_band_tone_survives_next_to_filtered_one() {
    let (dir, converted) = convert(&wav(
        int(48_000, 2, 16),
        1.0,
        &[(1000.0, 0.4), (6000.0, 0.4)],
    ));
    let samples = read_sln(&dir.path().join("prompt.sln"));
    let alias = tone_amplitude(&samples, 2000.0);
    assert!(
        20.0 * (alias / 0.4).log10() < -60.0,
        "6 kHz folded to 2 kHz: {alias}"
    );
    assert!((tone_amplitude(&samples, 1000.0) - 0.4).abs() < 0.02);
    assert!(!converted.silent);
}

#[test]
fn mp3_fixture() {
    let bytes = std::fs::read(MP3_FIXTURE).unwrap();
    assert!(bytes.len() < 30 * 1024);
    assert_eq!(
        probe(&bytes).unwrap(),
        SourceInfo {
            format: SourceFormat::Mp3,
            sample_rate: 44_100,
            channels: 2,
        }
    );
    let dir = tempfile::tempdir().unwrap();
    let converted = convert_file(
        Path::new(MP3_FIXTURE),
        dir.path(),
        "prompt",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(converted.source.format, SourceFormat::Mp3);
    // lame adds 1105 samples of delay and pads the last frame; symphonia
    // trims both using lame's info tag. (It cannot read that tag in some
    // low-bit-rate CBR files, which then come out up to ~60 ms long: harmless
    // silence.) Allow a few tens of ms, as for any MP3 decoder.
    check_tone(&converted, dir.path(), 2.0, 0.03, 1000.0, 0.5);
}

#[test]
fn silence_is_flagged_not_refused() {
    let (_dir, converted) = convert(&wav(int(44_100, 1, 16), 0.5, &[]));
    assert!(converted.silent);
    assert_eq!(converted.peak_dbfs, SILENCE_PEAK_DBFS);

    // −60 dBFS: present, but far too quiet to be heard on a phone.
    let (_dir, converted) = convert(&wav(int(8_000, 1, 16), 0.5, &[(1000.0, 0.001)]));
    assert!(converted.silent);
    assert!(
        (converted.peak_dbfs - -60.0).abs() < 1.0,
        "{}",
        converted.peak_dbfs
    );

    let (_dir, converted) = convert(&wav(int(8_000, 1, 16), 0.5, &[(1000.0, 0.01)]));
    assert!(!converted.silent, "−40 dBFS is quiet but usable");
}

/// Re-uploading under the same name replaces the files whole.
#[test]
fn reconverting_replaces_files() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits::default();
    convert_bytes(
        &wav(int(8_000, 1, 16), 2.0, &[(440.0, 0.5)]),
        dir.path(),
        "hello",
        &limits,
    )
    .unwrap();
    let converted = convert_bytes(
        &wav(int(8_000, 1, 16), 1.0, &[(440.0, 0.5)]),
        dir.path(),
        "hello",
        &limits,
    )
    .unwrap();
    assert_eq!(converted.duration_seconds, 1.0);
    assert_eq!(
        std::fs::metadata(dir.path().join("hello.ulaw"))
            .unwrap()
            .len(),
        8000
    );
    assert_eq!(
        std::fs::metadata(dir.path().join("hello.sln"))
            .unwrap()
            .len(),
        16_000
    );
    assert_eq!(
        names_in(dir.path()),
        ["hello.alaw", "hello.sln", "hello.ulaw"]
    );
}

/// Asterisk usually runs as its own user, so the files must be readable by others.
#[cfg(unix)]
#[test]
fn files_are_world_readable() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, converted) = convert(&wav(int(8_000, 1, 16), 0.1, &[(440.0, 0.5)]));
    for file in &converted.files {
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o044, 0o044, "{} has mode {mode:o}", file.display());
    }
}
