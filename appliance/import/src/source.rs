//! Reading rows out of spreadsheet files, whatever their format and encoding.
//!
//! Each reader runs on its own thread and sends batches of rows down a bounded
//! channel, so memory stays bounded however long the file is (except for `.xls`
//! and `.ods`, which calamine reads whole: `.xls` holds at most 65,536 rows).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;

use calamine::{Data, DataRef, Reader};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1255};

use crate::{ImportError, Progress, ProgressUnit};

/// Excel's own limit on a cell's length is 32,767 characters; a cell far beyond it
/// means the file is not a contact list (or is damaged).
pub const MAX_CELL_BYTES: usize = 64 * 1024;

/// The most a workbook (`.xlsx`, `.ods`: a zip of XML files) may unpack to,
/// by the sizes its zip directory declares (the zip reader holds every entry
/// to its declared size). A 1,000,000-row contact list from `shofar-gen`
/// (6 columns, 33.5 MB) unpacks to 305 MB, 9.1× (docs/benchmarks.md); a list
/// past this limit (some 3,000,000 rows) is better imported as CSV.
pub const MAX_UNPACKED_BYTES: u64 = 1_000_000_000;

/// How much more than its packed size a large workbook may unpack to. Real
/// spreadsheets pack about 5–15× (9.1× above); a file of repeated bytes made
/// to blow up (a zip bomb) packs hundreds of times.
pub const MAX_PACKING_RATIO: u64 = 100;

/// Below this unpacked size the ratio is not checked: a small sheet of
/// repeated cells packs tightly and harms nobody.
const RATIO_CHECKED_FROM: u64 = 50_000_000;

/// Rows per batch sent from the reader thread.
pub const BATCH_ROWS: usize = 4096;

/// Batches a stage may run ahead of the next: enough to ride out short stalls,
/// few enough that memory stays bounded (a batch is about a megabyte). 16 was
/// measured no faster and 30 MiB larger.
pub const QUEUED_BATCHES: usize = 4;

/// One cell as the import sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A date cell, as `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`.
    Date(String),
    /// A formula error such as `#N/A`.
    Error(String),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(text) => text.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as a phone number to normalize: numeric cells stay numbers (Excel
    /// dropped their leading zero), everything else is text.
    pub fn as_phone(&self) -> shofar_phone::RawPhone<'_> {
        match self {
            Cell::Number(value) => shofar_phone::RawPhone::Number(*value),
            Cell::Text(text) | Cell::Date(text) | Cell::Error(text) => {
                shofar_phone::RawPhone::Text(text)
            }
            Cell::Empty | Cell::Bool(_) => shofar_phone::RawPhone::Text(""),
        }
    }

    /// The cell as text, the way a person would read it in the spreadsheet: whole
    /// numbers without `.0`.
    pub fn to_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) => text.trim().to_owned(),
            Cell::Number(value) if value.fract() == 0.0 && value.abs() < 1e17 => {
                format!("{}", *value as i64)
            }
            Cell::Number(value) => value.to_string(),
            Cell::Bool(value) => value.to_string(),
            Cell::Date(text) | Cell::Error(text) => text.clone(),
        }
    }
}

/// One row: the spreadsheet's own row number (the first row is 1) and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub number: u64,
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn is_empty(&self) -> bool {
        self.cells.iter().all(Cell::is_empty)
    }
}

/// The file formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Xls,
    Ods,
    Csv,
}

impl Format {
    /// The format a file's extension names.
    pub fn of(path: &Path) -> Result<Format, ImportError> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match extension.as_str() {
            "xlsx" | "xlsm" => Ok(Format::Xlsx),
            "xls" => Ok(Format::Xls),
            "ods" => Ok(Format::Ods),
            "csv" | "txt" | "tsv" => Ok(Format::Csv),
            _ => Err(ImportError::UnsupportedType {
                path: path.to_owned(),
                extension,
            }),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Xlsx => "an Excel workbook (.xlsx)",
            Format::Xls => "an Excel 97-2003 workbook (.xls)",
            Format::Ods => "an OpenDocument spreadsheet (.ods)",
            Format::Csv => "a CSV text file",
        }
    }
}

