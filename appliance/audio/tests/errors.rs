//! Uploads that must be refused: each with the message a staff member sees,
//! and nothing left in the output directory.

use std::io::Cursor;
use std::path::Path;

use shofar_audio::{AudioError, Limits, convert_bytes, convert_file, probe};

const MP3_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tone-1khz-2s.mp3"
);

/// One second of a 440 Hz tone, 8 kHz mono 16-bit.
fn good_wav(seconds: f64) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut bytes, spec).unwrap();
    for n in 0..(seconds * 8000.0) as usize {
        let t = n as f64 / 8000.0;
        writer
            .write_sample((10_000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
    bytes.into_inner()
}

/// Converting `input` fails with an error whose message contains every one
/// of `fragments`, and the output directory stays empty.
fn check(input: &[u8], stem: &str, limits: &Limits, fragments: &[&str]) -> AudioError {
    let dir = tempfile::tempdir().unwrap();
    let error = convert_bytes(input, dir.path(), stem, limits)
        .expect_err("conversion should have been refused");
    check_message(&error, fragments);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "a failed conversion leaves nothing behind"
    );
    error
}

fn check_message(error: &AudioError, fragments: &[&str]) {
    let message = error.to_string();
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "message {message:?} should contain {fragment:?}"
        );
    }
}

#[test]
fn random_bytes() {
    // A fixed xorshift stream, so the test is the same every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..10_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let error = check(
        &bytes,
        "prompt",
        &Limits::default(),
        &[
            "neither WAV nor MP3",
            "accepted formats are WAV (PCM) and MP3",
        ],
    );
    assert!(matches!(error, AudioError::NotAudio));
}

#[test]
fn text_file_renamed_wav() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("greeting.wav");
    std::fs::write(&input, "Shalom! Please call us back at 555-0100.\n").unwrap();
    let out = tempfile::tempdir().unwrap();
    let error = convert_file(&input, out.path(), "greeting", &Limits::default()).unwrap_err();
    check_message(&error, &["whatever its name says", "WAV (PCM) and MP3"]);
    assert!(matches!(error, AudioError::NotAudio));
    assert!(matches!(probe(b"Shalom!"), Err(AudioError::NotAudio)));
}

#[test]
fn truncated_wav() {
    let wav = good_wav(1.0);
    let cut = &wav[..wav.len() / 2];
    let error = check(
        cut,
        "prompt",
        &Limits::default(),
        &[
            "WAV file is incomplete",
            &format!("should be {} bytes but is {}", wav.len(), cut.len()),
            "cut off",
        ],
    );
    assert!(matches!(error, AudioError::Truncated { .. }));

    // Cut inside the header, before the audio starts.
    let error = check(
        &wav[..30],
        "prompt",
        &Limits::default(),
        &["damaged in its header"],
    );
    assert!(matches!(error, AudioError::Corrupt { .. }));
}

#[test]
fn truncated_mp3_keeps_what_is_there_or_says_where_it_breaks() {
    let mp3 = std::fs::read(MP3_FIXTURE).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // An MP3 is a sequence of independent frames, so a cut-off file still
    // plays up to the cut; we accept that (the staff member hears it in the
    // preview) rather than refusing a long recording for its last frame.
    match convert_bytes(
        &mp3[..mp3.len() / 2],
        dir.path(),
        "half",
        &Limits::default(),
    ) {
        Ok(converted) => assert!(
            converted.duration_seconds > 0.5 && converted.duration_seconds < 1.5,
            "{}",
            converted.duration_seconds
        ),
        Err(error) => check_message(&error, &["MP3 file is damaged", "s into the audio"]),
    }
}

#[test]
fn zero_samples() {
    let error = check(
        &good_wav(0.0),
        "prompt",
        &Limits::default(),
        &["WAV file contains no audio (zero length)"],
    );
    assert!(matches!(error, AudioError::NoAudio { .. }));
}

#[test]
fn empty_upload() {
    let error = check(b"", "prompt", &Limits::default(), &["empty (0 bytes)"]);
    assert!(matches!(error, AudioError::Empty));
}

#[test]
fn over_max_bytes() {
    let wav = good_wav(1.0);
    let limits = Limits {
        max_bytes: 10_000,
        ..Limits::default()
    };
    let error = check(
        &wav,
        "prompt",
        &limits,
        &[&format!(
            "{} bytes, over the limit of 10000 bytes",
            wav.len()
        )],
    );
    assert!(matches!(error, AudioError::TooLarge { .. }));

    // From disk, the file is refused without reading all of it.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.wav");
    std::fs::write(&input, &wav).unwrap();
    let out = tempfile::tempdir().unwrap();
    let error = convert_file(&input, out.path(), "prompt", &limits).unwrap_err();
    check_message(&error, &["over the limit of 10000 bytes"]);
}

#[test]
fn over_max_seconds() {
    let limits = Limits {
        max_seconds: 10.0,
        ..Limits::default()
    };
    let error = check(
        &good_wav(12.0),
        "prompt",
        &limits,
        &["12.0 seconds long, over the limit of 10 seconds"],
    );
    assert!(matches!(error, AudioError::TooLong { .. }));

    // MP3 length is found by decoding (this one also has it in its tag).
    let mp3 = std::fs::read(MP3_FIXTURE).unwrap();
    let limits = Limits {
        max_seconds: 1.5,
        ..Limits::default()
    };
    check(
        &mp3,
        "prompt",
        &limits,
        &["2.0 seconds long, over the limit of 1.5 seconds"],
    );
}

#[test]
fn bad_stem() {
    for stem in ["../escape", "a/b", "", ".hidden", "two words"] {
        let error = check(&good_wav(0.1), stem, &Limits::default(), &["is not usable"]);
        assert!(matches!(error, AudioError::InvalidStem { .. }), "{stem:?}");
    }
    check(
        &good_wav(0.1),
        "x/../../y",
        &Limits::default(),
        &["\"x/../../y\"", "letters, digits, '.', '_' or '-'"],
    );
}

#[test]
fn missing_input_and_output_directories() {
    let missing = Path::new("/nonexistent/shofar/upload.wav");
    let out = tempfile::tempdir().unwrap();
    let error = convert_file(missing, out.path(), "prompt", &Limits::default()).unwrap_err();
    check_message(
        &error,
        &["could not read /nonexistent/shofar/upload.wav", "readable"],
    );

    let error = convert_bytes(
        &good_wav(0.1),
        Path::new("/nonexistent/shofar/sounds"),
        "prompt",
        &Limits::default(),
    )
    .unwrap_err();
    check_message(
        &error,
        &[
            "could not write /nonexistent/shofar/sounds",
            "disk is not full",
        ],
    );
}

#[test]
fn unsupported_sample_rate() {
    let mut wav = good_wav(0.1);
    // Patch the header: 1 Hz, as a broken export might say.
    wav[24..28].copy_from_slice(&1u32.to_le_bytes());
    wav[28..32].copy_from_slice(&2u32.to_le_bytes());
    let error = check(
        &wav,
        "prompt",
        &Limits::default(),
        &["1 Hz", "standard rate"],
    );
    assert!(matches!(
        error,
        AudioError::UnsupportedSampleRate { rate: 1, .. }
    ));
}
