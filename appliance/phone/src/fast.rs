//! A lock-free fast path through libphonenumber's own metadata.
//!
//! The `phonenumber` crate keeps its compiled patterns in one cache behind a
//! mutex, so classifying numbers on several threads at once is slower than on one
//! (measured: 1,000,000 numbers took 9 s on two threads, 5.8 s on one). This
//! module compiles the default region's patterns once, from the same metadata
//! text with the same regex options, and classifies with the same algorithm
//! (`phonenumber`'s `validator::number_type`) without any lock.
//!
//! It handles the common shapes — a national number with its trunk prefix
//! (`0525551234`), an international one with the region's own code
//! (`+972525551234`), and bare digits that lost the trunk prefix in a spreadsheet
//! (`525551234`) — for which the national significant number is plain; every
//! other shape goes to `phonenumber` itself. Proptests hold its verdicts (valid
//! with a line type, or not an allocated number) equal to `phonenumber`'s.

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use phonenumber::{Type, country};

use crate::{E164, LineType, line_type_of};

struct Pattern {
    lengths: Vec<u16>,
    regex: regex::Regex,
}

impl Pattern {
    fn new(descriptor: &Descriptor) -> Option<Pattern> {
        // `phonenumber` asks for the leftmost match and checks that it starts at
        // 0; a match starting at 0 exists exactly when the pattern anchored at the
        // start matches, which needs no reverse search. (The newline ends any
        // comment the pattern might close with in whitespace-insensitive mode.)
        let anchored = format!("^(?:{}\n)", descriptor.national_number().as_str());
        let regex = regex::RegexBuilder::new(&anchored)
            .ignore_whitespace(true)
            // Room for the lazy DFA of the long metadata patterns, so its states
            // are built once rather than thrown away and rebuilt.
            .dfa_size_limit(32 << 20)
            .build()
            .ok()?;
        Some(Pattern {
            lengths: descriptor.possible_length().to_vec(),
            regex,
        })
    }

    /// `phonenumber`'s `Descriptor::is_match`.
    fn is_match(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16)))
            && self.regex.is_match(national)
    }
}

pub(crate) struct FastPath {
    country_code: u16,
    /// `+972`: the prefix an international spelling of this region starts with.
    international: String,
    national_prefix: String,
    general: Pattern,
    /// In `number_type`'s order, before fixed line and mobile.
    special: Vec<(Type, Pattern)>,
    fixed_line: Option<Pattern>,
    mobile: Option<Pattern>,
    fixed_line_is_mobile: bool,
}

fn compiled(descriptor: Option<&Descriptor>) -> Result<Option<Pattern>, ()> {
    match descriptor {
        None => Ok(None),
        Some(descriptor) => Pattern::new(descriptor).map(Some).ok_or(()),
    }
}

impl FastPath {
    /// The fast path for `region`, or `None` when it cannot be built exactly
    /// (then everything goes through `phonenumber`).
    pub(crate) fn new(region: country::Id) -> Option<FastPath> {
        let meta: &Metadata = DATABASE.by_id(region.as_ref())?;
        let code = meta.country_code();
        // Country codes shared by several regions (+1, +7) pick the region by
        // leading digits; keep those on the slow path.
        if DATABASE.region(&code)?.len() != 1 || meta.national_prefix_for_parsing().is_some() {
            return None;
        }
        let national_prefix = meta.national_prefix()?.to_owned();
        let special_types = [
            Type::PremiumRate,
            Type::TollFree,
            Type::SharedCost,
            Type::Voip,
            Type::PersonalNumber,
            Type::Pager,
            Type::Uan,
            Type::Voicemail,
        ];
        let mut special = Vec::new();
        for kind in special_types {
            if let Some(pattern) = compiled(meta.descriptors().get(kind)).ok()? {
                special.push((kind, pattern));
            }
        }
        let fixed = meta.descriptors().fixed_line();
        let mobile = meta.descriptors().mobile();
        let fixed_line_is_mobile = fixed.map(|d| d.national_number().as_str())
            == mobile.map(|d| d.national_number().as_str());
        Some(FastPath {
            country_code: code,
            international: format!("+{code}"),
            national_prefix,
            general: Pattern::new(meta.descriptors().general())?,
            special,
            fixed_line: compiled(fixed).ok()?,
            mobile: compiled(mobile).ok()?,
            fixed_line_is_mobile,
        })
    }

    /// `phonenumber`'s `validator::number_type`, for this region.
    fn number_type(&self, national: &str) -> Type {
        if !self.general.is_match(national) {
            return Type::Unknown;
        }
        for (kind, pattern) in &self.special {
            if pattern.is_match(national) {
                return *kind;
            }
        }
        if let Some(fixed) = &self.fixed_line
            && fixed.is_match(national)
        {
            let also_mobile = self.mobile.as_ref().is_some_and(|m| m.is_match(national));
            return if self.fixed_line_is_mobile || also_mobile {
                Type::FixedLineOrMobile
            } else {
                Type::FixedLine
            };
        }
        if self.mobile.as_ref().is_some_and(|m| m.is_match(national)) {
            return Type::Mobile;
        }
        Type::Unknown
    }

    /// The national significant number, for the shapes handled here:
    /// `+972…`, `0…` (the trunk prefix), and bare digits such as `525551234`
    /// (a spreadsheet cell that lost its leading zero).
    fn national<'a>(&self, cleaned: &'a str) -> Option<&'a str> {
        let code = &self.international[1..];
        let (national, allowed_first) =
            if let Some(rest) = cleaned.strip_prefix(self.international.as_str()) {
                (rest, b'1'..=b'9')
            } else if let Some(rest) = cleaned.strip_prefix(self.national_prefix.as_str()) {
                // After the trunk prefix, 0 or 1 can start an exit code (Israel's 00
                // and 012–019): leave those to libphonenumber.
                (rest, b'2'..=b'9')
            } else if cleaned.starts_with(code) {
                // Digits that start with the country code but no '+': libphonenumber
                // decides whether the code is part of the number.
                return None;
            } else {
                (cleaned, b'1'..=b'9')
            };
        national
            .bytes()
            .next()
            .filter(|first| allowed_first.contains(first))
            .map(|_| national)
    }

    /// The verdict for a number in one of the handled shapes: `Some(Ok)` valid,
    /// `Some(Err(()))` not a valid number (no allocated range matches);
    /// `None` means the shape is not handled here — ask libphonenumber.
    pub(crate) fn classify(&self, cleaned: &str) -> Option<Result<(E164, LineType), ()>> {
        let national = self.national(cleaned)?;
        if !national.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let Some(line_type) = line_type_of(self.number_type(national)) else {
            return Some(Err(()));
        };
        let e164: E164 = format!("+{}{national}", self.country_code).parse().ok()?;
        Some(Ok((e164, line_type)))
    }

    /// [`FastPath::classify`]'s valid numbers only.
    #[cfg(test)]
    pub(crate) fn accept(&self, cleaned: &str) -> Option<(E164, LineType)> {
        self.classify(cleaned)?.ok()
    }

    pub(crate) fn country_code(&self) -> u16 {
        self.country_code
    }
}