/// What the first bytes of a file say it is.
fn sniff(head: &[u8]) -> &'static str {
    if head.starts_with(b"PK\x03\x04") {
        "a zip container (.xlsx or .ods)"
    } else if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        "an Excel 97-2003 workbook (.xls)"
    } else if head.starts_with(b"%PDF") {
        "a PDF document"
    } else if head
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(5)
        .map(u8::to_ascii_lowercase)
        .eq(b"<html".iter().copied())
        || head
            .windows(5)
            .take(512)
            .any(|w| w.eq_ignore_ascii_case(b"<html"))
    {
        "an HTML page (some systems export those named .xls)"
    } else {
        "text"
    }
}

/// Checks that the content matches the extension, so a mismatch gets a message that
/// says so rather than a parser's complaint.
pub fn check_content(path: &Path, format: Format) -> Result<(), ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut head = Vec::with_capacity(1024);
    file.by_ref()
        .take(1024)
        .read_to_end(&mut head)
        .map_err(io)?;
    if head.is_empty() {
        return Err(ImportError::EmptyFile {
            path: path.to_owned(),
        });
    }
    let found = sniff(&head);
    let fits = match format {
        Format::Xlsx | Format::Ods => found.starts_with("a zip"),
        Format::Xls => found.starts_with("an Excel 97"),
        Format::Csv => found == "text",
    };
    if !fits {
        return Err(ImportError::WrongContent {
            path: path.to_owned(),
            expected: format.name(),
            found,
        });
    }
    if matches!(format, Format::Xlsx | Format::Ods) {
        check_unpacked_size(path, file)?;
    }
    Ok(())
}

/// Refuses a workbook whose zip directory declares more than
/// [`MAX_UNPACKED_BYTES`] in all, or (past 50 MB) more than
/// [`MAX_PACKING_RATIO`] times its packed size — before anything is unpacked.
/// A directory that cannot be read is left for calamine to report.
fn check_unpacked_size(path: &Path, file: File) -> Result<(), ImportError> {
    let Ok(mut archive) = zip::ZipArchive::new(BufReader::new(file)) else {
        return Ok(());
    };
    let (mut unpacked, mut compressed) = (0u64, 0u64);
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(index) else {
            return Ok(());
        };
        unpacked = unpacked.saturating_add(entry.size());
        compressed = compressed.saturating_add(entry.compressed_size());
    }
    if unpacked_too_large(unpacked, compressed) {
        return Err(ImportError::UnpacksTooLarge {
            path: path.to_owned(),
            unpacked,
            compressed,
        });
    }
    Ok(())
}

/// The rule [`check_unpacked_size`] applies to a workbook's declared totals.
pub fn unpacked_too_large(unpacked: u64, compressed: u64) -> bool {
    unpacked > MAX_UNPACKED_BYTES
        || (unpacked > RATIO_CHECKED_FROM && unpacked / compressed.max(1) > MAX_PACKING_RATIO)
}

/// Where reading stands, for the progress bar.
struct Batcher<'a> {
    tx: &'a SyncSender<Result<Vec<Row>, ImportError>>,
    batch: Vec<Row>,
    progress: &'a dyn Progress,
    rows: u64,
}

impl<'a> Batcher<'a> {
    fn new(tx: &'a SyncSender<Result<Vec<Row>, ImportError>>, progress: &'a dyn Progress) -> Self {
        Batcher {
            tx,
            batch: Vec::with_capacity(BATCH_ROWS),
            progress,
            rows: 0,
        }
    }

    /// Queues a row; returns false when the consumer hung up (it failed or stopped).
    fn push(&mut self, row: Row) -> bool {
        if row.is_empty() {
            return true;
        }
        self.rows += 1;
        self.batch.push(row);
        if self.batch.len() >= BATCH_ROWS {
            return self.flush();
        }
        true
    }

    fn flush(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS));
        self.tx.send(Ok(batch)).is_ok()
    }
}

fn check_size(row: u64, column: usize, text: &str) -> Result<(), ImportError> {
    if text.len() > MAX_CELL_BYTES {
        return Err(ImportError::CellTooLarge {
            row,
            column: column_name(column),
            bytes: text.len(),
        });
    }
    Ok(())
}

