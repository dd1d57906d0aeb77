//! Lines of text as a reader sees them: the Unicode bidi algorithm splits a line
//! into runs in visual order, and each run is shaped in its own direction, so a
//! Hebrew sentence with Latin words, digits and phone numbers comes out right to
//! left with the numbers still readable left to right.
//!
//! A line is shaped once, which gives its exact width: tables align cells to the
//! right (Hebrew) or left (English) with the same glyphs they draw.

use krilla::geom::Point;
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use rustybuzz::{Direction, UnicodeBuffer};
use unicode_bidi::{Level, ParagraphBidiInfo};

use crate::ExportError;

static REGULAR_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");

/// One typeface, as the PDF embeds it and as the shaper reads it.
pub(crate) struct Face {
    pdf_font: Font,
    shaper: rustybuzz::Face<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(data: &'static [u8]) -> Result<Face, ExportError> {
        let broken = || ExportError::Pdf("the embedded DejaVu font cannot be read".to_owned());
        let pdf_font = Font::new(data.into(), 0).ok_or_else(broken)?;
        let shaper = rustybuzz::Face::from_slice(data, 0).ok_or_else(broken)?;
        let units_per_em = shaper.units_per_em() as f32;
        Ok(Face {
            pdf_font,
            shaper,
            units_per_em,
        })
    }
}

/// The two weights a report uses.
pub(crate) struct Fonts {
    pub(crate) regular: Face,
    pub(crate) bold: Face,
}

impl Fonts {
    pub(crate) fn load() -> Result<Fonts, ExportError> {
        Ok(Fonts {
            regular: Face::load(REGULAR_TTF)?,
            bold: Face::load(BOLD_TTF)?,
        })
    }
}

/// The direction a line's paragraph takes when its text does not decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base {
    /// The document's own sentences (labels, headings): its language's direction.
    Ltr,
    Rtl,
    /// Data (names, numbers, dates): the first strong letter decides, and text
    /// without letters (a phone number, a date) reads left to right.
    Auto,
}

/// A run of text in one direction, shaped, in visual order within its line.
struct Run {
    text: String,
    glyphs: Vec<KrillaGlyph>,
    /// Width in ems.
    advance: f32,
}

/// A line, shaped, ready to measure and draw.
pub(crate) struct Line {
    runs: Vec<Run>,
    /// Width in ems.
    advance: f32,
}

impl Line {
    pub(crate) fn width(&self, size: f32) -> f32 {
        self.advance * size
    }

    /// Draws the line with its left end at `x` and its baseline at `baseline`.
    pub(crate) fn draw(
        &self,
        surface: &mut Surface<'_>,
        face: &Face,
        size: f32,
        x: f32,
        baseline: f32,
    ) {
        let mut pen = x;
        for run in &self.runs {
            surface.draw_glyphs(
                Point::from_xy(pen, baseline),
                &run.glyphs,
                face.pdf_font.clone(),
                &run.text,
                size,
                false,
            );
            pen += run.advance * size;
        }
    }
}

/// Control characters (a newline in a campaign name, a tab) would break a line
/// or draw as boxes; in a one-line cell they read as spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub(crate) fn shape(face: &Face, text: &str, base: Base) -> Line {
    let text = one_line(text);
    if text.is_empty() {
        return Line {
            runs: Vec::new(),
            advance: 0.0,
        };
    }
    let level = match base {
        Base::Ltr => Some(Level::ltr()),
        Base::Rtl => Some(Level::rtl()),
        Base::Auto => None,
    };
    let bidi = ParagraphBidiInfo::new(&text, level);
    let (levels, visual_runs) = bidi.visual_runs(0..text.len());
    let mut runs = Vec::with_capacity(visual_runs.len());
    let mut advance = 0.0;
    for range in visual_runs {
        let rtl = levels.get(range.start).is_some_and(|level| level.is_rtl());
        let Some(run_text) = text.get(range) else {
            continue;
        };
        let run = shape_run(face, run_text, rtl);
        advance += run.advance;
        runs.push(run);
    }
    Line { runs, advance }
}

fn shape_run(face: &Face, text: &str, rtl: bool) -> Run {
    let mut buffer = UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    buffer.set_direction(if rtl {
        Direction::RightToLeft
    } else {
        Direction::LeftToRight
    });
    let output = rustybuzz::shape(&face.shaper, &[], buffer);

    // Each glyph stands for the text from its cluster to the next cluster in
    // logical order (or the end): that is what text extraction gives back.
    let mut cluster_starts: Vec<usize> = output
        .glyph_infos()
        .iter()
        .map(|info| info.cluster as usize)
        .collect();
    cluster_starts.sort_unstable();
    cluster_starts.dedup();
    let cluster_end = |start: usize| -> usize {
        let next = cluster_starts.partition_point(|&s| s <= start);
        cluster_starts.get(next).copied().unwrap_or(text.len())
    };

    let em = face.units_per_em;
    let mut advance = 0.0;
    let glyphs = output
        .glyph_infos()
        .iter()
        .zip(output.glyph_positions())
        .map(|(info, position)| {
            let start = info.cluster as usize;
            let x_advance = position.x_advance as f32 / em;
            advance += x_advance;
            KrillaGlyph::new(
                GlyphId::new(info.glyph_id),
                x_advance,
                position.x_offset as f32 / em,
                position.y_offset as f32 / em,
                position.y_advance as f32 / em,
                start..cluster_end(start),
                None,
            )
        })
        .collect();
    Run {
        text: text.to_owned(),
        glyphs,
        advance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use krilla::text::Glyph;

    /// The line's characters from left to right as the page shows them.
    fn visual(text: &str, base: Base) -> String {
        let fonts = Fonts::load().unwrap();
        let line = shape(&fonts.regular, text, base);
        assert!(text.trim().is_empty() || line.width(10.0) > 0.0);
        line.runs
            .iter()
            .map(|run| {
                let rtl = run.glyphs.len() > 1
                    && run.glyphs.first().map(|g| g.text_range().start)
                        > run.glyphs.last().map(|g| g.text_range().start);
                if rtl {
                    run.text.chars().rev().collect()
                } else {
                    run.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn mixed_lines_come_out_in_visual_order() {
        let check = |text: &str, base: Base, expected: &str| {
            assert_eq!(visual(text, base), expected, "{text}")
        };
        // Hebrew reads from the right; numbers, phone numbers and Latin words
        // inside it keep their own left-to-right order.
        check(
            "קמפיין 12: תרומות חורף 2026",
            Base::Rtl,
            "2026 ףרוח תומורת :12 ןייפמק",
        );
        check("תרומות חורף 2026", Base::Auto, "2026 ףרוח תומורת");
        check("שיעור מענה 45.5%", Base::Rtl, "45.5% הנעמ רועיש");
        check("+972525551234", Base::Auto, "+972525551234");
        check("22/11/2026 14:05", Base::Auto, "22/11/2026 14:05");
        check("1#", Base::Auto, "1#");
        check("Campaign: תרומות חורף", Base::Ltr, "Campaign: ףרוח תומורת");
        check("Winter 2026", Base::Auto, "Winter 2026");
        check("", Base::Rtl, "");
        check("a\nb", Base::Auto, "a b");
    }
}
