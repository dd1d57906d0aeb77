//! Israeli phone numbers: drawing valid ones (checked with libphonenumber), spelling
//! them the many ways people type them, and building invalid ones.

use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, Type, country};
use rand::Rng;

use crate::Cell;
use crate::words::{DIGIT_LOOKALIKES, GARBAGE, PHONE_NOTES};

/// Line types a generated valid number may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Mobile,
    FixedLine,
    Voip,
    TollFree,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Mobile => "mobile",
            Kind::FixedLine => "fixed_line",
            Kind::Voip => "voip",
            Kind::TollFree => "toll_free",
        }
    }

    fn from_type(kind: Type) -> Option<Kind> {
        match kind {
            Type::Mobile => Some(Kind::Mobile),
            Type::FixedLine => Some(Kind::FixedLine),
            Type::Voip => Some(Kind::Voip),
            Type::TollFree => Some(Kind::TollFree),
            _ => None,
        }
    }

    /// Digits of the national significant number that form the area/operator code
    /// in the usual spelling: `52`-5551234, `3`-6123456, `1800`-123456.
    fn area_len(self) -> usize {
        match self {
            Kind::Mobile | Kind::Voip => 2,
            Kind::FixedLine => 1,
            Kind::TollFree => 4,
        }
    }
}

/// A number libphonenumber accepted: its national significant number (no trunk 0,
/// no country code) and its line type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Phone {
    pub(crate) nsn: u64,
    pub(crate) kind: Kind,
}

impl Phone {
    pub(crate) fn e164(self) -> String {
        format!("+972{}", self.nsn)
    }
}

/// Parses `text` as a number typed in Israel and returns its E.164 and line type,
/// if libphonenumber says it is valid and of one of the four generated types.
pub(crate) fn libphonenumber_view(text: &str) -> Option<(String, Kind)> {
    let number = phonenumber::parse(Some(country::IL), text).ok()?;
    if !phonenumber::is_valid(&number) {
        return None;
    }
    let kind = Kind::from_type(number.number_type(&DATABASE))?;
    Some((number.format().mode(Mode::E164).to_string(), kind))
}

/// Whether libphonenumber rejects `text` (parse error or an invalid number).
pub(crate) fn libphonenumber_rejects(text: &str) -> bool {
    match phonenumber::parse(Some(country::IL), text) {
        Ok(number) => !phonenumber::is_valid(&number),
        Err(_) => true,
    }
}

/// Checks a candidate national significant number with libphonenumber.
fn verify(nsn: u64) -> Option<Phone> {
    let e164 = format!("+972{nsn}");
    let (formatted, kind) = libphonenumber_view(&e164)?;
    (formatted == e164).then_some(Phone { nsn, kind })
}

/// Picks an index into `weights` with probability proportional to its weight.
pub(crate) fn weighted<R: Rng>(rng: &mut R, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut ticket = rng.random_range(0..total);
    for (index, &weight) in weights.iter().enumerate() {
        if ticket < weight {
            return index;
        }
        ticket -= weight;
    }
    weights.len() - 1
}

/// Picks from `items`, skewed toward the front (lists are ordered common first).
pub(crate) fn skewed<'a, R: Rng, T>(rng: &mut R, items: &'a [T]) -> &'a T {
    let u: f64 = rng.random();
    let index = (u.powf(1.8) * items.len() as f64) as usize;
    &items[index.min(items.len() - 1)]
}

const ATTEMPTS: usize = 10_000;

/// Draws a fresh valid number: mostly mobiles, some landlines (area code from the
/// contact's city when there is one), some VoIP, a few toll-free.
pub(crate) fn draw_valid<R: Rng>(rng: &mut R, city_area: Option<u8>) -> Phone {
    // mobile, fixed line, VoIP, toll-free
    let kind = weighted(rng, &[80, 14, 5, 1]);
    for _ in 0..ATTEMPTS {
        let candidate = match kind {
            0 => draw_mobile(rng),
            1 => draw_fixed(rng, city_area),
            2 => draw_voip(rng),
            _ => 1_800_000_000 + rng.random_range(0..1_000_000),
        };
        if let Some(phone) = verify(candidate) {
            return phone;
        }
    }
    panic!("libphonenumber accepted none of {ATTEMPTS} candidate Israeli numbers");
}

fn draw_mobile<R: Rng>(rng: &mut R) -> u64 {
    // 05X by the operators' market shares: Pelephone, Cellcom, Partner, Hot Mobile,
    // 058 (Golan and MVNOs), 055 (MVNOs).
    const OPERATORS: [u64; 6] = [50, 52, 54, 53, 58, 55];
    let operator = OPERATORS[weighted(rng, &[25, 25, 25, 10, 10, 5])];
    operator * 10_000_000 + rng.random_range(0..10_000_000)
}