/// Spreadsheet column letters: 0 → A, 25 → Z, 26 → AA.
pub fn column_name(index: usize) -> String {
    let mut name = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        name.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

fn excel_date(value: &calamine::ExcelDateTime) -> Cell {
    match value.as_datetime() {
        Some(at) if at.time() == chrono::NaiveTime::MIN => Cell::Date(at.date().to_string()),
        Some(at) => Cell::Date(at.format("%Y-%m-%dT%H:%M:%S").to_string()),
        None => Cell::Number(value.as_f64()),
    }
}

fn from_data_ref(value: DataRef<'_>) -> Cell {
    match value {
        DataRef::Empty => Cell::Empty,
        DataRef::String(text) | DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => {
            Cell::Text(text)
        }
        DataRef::SharedString(text) => Cell::Text(text.to_owned()),
        DataRef::Float(value) => Cell::Number(value),
        DataRef::Int(value) => Cell::Number(value as f64),
        DataRef::Bool(value) => Cell::Bool(value),
        DataRef::DateTime(value) => excel_date(&value),
        DataRef::Error(error) => Cell::Error(error.to_string()),
    }
}

fn from_data(value: &Data) -> Cell {
    match value {
        Data::Empty => Cell::Empty,
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => {
            Cell::Text(text.clone())
        }
        Data::Float(value) => Cell::Number(*value),
        Data::Int(value) => Cell::Number(*value as f64),
        Data::Bool(value) => Cell::Bool(*value),
        Data::DateTime(value) => excel_date(value),
        Data::Error(error) => Cell::Error(error.to_string()),
    }
}

fn cell_text_len(cell: &Cell) -> &str {
    match cell {
        Cell::Text(text) => text,
        _ => "",
    }
}

fn pick_sheet(
    path: &Path,
    names: Vec<String>,
    wanted: Option<&str>,
) -> Result<String, ImportError> {
    match wanted {
        Some(wanted) => names
            .iter()
            .find(|name| name.as_str() == wanted)
            .or_else(|| {
                names
                    .iter()
                    .find(|name| name.trim().eq_ignore_ascii_case(wanted.trim()))
            })
            .cloned()
            .ok_or_else(|| ImportError::SheetNotFound {
                path: path.to_owned(),
                sheet: wanted.to_owned(),
                available: names.clone(),
            }),
        None => names
            .into_iter()
            .next()
            .ok_or_else(|| ImportError::EmptyFile {
                path: path.to_owned(),
            }),
    }
}

fn workbook_error(path: &Path, error: impl std::fmt::Display) -> ImportError {
    ImportError::Workbook {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

/// Reads every non-empty row of `path` and sends it down `tx` in batches. The
/// first error ends the reading and is sent as the last message.
pub fn read_rows(
    path: &Path,
    format: Format,
    sheet: Option<&str>,
    tx: SyncSender<Result<Vec<Row>, ImportError>>,
    progress: &dyn Progress,
) {
    let mut batcher = Batcher::new(&tx, progress);
    let outcome = match format {
        Format::Xlsx => read_xlsx(path, sheet, &mut batcher),
        Format::Xls | Format::Ods => read_whole_sheet(path, format, sheet, &mut batcher),
        Format::Csv => read_csv(path, &mut batcher),
    };
    match outcome {
        Ok(()) => {
            batcher.flush();
        }
        Err(error) => {
            let _ = tx.send(Err(error));
        }
    }
}

fn read_xlsx(
    path: &Path,
    sheet: Option<&str>,
    batcher: &mut Batcher<'_>,
) -> Result<(), ImportError> {
    let mut workbook: calamine::Xlsx<BufReader<File>> =
        calamine::open_workbook(path).map_err(|error| workbook_error(path, error))?;
    let name = pick_sheet(path, workbook.sheet_names(), sheet)?;
    let mut cells = workbook
        .worksheet_cells_reader(&name)
        .map_err(|error| workbook_error(path, error))?;
    let dimensions = cells.dimensions();
    batcher.progress.start(
        u64::from(dimensions.end.0.saturating_sub(dimensions.start.0)) + 1,
        ProgressUnit::Rows,
    );
    let mut current = Row {
        number: 0,
        cells: Vec::new(),
    };
    while let Some(cell) = cells
        .next_cell()
        .map_err(|error| workbook_error(path, error))?
    {
        let (row, column) = cell.get_position();
        let number = u64::from(row) + 1;
        if number != current.number {
            let done = std::mem::replace(
                &mut current,
                Row {
                    number,
                    cells: Vec::new(),
                },
            );
            if done.number != 0 {
                if !batcher.push(done) {
                    return Ok(());
                }
                if batcher.rows.is_multiple_of(BATCH_ROWS as u64) {
                    batcher.progress.advance(number);
                }
            }
        }
        let value = from_data_ref(cell.get_value().clone());
        check_size(number, column as usize, cell_text_len(&value))?;
        let column = column as usize;
        if current.cells.len() <= column {
            current.cells.resize(column + 1, Cell::Empty);
        }
        current.cells[column] = value;
    }
    if current.number != 0 {
        batcher.push(current);
    }
    Ok(())
}

fn read_whole_sheet(
    path: &Path,
    format: Format,
    sheet: Option<&str>,
    batcher: &mut Batcher<'_>,
) -> Result<(), ImportError> {
    let range = if format == Format::Xls {
        let mut workbook: calamine::Xls<BufReader<File>> =
            calamine::open_workbook(path).map_err(|error| workbook_error(path, error))?;
        let name = pick_sheet(path, workbook.sheet_names(), sheet)?;
        workbook
            .worksheet_range(&name)
            .map_err(|error| workbook_error(path, error))?
    } else {
        let mut workbook: calamine::Ods<BufReader<File>> =
            calamine::open_workbook(path).map_err(|error| workbook_error(path, error))?;
        let name = pick_sheet(path, workbook.sheet_names(), sheet)?;
        workbook
            .worksheet_range(&name)
            .map_err(|error| workbook_error(path, error))?
    };
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    batcher
        .progress
        .start(range.height() as u64, ProgressUnit::Rows);
    for (offset, cells) in range.rows().enumerate() {
        let number = u64::from(first_row) + offset as u64 + 1;
        let mut row = Row {
            number,
            cells: vec![Cell::Empty; first_column as usize],
        };
        for (index, value) in cells.iter().enumerate() {
            let cell = from_data(value);
            check_size(number, first_column as usize + index, cell_text_len(&cell))?;
            row.cells.push(cell);
        }
        if !batcher.push(row) {
            return Ok(());
        }
        if offset % BATCH_ROWS == 0 {
            batcher.progress.advance(offset as u64);
        }
    }
    Ok(())
}

/// The text encoding of a CSV file: a BOM says so; otherwise UTF-8 if every byte
/// of the file is valid UTF-8, else Windows-1255 (what Hebrew Excel saves as "CSV").
fn detect_encoding(path: &Path) -> Result<&'static Encoding, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut buffer = vec![0u8; 1 << 20];
    let mut carried = 0usize;
    let mut first = true;
    loop {
        let read = file.read(&mut buffer[carried..]).map_err(io)?;
        if first {
            first = false;
            if let Some((encoding, _)) = Encoding::for_bom(&buffer[..read]) {
                return Ok(encoding);
            }
        }
        let filled = carried + read;
        if read == 0 {
            // Bytes left over at the end are a cut-off character.
            return Ok(if carried == 0 { UTF_8 } else { WINDOWS_1255 });
        }
        match std::str::from_utf8(&buffer[..filled]) {
            Ok(_) => carried = 0,
            Err(error) if error.error_len().is_none() => {
                let valid = error.valid_up_to();
                buffer.copy_within(valid..filled, 0);
                carried = filled - valid;
            }
            Err(_) => return Ok(WINDOWS_1255),
        }
    }
}

/// The delimiter the header line uses most: `,`, `;` or tab.
fn detect_delimiter(first_line: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for byte in first_line.bytes() {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (delimiter, count) in &mut counts {
                if byte == *delimiter {
                    *count += 1;
                }
            }
        }
    }
    // Ties go to the comma, the first in the list.
    counts
        .iter()
        .fold(
            (b',', 0),
            |best, &(d, c)| if c > best.1 { (d, c) } else { best },
        )
        .0
}

/// Counts bytes as they are read, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn decoded_reader(path: &Path, encoding: &'static Encoding) -> Result<impl Read, ImportError> {
    let file = File::open(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .bom_override(true)
        .build(BufReader::with_capacity(1 << 16, file)))
}

