//! Recognising WAV and MP3 by their first bytes, never by the file name.
//!
//! The checks here are stricter than symphonia's own probe, which scans up
//! to a megabyte for anything that looks like a frame marker: an MP3 must
//! start (after an optional ID3v2 tag) with a Layer III frame whose successor
//! is where its header says, and a WAV must be a RIFF/WAVE file whose `data`
//! chunk is all there. That turns "a text file renamed .mp3" and "an upload
//! that was cut off" into clear errors instead of a few ms of noise.

use crate::{AudioError, CorruptAt, SourceFormat};

/// Which accepted format `bytes` is, by content; `None` if neither.
pub(crate) fn sniff(bytes: &[u8]) -> Option<SourceFormat> {
    if is_wav(bytes) {
        Some(SourceFormat::Wav)
    } else if is_mp3(bytes) {
        Some(SourceFormat::Mp3)
    } else {
        None
    }
}

fn is_wav(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE"
}

/// Walks the RIFF chunks of a WAV and checks that the `data` chunk is
/// present and as long as its header says.
///
/// Writers that stream (and so cannot know the length up front) put
/// `0xFFFF_FFFF` in the size; that is accepted and the decoder reads to the
/// end of the file.
pub(crate) fn check_wav_complete(bytes: &[u8]) -> Result<(), AudioError> {
    let file_len = bytes.len() as u64;
    let mut offset: u64 = 12;
    loop {
        let header_end = offset + 8;
        if header_end > file_len {
            return Err(AudioError::Corrupt {
                format: SourceFormat::Wav,
                at: CorruptAt::Header,
                detail: format!(
                    "the file ends after {file_len} bytes without a \"data\" chunk; \
                     the upload was probably cut off"
                ),
            });
        }
        // `header_end <= file_len` was checked above, so these indices fit.
        let start = offset as usize;
        let id = &bytes[start..start + 4];
        let size = u32::from_le_bytes([
            bytes[start + 4],
            bytes[start + 5],
            bytes[start + 6],
            bytes[start + 7],
        ]);
        if id == b"data" {
            let available = file_len - header_end;
            if size != u32::MAX && u64::from(size) > available {
                return Err(AudioError::Truncated {
                    format: SourceFormat::Wav,
                    expected_bytes: header_end + u64::from(size),
                    actual_bytes: file_len,
                });
            }
            return Ok(());
        }
        // Chunks are padded to an even length.
        offset = header_end + u64::from(size) + u64::from(size & 1);
    }
}

fn is_mp3(bytes: &[u8]) -> bool {
    let Some(start) = skip_id3v2(bytes) else {
        return false;
    };
    let Some(first) = frame_at(bytes, start) else {
        return false;
    };
    // One frame alone is too weak a signal unless the file really is that
    // short; otherwise the next frame must follow where the first one ends.
    let next = start + first.length;
    if next + 4 > bytes.len() {
        return true;
    }
    match frame_at(bytes, next) {
        Some(second) => second.version == first.version && second.sample_rate == first.sample_rate,
        None => false,
    }
}

/// Offset of the first byte after any ID3v2 tags (0 if there are none), or
/// `None` if a tag claims to be longer than the file.
fn skip_id3v2(bytes: &[u8]) -> Option<usize> {
    let mut offset = 0usize;
    while bytes.len() >= offset + 10 && &bytes[offset..offset + 3] == b"ID3" {
        let header = &bytes[offset..offset + 10];
        let size_bytes = &header[6..10];
        // Tag sizes are "syncsafe": seven bits per byte, top bit always clear.
        if size_bytes.iter().any(|byte| byte & 0x80 != 0) {
            return None;
        }
        let size = size_bytes
            .iter()
            .fold(0usize, |size, byte| (size << 7) | usize::from(*byte));
        let footer = if header[5] & 0x10 != 0 { 10 } else { 0 };
        offset = offset.checked_add(10 + size + footer)?;
        if offset > bytes.len() {
            return None;
        }
    }
    Some(offset)
}

#[derive(Debug, PartialEq, Eq)]
struct FrameHeader {
    version: u8,
    sample_rate: u32,
    length: usize,
}