fn draw_fixed<R: Rng>(rng: &mut R, city_area: Option<u8>) -> u64 {
    const AREAS: [u8; 5] = [3, 2, 4, 8, 9];
    let area = match city_area {
        Some(area) if rng.random_bool(0.9) => area,
        _ => AREAS[weighted(rng, &[35, 15, 20, 20, 10])],
    };
    // Subscriber numbers start with 2-9.
    u64::from(area) * 10_000_000 + rng.random_range(2_000_000..10_000_000)
}

fn draw_voip<R: Rng>(rng: &mut R) -> u64 {
    const PREFIXES: [u64; 5] = [77, 72, 73, 74, 76];
    let prefix = PREFIXES[weighted(rng, &[40, 20, 20, 10, 10])];
    prefix * 10_000_000 + rng.random_range(0..10_000_000)
}

/// How a valid number is written in its cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spelling {
    Dashed,
    Compact,
    Spaced,
    TwoDashes,
    Parens,
    IntlDashed,
    IntlDigits,
    IntlSpaced,
    Intl00,
    Padded,
    TrailingNote,
    BidiMark,
    NumberLocal,
    NumberIntl,
}

const SPELLINGS: [(Spelling, u32, u32); 14] = [
    // (spelling, weight for mobile/VoIP/toll-free, weight for landlines)
    (Spelling::Dashed, 28, 24),
    (Spelling::Compact, 20, 16),
    (Spelling::Spaced, 5, 5),
    (Spelling::TwoDashes, 7, 7),
    (Spelling::Parens, 2, 9),
    (Spelling::IntlDashed, 4, 4),
    (Spelling::IntlDigits, 4, 4),
    (Spelling::IntlSpaced, 4, 4),
    (Spelling::Intl00, 1, 1),
    (Spelling::Padded, 4, 4),
    (Spelling::TrailingNote, 3, 4),
    (Spelling::BidiMark, 2, 2),
    (Spelling::NumberLocal, 12, 12),
    (Spelling::NumberIntl, 4, 4),
];

/// Writes `phone` the way some person would have typed it.
pub(crate) fn spell<R: Rng>(rng: &mut R, phone: Phone) -> Cell {
    let weights: Vec<u32> = SPELLINGS
        .iter()
        .map(|&(_, other, fixed)| {
            if phone.kind == Kind::FixedLine {
                fixed
            } else {
                other
            }
        })
        .collect();
    let spelling = SPELLINGS[weighted(rng, &weights)].0;

    let nsn = phone.nsn.to_string();
    let (area, sub) = nsn.split_at(phone.kind.area_len());
    let (g1, g2) = sub.split_at(3);
    let toll_free = phone.kind == Kind::TollFree;
    let trunk = if toll_free { "" } else { "0" };
    let dashed = if toll_free {
        format!("1-800-{g1}-{g2}")
    } else {
        format!("{trunk}{area}-{sub}")
    };
    let text = match spelling {
        Spelling::Dashed => dashed,
        Spelling::Compact => format!("{trunk}{nsn}"),
        Spelling::Spaced if toll_free => format!("1 800 {g1} {g2}"),
        Spelling::Spaced => format!("{trunk}{area} {g1} {g2}"),
        Spelling::TwoDashes => format!("{trunk}{area}-{g1}-{g2}"),
        Spelling::Parens if toll_free => dashed,
        Spelling::Parens => format!("({trunk}{area}) {sub}"),
        Spelling::IntlDashed => format!("+972-{area}-{g1}-{g2}"),
        Spelling::IntlDigits => format!("972{nsn}"),
        Spelling::IntlSpaced => format!("+972 {area} {sub}"),
        Spelling::Intl00 => format!("00972-{area}-{sub}"),
        Spelling::Padded => {
            const PADS: [&str; 4] = ["", " ", "  ", "   "];
            let before = PADS[rng.random_range(0..PADS.len())];
            let after = PADS[rng.random_range(1..PADS.len())];
            format!("{before}{dashed}{after}")
        }
        Spelling::TrailingNote => {
            let note = PHONE_NOTES[rng.random_range(0..PHONE_NOTES.len())];
            format!("{dashed} {note}")
        }
        Spelling::BidiMark => {
            // Copied from a right-to-left paragraph: RLM before, sometimes LRM around.
            if rng.random_bool(0.5) {
                format!("\u{200F}{dashed}")
            } else {
                format!("\u{200E}{dashed}\u{200E}")
            }
        }
        Spelling::NumberLocal | Spelling::NumberIntl => {
            let digits = if spelling == Spelling::NumberLocal {
                phone.nsn
            } else {
                972 * 10u64.pow(nsn.len() as u32) + phone.nsn
            };
            // Excel keeps the digits but not the leading 0; make sure the digits
            // alone still read back as the same number before using them.
            if libphonenumber_view(&digits.to_string())
                .is_some_and(|(e164, _)| e164 == phone.e164())
            {
                return Cell::Number(digits as f64);
            }
            dashed
        }
    };
    Cell::Text(text)
}