fn read_csv(path: &Path, batcher: &mut Batcher<'_>) -> Result<(), ImportError> {
    let encoding = detect_encoding(path)?;
    let io = |source| ImportError::Io {
        path: path.to_owned(),
        source,
    };
    // The delimiter comes from the decoded first line.
    let mut probe = decoded_reader(path, encoding)?;
    let mut head = vec![0u8; 64 * 1024];
    let mut filled = 0;
    while filled < head.len() {
        let n = probe.read(&mut head[filled..]).map_err(io)?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    let head = String::from_utf8_lossy(&head[..filled]);
    let first_line = head
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    let delimiter = detect_delimiter(first_line);
    tracing::debug!(encoding = encoding.name(), delimiter = %(delimiter as char).escape_default(), "reading CSV");

    let size = std::fs::metadata(path).map_err(io)?.len();
    batcher.progress.start(size, ProgressUnit::Bytes);
    let file = File::open(path).map_err(io)?;
    let position = Arc::new(AtomicU64::new(0));
    let counting = Counting {
        inner: file,
        read: Arc::clone(&position),
    };
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .bom_override(true)
        .build(BufReader::with_capacity(1 << 16, counting));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(decoded);
    let mut record = csv::StringRecord::new();
    let mut records = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                let row = records + 1;
                return Err(ImportError::Csv {
                    path: path.to_owned(),
                    row,
                    message: error.to_string(),
                });
            }
        }
        // The record's number, as a spreadsheet shows the file (a quoted field
        // spanning lines is still one row). csv's own line count is off with
        // CRLF line ends, which is what Excel writes.
        records += 1;
        let number = records;
        let mut row = Row {
            number,
            cells: Vec::with_capacity(record.len()),
        };
        for (column, field) in record.iter().enumerate() {
            check_size(number, column, field)?;
            row.cells.push(if field.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(field.to_owned())
            });
        }
        if !batcher.push(row) {
            return Ok(());
        }
        if batcher.rows.is_multiple_of(BATCH_ROWS as u64) {
            batcher.progress.advance(position.load(Ordering::Relaxed));
        }
    }
    Ok(())
}