/// Parses an MPEG audio Layer III frame header at `offset`.
fn frame_at(bytes: &[u8], offset: usize) -> Option<FrameHeader> {
    let header = bytes.get(offset..offset.checked_add(4)?)?;
    if header[0] != 0xFF || header[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (header[1] >> 3) & 0x03; // 0 = MPEG 2.5, 1 = reserved, 2 = MPEG 2, 3 = MPEG 1
    let layer = (header[1] >> 1) & 0x03; // 1 = Layer III
    let bitrate_index = usize::from(header[2] >> 4);
    let sample_rate_index = usize::from((header[2] >> 2) & 0x03);
    let padding = usize::from((header[2] >> 1) & 0x01);
    if version == 1 || layer != 1 || bitrate_index == 0 || bitrate_index == 15 {
        return None;
    }
    const MPEG1_KBPS: [usize; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const MPEG2_KBPS: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let (kbps, rates, samples_per_byte_factor) = match version {
        3 => (MPEG1_KBPS[bitrate_index], [44_100, 48_000, 32_000], 144_000),
        2 => (MPEG2_KBPS[bitrate_index], [22_050, 24_000, 16_000], 72_000),
        _ => (MPEG2_KBPS[bitrate_index], [11_025, 12_000, 8_000], 72_000),
    };
    let sample_rate: u32 = *rates.get(sample_rate_index)?;
    let length = samples_per_byte_factor * kbps / sample_rate as usize + padding;
    Some(FrameHeader {
        version,
        sample_rate,
        length,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8], expected: Option<SourceFormat>) {
        assert_eq!(
            sniff(bytes),
            expected,
            "sniffing {:02x?}",
            &bytes[..bytes.len().min(16)]
        );
    }

    /// MPEG 1 Layer III, 128 kbps, 44.1 kHz, no padding: 417 bytes a frame.
    const FRAME_HEADER: [u8; 4] = [0xFF, 0xFB, 0x90, 0x00];

    fn two_frames() -> Vec<u8> {
        let mut bytes = vec![0u8; 417 * 2];
        bytes[0..4].copy_from_slice(&FRAME_HEADER);
        bytes[417..421].copy_from_slice(&FRAME_HEADER);
        bytes
    }

    #[test]
    fn recognises_by_content() {
        check(b"RIFF\x24\x00\x00\x00WAVEfmt ", Some(SourceFormat::Wav));
        check(b"RIFF\x24\x00\x00\x00AVI LIST", None);
        check(b"hello, this is text", None);
        check(b"", None);
        check(&two_frames(), Some(SourceFormat::Mp3));
        // A lone sync word followed by junk where the next frame should be.
        let mut junk = two_frames();
        junk[417] = 0;
        check(&junk, None);
        // Layer I/II headers are not MP3.
        let mut layer2 = two_frames();
        layer2[1] = 0xFD;
        check(&layer2, None);
    }

    #[test]
    fn skips_id3v2_tags() {
        let mut tagged = b"ID3\x03\x00\x00\x00\x00\x00\x05abcde".to_vec();
        tagged.extend(two_frames());
        check(&tagged, Some(SourceFormat::Mp3));
        // A tag claiming to run past the end of the file.
        check(b"ID3\x03\x00\x00\x00\x00\x7f\x7fabc", None);
    }

    #[test]
    fn wav_data_chunk_must_be_complete() {
        let mut wav = b"RIFF\x00\x00\x00\x00WAVEdata\x08\x00\x00\x00".to_vec();
        wav.extend([0u8; 8]);
        assert!(check_wav_complete(&wav).is_ok());
        wav.truncate(wav.len() - 1);
        assert!(matches!(
            check_wav_complete(&wav),
            Err(AudioError::Truncated {
                expected_bytes: 28,
                actual_bytes: 27,
                ..
            })
        ));
        assert!(matches!(
            check_wav_complete(b"RIFF\x00\x00\x00\x00WAVEfmt \x10\x00"),
            Err(AudioError::Corrupt {
                at: CorruptAt::Header,
                ..
            })
        ));
    }
}
