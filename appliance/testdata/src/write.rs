//! Writing generated rows as .xlsx and .csv files.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, bail};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};

use crate::{Cell, ContactsSpec, GeneratedRow, SHEET_NAME, contacts, headers};

/// Rows an .xlsx sheet holds, the header included.
const XLSX_MAX_ROWS: usize = 1_048_576;

/// Writes the sheet of `spec` as .xlsx: header in row 1, worksheet [`SHEET_NAME`],
/// right to left. Memory stays bounded whatever the row count (constant-memory
/// worksheet: rows go to a temporary file as they are written, strings inline).
pub fn write_xlsx(spec: &ContactsSpec, path: &Path) -> anyhow::Result<()> {
    write_xlsx_rows(&headers(spec), contacts(spec), path)
}

/// Writes `header` and then `rows` as .xlsx, like [`write_xlsx`].
pub fn write_xlsx_rows(
    header: &[&str],
    rows: impl IntoIterator<Item = GeneratedRow>,
    path: &Path,
) -> anyhow::Result<()> {
    let mut workbook = Workbook::new();
    // A fixed creation date, so the same rows give a byte-identical file.
    let created = ExcelDateTime::from_ymd(2024, 1, 1)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&created)
            .set_author("shofar-testdata"),
    );
    let mut sheet = workbook
        .new_worksheet_with_constant_memory()
        .context("creating the worksheet's temporary file")?;
    sheet.set_name(SHEET_NAME)?;
    sheet.set_right_to_left(true);
    for (col, width) in [14, 14, 18, 16, 12, 20]
        .into_iter()
        .enumerate()
        .take(header.len())
    {
        sheet.set_column_width(col as u16, width)?;
    }
    for (col, name) in header.iter().enumerate() {
        sheet.write_string(0, col as u16, *name)?;
    }
    for (index, row) in rows.into_iter().enumerate() {
        if index + 1 >= XLSX_MAX_ROWS {
            bail!(
                "an .xlsx sheet holds at most {} data rows",
                XLSX_MAX_ROWS - 1
            );
        }
        let excel_row = (index + 1) as u32;
        for (col, cell) in row.cells.iter().enumerate() {
            match cell {
                Cell::Text(text) => {
                    sheet.write_string(excel_row, col as u16, text)?;
                }
                Cell::Number(value) => {
                    sheet.write_number(excel_row, col as u16, *value)?;
                }
                Cell::Empty => {}
            }
        }
    }
    workbook.push_worksheet(sheet);
    workbook
        .save(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Text encodings of CSV files people export from Excel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvEncoding {
    /// UTF-8 without a byte order mark.
    Utf8,
    /// UTF-8 with a byte order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    /// windows-1255, Hebrew Windows' code page (Excel's plain "CSV" on a Hebrew Windows).
    Windows1255,
}

/// Writes the sheet of `spec` as CSV with CRLF line ends, as Excel does. Numeric
/// cells are written the way Excel exports them: `525551234`, without the leading
/// 0 and without a decimal point.
pub fn write_csv(
    spec: &ContactsSpec,
    path: &Path,
    encoding: CsvEncoding,
    delimiter: u8,
) -> anyhow::Result<()> {
    write_csv_rows(&headers(spec), contacts(spec), path, encoding, delimiter)
}

/// Writes `header` and then `rows` as CSV, like [`write_csv`].
pub fn write_csv_rows(
    header: &[&str],
    rows: impl IntoIterator<Item = GeneratedRow>,
    path: &Path,
    encoding: CsvEncoding,
    delimiter: u8,
) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    if encoding == CsvEncoding::Utf8Bom {
        out.write_all(b"\xEF\xBB\xBF")?;
    }
    let sink = Recode {
        out,
        pending: Vec::new(),
        windows_1255: encoding == CsvEncoding::Windows1255,
    };
    let mut csv = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::CRLF)
        .buffer_capacity(1 << 16)
        .from_writer(sink);
    csv.write_record(header)?;
    let mut fields: Vec<String> = Vec::with_capacity(header.len());
    for (index, row) in rows.into_iter().enumerate() {
        fields.clear();
        fields.extend(row.cells.iter().map(Cell::to_csv_text));
        csv.write_record(&fields)
            .with_context(|| format!("writing data row {} of {}", index + 1, path.display()))?;
    }
    let sink = csv
        .into_inner()
        .map_err(|error| error.into_error())
        .with_context(|| format!("writing {}", path.display()))?;
    sink.finish()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Passes UTF-8 through, or re-encodes it as windows-1255. The CSV writer may
/// split its output anywhere, so an incomplete UTF-8 sequence at the end of a
/// chunk waits for the next one.
struct Recode<W: Write> {
    out: W,
    pending: Vec<u8>,
    windows_1255: bool,
}

impl<W: Write> Recode<W> {
    fn encode(&mut self, text: &str) -> io::Result<()> {
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1255.encode(text);
        if unmappable {
            let bad = text
                .chars()
                .find(|c| {
                    encoding_rs::WINDOWS_1255
                        .encode(c.encode_utf8(&mut [0; 4]))
                        .2
                })
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("windows-1255 has no {bad:?} (U+{:04X})", u32::from(bad)),
            ));
        }
        self.out.write_all(&bytes)
    }

    fn finish(mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "CSV output ends inside a UTF-8 sequence",
            ));
        }
        self.out.flush()
    }
}

impl<W: Write> Write for Recode<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.windows_1255 {
            return self.out.write(buf);
        }
        self.pending.extend_from_slice(buf);
        let pending = std::mem::take(&mut self.pending);
        let valid = match std::str::from_utf8(&pending) {
            Ok(text) => text.len(),
            Err(error) if error.error_len().is_none() => error.valid_up_to(),
            Err(error) => return Err(io::Error::new(io::ErrorKind::InvalidData, error)),
        };
        let text = std::str::from_utf8(&pending[..valid]).expect("checked UTF-8");
        self.encode(text)?;
        self.pending = pending[valid..].to_vec();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