/// Rows coming from the reader thread, in batches.
pub struct RowStream {
    rx: std::sync::mpsc::Receiver<Result<Vec<Row>, ImportError>>,
    first: Option<Vec<Row>>,
}

impl RowStream {
    /// The next batch of data rows; `None` at the end of the file.
    pub fn next_batch(&mut self) -> Result<Option<Vec<Row>>, ImportError> {
        if let Some(first) = self.first.take().filter(|rows| !rows.is_empty()) {
            return Ok(Some(first));
        }
        match self.rx.recv() {
            Ok(Ok(rows)) => Ok(Some(rows)),
            Ok(Err(error)) => Err(error),
            Err(_) => Ok(None),
        }
    }
}

/// Opens `path`, checks that its content matches its extension, and runs `consume`
/// with the header row (the first non-empty row) and a stream of the data rows,
/// while a reader thread fills the stream.
pub fn with_rows<T>(
    path: &Path,
    sheet: Option<&str>,
    progress: &dyn Progress,
    consume: impl FnOnce(Row, &mut RowStream) -> Result<T, ImportError>,
) -> Result<T, ImportError> {
    let format = Format::of(path)?;
    check_content(path, format)?;
    let (tx, rx) = std::sync::mpsc::sync_channel(QUEUED_BATCHES);
    std::thread::scope(|scope| {
        scope.spawn(move || read_rows(path, format, sheet, tx, progress));
        let mut first = match rx.recv() {
            Ok(Ok(rows)) => rows,
            Ok(Err(error)) => return Err(error),
            Err(_) => {
                return Err(ImportError::EmptyFile {
                    path: path.to_owned(),
                });
            }
        };
        if first.is_empty() {
            return Err(ImportError::EmptyFile {
                path: path.to_owned(),
            });
        }
        let header = first.remove(0);
        let mut stream = RowStream {
            rx,
            first: Some(first),
        };
        let outcome = consume(header, &mut stream);
        // Dropping the stream makes the reader's next send fail, so it stops.
        drop(stream);
        outcome
    })
}
