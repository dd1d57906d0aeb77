//! No input panics: random bytes, and valid files with random damage, give
//! either a conversion or an error, and an error leaves nothing behind.

use std::io::Cursor;

use proptest::prelude::*;
use shofar_audio::{Limits, convert_bytes, probe};

const MP3_FIXTURE: &[u8] = include_bytes!("fixtures/tone-1khz-2s.mp3");

fn small_wav() -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 22_050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut bytes, spec).unwrap();
    for n in 0..2_000i32 {
        writer.write_sample((n * 31 % 20_000) as i16).unwrap();
        writer.write_sample((n * 17 % 20_000) as i16).unwrap();
    }
    writer.finalize().unwrap();
    bytes.into_inner()
}

/// Converts with small limits (so that a header claiming hours of audio is
/// refused quickly) and checks the all-or-nothing promise.
fn check_no_panic(input: &[u8]) {
    let limits = Limits {
        max_bytes: 1024 * 1024,
        max_seconds: 30.0,
    };
    let _ = probe(input);
    let dir = tempfile::tempdir().unwrap();
    match convert_bytes(input, dir.path(), "fuzz", &limits) {
        Ok(converted) => {
            assert_eq!(converted.files.len(), 3);
            assert!(converted.duration_seconds > 0.0);
            assert!(converted.peak_dbfs.is_finite());
            for file in &converted.files {
                assert!(file.exists());
            }
        }
        Err(error) => {
            assert!(!error.to_string().is_empty());
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        }
    }
}

/// Overwrites bytes of `base` at the given (position, value) pairs, then cuts
/// it to `keep` (a fraction of its length).
fn damage(base: &[u8], edits: &[(usize, u8)], keep: f64) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for (position, value) in edits {
        let index = position % bytes.len();
        bytes[index] = *value;
    }
    bytes.truncate((bytes.len() as f64 * keep) as usize);
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check_no_panic(&bytes);
    }

    /// Random bytes behind a plausible header reach the decoders.
    #[test]
    fn random_data_behind_headers(
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
        header in prop_oneof![
            Just(small_wav()[..44].to_vec()),
            Just(MP3_FIXTURE[..4].to_vec()),
            Just(b"ID3\x03\x00\x00\x00\x00\x00\x00\xFF\xFB\x90\x00".to_vec()),
        ],
    ) {
        let mut bytes = header;
        bytes.extend(tail);
        check_no_panic(&bytes);
    }

    #[test]
    fn damaged_wav(
        edits in proptest::collection::vec((0usize..100, any::<u8>()), 0..8),
        keep in 0.0f64..=1.0,
    ) {
        // Edits land mostly in the header, where they do the most harm.
        check_no_panic(&damage(&small_wav(), &edits, keep));
    }

    #[test]
    fn damaged_mp3(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..32),
        keep in 0.0f64..=1.0,
    ) {
        check_no_panic(&damage(MP3_FIXTURE, &edits, keep));
    }
}
