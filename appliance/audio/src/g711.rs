//! ITU-T G.711 μ-law and A-law, sample by sample (the classic segment search;
//! no tables needed at 8 kHz).

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32635;

/// 16-bit linear → μ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut value = i32::from(sample);
    let sign = if value < 0 {
        value = -value;
        0x80
    } else {
        0
    };
    value = value.min(ULAW_CLIP) + ULAW_BIAS;
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && value & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (value >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// μ-law → 16-bit linear.
pub fn ulaw_to_linear(code: u8) -> i16 {
    let code = !code;
    let mut magnitude = ((i32::from(code) & 0x0F) << 3) + ULAW_BIAS;
    magnitude <<= (code & 0x70) >> 4;
    (if code & 0x80 != 0 {
        ULAW_BIAS - magnitude
    } else {
        magnitude - ULAW_BIAS
    }) as i16
}

/// 16-bit linear → A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    // A-law works on 13 bits.
    let mut value = i32::from(sample) >> 3;
    let mask = if value >= 0 {
        0xD5
    } else {
        value = -value - 1;
        0x55
    };
    const SEGMENT_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
    let segment = SEGMENT_END
        .iter()
        .position(|&end| value <= end)
        .unwrap_or(8) as i32;
    if segment >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let mut code = segment << 4;
    code |= if segment < 2 {
        (value >> 1) & 0x0F
    } else {
        (value >> segment) & 0x0F
    };
    (code ^ mask) as u8
}

/// A-law → 16-bit linear.
pub fn alaw_to_linear(code: u8) -> i16 {
    let code = i32::from(code ^ 0x55);
    let mut magnitude = (code & 0x0F) << 4;
    let segment = (code & 0x70) >> 4;
    match segment {
        0 => magnitude += 8,
        1 => magnitude += 0x108,
        _ => {
            magnitude += 0x108;
            magnitude <<= segment - 1;
        }
    }
    (if code & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_ulaw(-1), 0x7F);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(alaw_to_linear(0xD5), 8);
    }

    /// Every 16-bit sample survives a round trip within its segment's
    /// quantization step (which grows with the level: 2^(segment + 3) at most).
    #[test]
    fn every_sample_round_trips_within_the_step() {
        for sample in i16::MIN..=i16::MAX {
            let level = i32::from(sample).abs();
            // The step is about 1/16 of the level's power of two, at least 16.
            let step = (level / 16).max(16) * 2;
            let ulaw = i32::from(ulaw_to_linear(linear_to_ulaw(sample)));
            let alaw = i32::from(alaw_to_linear(linear_to_alaw(sample)));
            assert!(
                (ulaw - i32::from(sample)).abs() <= step.max(ULAW_BIAS),
                "μ-law {sample} → {ulaw}"
            );
            assert!(
                (alaw - i32::from(sample)).abs() <= step,
                "A-law {sample} → {alaw}"
            );
        }
    }
}
