//! ITU-T G.711 encoders: 16-bit linear PCM to μ-law and A-law bytes.
//!
//! These are the classic segment-search encoders (the same arithmetic as the
//! Sun Microsystems reference `g711.c` on 16-bit input, and the same codes
//! as Asterisk's own `ulaw.c`/`alaw.c`, which decode what we write), with bit
//! operations instead of tables. Both are total functions: every `i16` has
//! exactly one code. (sox rounds to 14 or 13 bits before encoding, so it can
//! pick the neighbouring code right at a decision level; both are within the
//! standard's quantization step.)

/// Bias added to the magnitude before μ-law segment search (0x84 = 33 << 2).
const ULAW_BIAS: i32 = 0x84;
/// Largest magnitude μ-law can represent after biasing; louder samples clip.
const ULAW_CLIP: i32 = 32_635;

/// Encodes one 16-bit linear sample as a G.711 μ-law byte.
///
/// 0 encodes to `0xFF`, 32767 to `0x80` and −32768 to `0x00`.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let value = i32::from(sample);
    let (sign, magnitude) = if value < 0 {
        (0x80, -value)
    } else {
        (0x00, value)
    };
    let biased = magnitude.min(ULAW_CLIP) + ULAW_BIAS;
    // `biased` lies in 132..=32767, so its highest set bit is bit 7..=14 and
    // the segment (exponent) is that bit's index minus 7.
    let exponent = (31 - biased.leading_zeros() as i32) - 7;
    let mantissa = (biased >> (exponent + 3)) & 0x0F;
    // G.711 μ-law transmits every bit inverted.
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// Encodes one 16-bit linear sample as a G.711 A-law byte.
///
/// 0 encodes to `0xD5`, 32767 to `0xAA` and −32768 to `0x2A`.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let value = i32::from(sample);
    // Sign-magnitude, as the standard's decision levels are symmetric. The
    // even bits are inverted on the wire (the 0x55 "AMI" mask) and bit 7 is
    // set for positive samples.
    let (mask, magnitude) = if value >= 0 {
        (0xD5_u8, value)
    } else {
        // −32768 has no positive i16 counterpart; it takes the loudest code.
        (0x55_u8, (-value).min(0x7FFF))
    };
    // Segment 0 covers 0..=255; each next segment doubles the range, up to
    // segment 7 ending at 32767.
    let segment = if magnitude <= 0xFF {
        0
    } else {
        (31 - magnitude.leading_zeros() as i32) - 7
    };
    let shift = if segment == 0 { 4 } else { segment + 3 };
    let mantissa = (magnitude >> shift) & 0x0F;
    ((segment << 4) | mantissa) as u8 ^ mask
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference μ-law decoder (ITU-T G.711 / Sun `ulaw2linear`).
    fn ulaw_to_linear(code: u8) -> i32 {
        let code = !code;
        let exponent = i32::from((code >> 4) & 0x07);
        let mantissa = i32::from(code & 0x0F);
        let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
        if code & 0x80 != 0 {
            -magnitude
        } else {
            magnitude
        }
    }

    /// Half the width of the μ-law quantization interval that `code` decodes from.
    fn ulaw_half_step(code: u8) -> i32 {
        let exponent = i32::from(((!code) >> 4) & 0x07);
        4 << exponent
    }

    /// Reference A-law decoder (ITU-T G.711 / Sun `alaw2linear`).
    fn alaw_to_linear(code: u8) -> i32 {
        let code = code ^ 0x55;
        let segment = i32::from((code & 0x70) >> 4);
        let mut magnitude = i32::from(code & 0x0F) << 4;
        magnitude = match segment {
            0 => magnitude + 8,
            1 => magnitude + 0x108,
            _ => (magnitude + 0x108) << (segment - 1),
        };
        if code & 0x80 != 0 {
            magnitude
        } else {
            -magnitude
        }
    }

    /// Half the width of the A-law quantization interval that `code` decodes from.
    fn alaw_half_step(code: u8) -> i32 {
        let segment = i32::from(((code ^ 0x55) & 0x70) >> 4);
        if segment < 2 { 8 } else { 8 << (segment - 1) }
    }

    fn check_ulaw(sample: i16, expected: u8) {
        assert_eq!(
            linear_to_ulaw(sample),
            expected,
            "μ-law of {sample}: got {:#04x}, want {expected:#04x}",
            linear_to_ulaw(sample)
        );
    }

    fn check_alaw(sample: i16, expected: u8) {
        assert_eq!(
            linear_to_alaw(sample),
            expected,
            "A-law of {sample}: got {:#04x}, want {expected:#04x}",
            linear_to_alaw(sample)
        );
    }

    /// Pairs computed with Asterisk's `linear2ulaw`/`linear2alaw` algorithm.
    #[test]
    fn ulaw_known_values() {
        check_ulaw(0, 0xFF);
        check_ulaw(1, 0xFF);
        check_ulaw(-1, 0x7F);
        check_ulaw(-8, 0x7E);
        check_ulaw(-16, 0x7D);
        check_ulaw(32_767, 0x80);
        check_ulaw(-32_768, 0x00);
        check_ulaw(-32_767, 0x00);
        check_ulaw(100, 0xF2);
        check_ulaw(-100, 0x72);
        check_ulaw(1000, 0xCE);
        check_ulaw(-1000, 0x4E);
        check_ulaw(8_000, 0xA0);
        check_ulaw(16_000, 0x90);
        check_ulaw(-16_000, 0x10);
    }

    #[test]
    fn alaw_known_values() {
        check_alaw(0, 0xD5);
        check_alaw(1, 0xD5);
        check_alaw(-1, 0x55);
        check_alaw(-8, 0x55);
        check_alaw(-16, 0x54);
        check_alaw(32_767, 0xAA);
        check_alaw(-32_768, 0x2A);
        check_alaw(-32_767, 0x2A);
        check_alaw(100, 0xD3);
        check_alaw(-100, 0x53);
        check_alaw(1000, 0xFA);
        check_alaw(-1000, 0x7A);
        check_alaw(8_000, 0x8A);
        check_alaw(16_000, 0xBA);
        check_alaw(-16_000, 0x3A);
    }

    /// Every i16 decodes back to within half a quantization step, except
    /// μ-law's clipped top, where the code is the largest magnitude.
    #[test]
    fn ulaw_round_trip_within_half_step_for_all_samples() {
        let max_magnitude = ulaw_to_linear(0x80);
        for sample in i16::MIN..=i16::MAX {
            let code = linear_to_ulaw(sample);
            let decoded = ulaw_to_linear(code);
            let error = (decoded - i32::from(sample)).abs();
            let clipped = i32::from(sample).abs() > max_magnitude && decoded.abs() == max_magnitude;
            assert!(
                error <= ulaw_half_step(code) || clipped,
                "μ-law {sample} -> {code:#04x} -> {decoded}: error {error}"
            );
        }
    }

    #[test]
    fn alaw_round_trip_within_half_step_for_all_samples() {
        for sample in i16::MIN..=i16::MAX {
            let code = linear_to_alaw(sample);
            let decoded = alaw_to_linear(code);
            let error = (decoded - i32::from(sample)).abs();
            assert!(
                error <= alaw_half_step(code),
                "A-law {sample} -> {code:#04x} -> {decoded}: error {error}"
            );
        }
    }

    /// Both encoders are monotonic: a louder sample never gets a code that
    /// decodes quieter.
    #[test]
    fn encoders_are_monotonic() {
        let mut previous_ulaw = ulaw_to_linear(linear_to_ulaw(i16::MIN));
        let mut previous_alaw = alaw_to_linear(linear_to_alaw(i16::MIN));
        for sample in i16::MIN..=i16::MAX {
            let ulaw = ulaw_to_linear(linear_to_ulaw(sample));
            let alaw = alaw_to_linear(linear_to_alaw(sample));
            assert!(ulaw >= previous_ulaw, "μ-law not monotonic at {sample}");
            assert!(alaw >= previous_alaw, "A-law not monotonic at {sample}");
            previous_ulaw = ulaw;
            previous_alaw = alaw;
        }
    }
}
