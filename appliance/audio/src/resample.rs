//! Streaming conversion of mono audio at any supported rate to 8 kHz.
//!
//! Decoded audio is pushed in packet-sized pieces, so the full-rate signal is
//! never held in memory; only the 8 kHz result is. The work is done by
//! rubato's synchronous FFT resampler, whose band-limiting filter removes
//! everything above 4 kHz before decimating, so high frequencies in the
//! source are attenuated rather than folded back as audible aliases.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::{AudioError, TELEPHONE_RATE};

/// Input frames handed to the FFT resampler per call.
const CHUNK_FRAMES: usize = 1024;

pub(crate) struct ToTelephoneRate {
    /// `None` when the source is already at 8 kHz and samples pass through.
    resampler: Option<Fft<f32>>,
    source_rate: u32,
    /// Input waiting for a full chunk.
    pending: Vec<f32>,
    /// Resampler output so far, still including its start-up delay.
    output: Vec<f32>,
    /// Scratch space for one call's output.
    chunk_output: Vec<f32>,
    input_frames: u64,
}

impl ToTelephoneRate {
    pub(crate) fn new(source_rate: u32) -> Result<Self, AudioError> {
        let resampler = if source_rate == TELEPHONE_RATE {
            None
        } else {
            let resampler = Fft::<f32>::new(
                source_rate as usize,
                TELEPHONE_RATE as usize,
                CHUNK_FRAMES,
                1,
                FixedSync::Input,
            )
            .map_err(|error| AudioError::Internal(format!("creating the resampler: {error}")))?;
            Some(resampler)
        };
        let chunk_output = vec![0.0; resampler.as_ref().map_or(0, |r| r.output_frames_max())];
        Ok(Self {
            resampler,
            source_rate,
            pending: Vec::new(),
            output: Vec::new(),
            chunk_output,
            input_frames: 0,
        })
    }

    pub(crate) fn push(&mut self, samples: &[f32]) -> Result<(), AudioError> {
        self.input_frames += samples.len() as u64;
        let Some(resampler) = self.resampler.as_mut() else {
            self.output.extend_from_slice(samples);
            return Ok(());
        };
        self.pending.extend_from_slice(samples);
        let mut consumed = 0;
        loop {
            let needed = resampler.input_frames_next();
            if self.pending.len() - consumed < needed {
                break;
            }
            let input = &self.pending[consumed..consumed + needed];
            let written = process(resampler, input, None, &mut self.chunk_output)?;
            self.output.extend_from_slice(&self.chunk_output[..written]);
            consumed += needed;
        }
        self.pending.drain(..consumed);
        Ok(())
    }

    /// Flushes the resampler and returns exactly the 8 kHz frames that
    /// correspond to the input, with the filter's delay trimmed off.
    pub(crate) fn finish(mut self) -> Result<Vec<f32>, AudioError> {
        let Some(resampler) = self.resampler.as_mut() else {
            return Ok(self.output);
        };
        let expected = (self.input_frames.saturating_mul(u64::from(TELEPHONE_RATE)))
            .div_ceil(u64::from(self.source_rate)) as usize;
        let delay = resampler.output_delay();
        // The last partial chunk, then silence, until the delayed signal is
        // all out. Each call yields at least one frame; the bound only guards
        // against a resampler that stops producing.
        let mut partial = Some(std::mem::take(&mut self.pending));
        let mut calls_left = 16 + 4 * (delay + expected) / resampler.output_frames_max().max(1);
        while self.output.len() < delay + expected {
            if calls_left == 0 {
                return Err(AudioError::Internal(
                    "the resampler stopped producing output while flushing".to_owned(),
                ));
            }
            calls_left -= 1;
            let input = partial.take().unwrap_or_default();
            let indexing = Indexing::new().partial_len(input.len());
            let written = process(resampler, &input, Some(&indexing), &mut self.chunk_output)?;
            self.output.extend_from_slice(&self.chunk_output[..written]);
        }
        self.output.truncate(delay + expected);
        self.output.drain(..delay);
        Ok(self.output)
    }
}

fn process(
    resampler: &mut Fft<f32>,
    input: &[f32],
    indexing: Option<&Indexing>,
    output: &mut [f32],
) -> Result<usize, AudioError> {
    let internal =
        |error: &dyn std::fmt::Display| AudioError::Internal(format!("resampling: {error}"));
    let input_adapter = InterleavedSlice::new(input, 1, input.len()).map_err(|e| internal(&e))?;
    let output_len = output.len();
    let mut output_adapter =
        InterleavedSlice::new_mut(output, 1, output_len).map_err(|e| internal(&e))?;
    let (_read, written) = resampler
        .process_into_buffer(&input_adapter, &mut output_adapter, indexing)
        .map_err(|e| internal(&e))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resample_in_pieces(rate: u32, frames: usize, piece: usize) -> Vec<f32> {
        let mut converter = ToTelephoneRate::new(rate).unwrap();
        let signal: Vec<f32> = (0..frames).map(|i| (i % 7) as f32 / 7.0).collect();
        for chunk in signal.chunks(piece.max(1)) {
            converter.push(chunk).unwrap();
        }
        converter.finish().unwrap()
    }

    /// The output length is the input duration at 8 kHz, rounded up, whatever
    /// the rate and however the input was split.
    #[test]
    fn output_length_matches_duration() {
        for (rate, frames, piece) in [
            (44_100, 44_100, 1152),
            (44_100, 1, 1),
            (48_000, 12_345, 100),
            (22_050, 22_050, 4096),
            (8_000, 800, 33),
            (11_025, 0, 10),
            (16_000, 3, 3),
        ] {
            let expected = (frames as u64 * 8000).div_ceil(u64::from(rate)) as usize;
            assert_eq!(
                resample_in_pieces(rate, frames, piece).len(),
                expected,
                "{frames} frames at {rate} Hz"
            );
        }
    }
}