/// Draws a phone cell that a correct import must reject.
pub(crate) fn draw_invalid<R: Rng>(rng: &mut R) -> Cell {
    // empty, garbage words, too short, star number, unallocated range, letters
    match weighted(rng, &[25, 20, 15, 10, 20, 10]) {
        0 => Cell::Empty,
        1 => Cell::Text(GARBAGE[rng.random_range(0..GARBAGE.len())].to_owned()),
        2 => too_short(rng),
        3 => star_number(rng),
        4 => unallocated(rng),
        _ => with_letters(rng),
    }
}

/// `052-555`, `03-61`: a number cut off while typing (at most 6 digits).
fn too_short<R: Rng>(rng: &mut R) -> Cell {
    let nsn = if rng.random_bool(0.7) {
        draw_mobile(rng)
    } else {
        draw_fixed(rng, None)
    }
    .to_string();
    let area_len = if nsn.starts_with('5') { 2 } else { 1 };
    // total digits with the trunk 0: 1 + area + kept <= 6
    let kept = rng.random_range(1..=5 - area_len);
    let (area, sub) = nsn.split_at(area_len);
    let text = if rng.random_bool(0.6) {
        format!("0{area}-{}", &sub[..kept])
    } else {
        format!("0{area}{}", &sub[..kept])
    };
    debug_assert!(libphonenumber_rejects(&text));
    Cell::Text(text)
}

/// `*2345`, `*6789#`: business short codes.
fn star_number<R: Rng>(rng: &mut R) -> Cell {
    let code = rng.random_range(2000..10_000);
    let hash = if rng.random_bool(0.2) { "#" } else { "" };
    Cell::Text(format!("*{code}{hash}"))
}

/// Numbers of the right shape in ranges no operator has (`050-1234567`), or one
/// digit too long or too short; checked invalid with libphonenumber.
fn unallocated<R: Rng>(rng: &mut R) -> Cell {
    for _ in 0..ATTEMPTS {
        let (digits, dashed) = match rng.random_range(0..5) {
            // 0501, 0511, 0590, 0591: unallocated mobile blocks
            0 => {
                let block = [501u64, 511, 590, 591][rng.random_range(0..4)];
                let rest = rng.random_range(0..1_000_000u64);
                let digits = format!("0{block}{rest:06}");
                let dashed = format!("{}-{}", &digits[..3], &digits[3..]);
                (digits, dashed)
            }
            // a mobile with one digit too many
            1 => {
                let nsn = draw_mobile(rng);
                let extra = rng.random_range(0..10);
                let digits = format!("0{nsn}{extra}");
                let dashed = format!("{}-{}", &digits[..3], &digits[3..]);
                (digits, dashed)
            }
            // a mobile with one digit missing
            2 => {
                let nsn = draw_mobile(rng) / 10;
                let digits = format!("0{nsn}");
                let dashed = format!("{}-{}", &digits[..3], &digits[3..]);
                (digits, dashed)
            }
            // a landline with one digit missing (7 digits after the area code is
            // right, 6 is a number from before the 1990s)
            3 => {
                let nsn = draw_fixed(rng, None) / 10;
                let digits = format!("0{nsn}");
                let dashed = format!("{}-{}", &digits[..2], &digits[2..]);
                (digits, dashed)
            }
            // 01X: no such area code
            _ => {
                let digits = format!("01{}", rng.random_range(10_000_000..100_000_000u64));
                let dashed = format!("{}-{}", &digits[..2], &digits[2..]);
                (digits, dashed)
            }
        };
        if !libphonenumber_rejects(&digits) {
            continue;
        }
        // Sometimes a numeric cell: Excel dropped the leading 0.
        if rng.random_bool(0.2) {
            let value: u64 = digits.parse().expect("digits");
            if libphonenumber_rejects(&value.to_string()) {
                return Cell::Number(value as f64);
            }
        }
        return Cell::Text(dashed);
    }
    panic!("libphonenumber accepted all of {ATTEMPTS} intended-invalid numbers");
}

/// `052-555l234`: one or two digits of a mobile typed as look-alike letters. The
/// letters replace digits (never the leading `05X`), so neither the digits alone
/// nor the run before the first letter form a valid number.
fn with_letters<R: Rng>(rng: &mut R) -> Cell {
    for _ in 0..ATTEMPTS {
        let nsn = draw_mobile(rng);
        let mut chars: Vec<char> = format!("0{nsn}").chars().collect();
        let letters = rng.random_range(1..=2);
        for _ in 0..letters {
            let at = rng.random_range(3..chars.len());
            chars[at] = DIGIT_LOOKALIKES[rng.random_range(0..DIGIT_LOOKALIKES.len())];
        }
        let letters_in: String = chars.iter().collect();
        let text = format!("{}-{}", &letters_in[..3], &letters_in[3..]);
        let digits_only: String = chars.iter().filter(|c| c.is_ascii_digit()).collect();
        if libphonenumber_rejects(&text) && libphonenumber_rejects(&digits_only) {
            return Cell::Text(text);
        }
    }
    panic!("libphonenumber accepted all of {ATTEMPTS} numbers with letters");
}
