//! The rejected-rows file: the invalid and duplicate rows, with their row number
//! and reason, beside the imported file, as CSV that Excel opens with Hebrew
//! intact (UTF-8 with a byte-order mark).
//!
//! Bounded: it keeps the first [`MAX_REJECTED_ROWS`] rows and at most
//! [`MAX_REJECTED_BYTES`]; a last line says how many more were left out (the
//! summary counts them too). A file of half a billion junk rows once wrote
//! 775 MB of it.
//!
//! Written as `<name>.partial` and moved into place when the import ends well;
//! dropped unfinished (an error, a refused file, a panic) the partial file is
//! deleted. Only a process that dies outright (killed, the power cut) leaves one
//! behind; `cleanup` removes those.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::ImportError;
use crate::source::Row;

/// row, kind, value, reason, סיבה.
const FIXED_COLUMNS: usize = 5;

/// The most rejected rows the file keeps: far more than a person reads, enough
/// to see what went wrong with a list.
pub const MAX_REJECTED_ROWS: u64 = 100_000;

/// The most bytes the file's rows take (long rows reach this before the row
/// count does).
pub const MAX_REJECTED_BYTES: u64 = 64 * 1024 * 1024;

/// The end of a rejected-rows file's name while it is written.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// Counts the bytes written through it.
struct Counted {
    file: File,
    bytes: u64,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

pub struct RejectedRows {
    target: PathBuf,
    fallback_dir: Option<PathBuf>,
    headers: Vec<String>,
    /// Written to `<target>.partial`, renamed at the end: a failed import leaves
    /// no half-written file behind.
    writer: Option<(PathBuf, csv::Writer<BufWriter<Counted>>)>,
    written: u64,
    /// Rows past the bounds, counted but not written.
    omitted: u64,
}

/// `donors.xlsx` → `donors.rejected.csv`, beside it.
pub fn rejected_path(data_file: &Path) -> PathBuf {
    let stem = data_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".to_owned());
    data_file.with_file_name(format!("{stem}.rejected.csv"))
}

impl RejectedRows {
    pub fn new(
        data_file: &Path,
        fallback_dir: Option<PathBuf>,
        headers: Vec<String>,
    ) -> RejectedRows {
        RejectedRows {
            target: rejected_path(data_file),
            fallback_dir,
            headers,
            writer: None,
            written: 0,
            omitted: 0,
        }
    }

    /// Rows rejected but left out of the file (past its bounds).
    pub fn omitted(&self) -> u64 {
        self.omitted
    }

    fn open(&mut self) -> Result<&mut csv::Writer<BufWriter<Counted>>, ImportError> {
        if self.writer.is_none() {
            let partial = |target: &Path| {
                let mut name = target.as_os_str().to_owned();
                name.push(PARTIAL_SUFFIX);
                PathBuf::from(name)
            };
            let file = match File::create(partial(&self.target)) {
                Ok(file) => file,
                Err(error) => {
                    // The data file's folder may be read-only (a mounted USB stick);
                    // then the file goes to the data directory.
                    let Some(dir) = &self.fallback_dir else {
                        return Err(ImportError::RejectedFile {
                            path: self.target.clone(),
                            source: error,
                        });
                    };
                    std::fs::create_dir_all(dir).map_err(|source| ImportError::RejectedFile {
                        path: dir.clone(),
                        source,
                    })?;
                    self.target = dir.join(self.target.file_name().unwrap_or_default());
                    File::create(partial(&self.target)).map_err(|source| {
                        ImportError::RejectedFile {
                            path: self.target.clone(),
                            source,
                        }
                    })?
                }
            };
            let mut buffered = BufWriter::new(Counted { file, bytes: 0 });
            let write_error = |source| ImportError::RejectedFile {
                path: self.target.clone(),
                source,
            };
            buffered
                .write_all("\u{FEFF}".as_bytes())
                .map_err(write_error)?;
            // Rows may be shorter or longer than the header; every row gets at least
            // the header's columns so they line up in a spreadsheet.
            let mut writer = csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(buffered);
            let mut header = vec![
                "row".to_owned(),
                "kind".to_owned(),
                "value".to_owned(),
                "reason".to_owned(),
                "סיבה".to_owned(),
            ];
            header.extend(self.headers.iter().cloned());
            writer
                .write_record(&header)
                .map_err(|error| ImportError::RejectedFile {
                    path: self.target.clone(),
                    source: error.into(),
                })?;
            self.writer = Some((partial(&self.target), writer));
        }
        Ok(&mut self.writer.as_mut().expect("opened above").1)
    }

    /// Writes one rejected row: what kind, the phone value, the reason in English
    /// and in Hebrew, then the row's own cells.
    pub fn add(
        &mut self,
        row: &Row,
        kind: &str,
        value: &str,
        reason: &str,
        hebrew: &str,
    ) -> Result<(), ImportError> {
        let full = self.written >= MAX_REJECTED_ROWS
            || self
                .writer
                .as_ref()
                .is_some_and(|(_, writer)| writer.get_ref().get_ref().bytes >= MAX_REJECTED_BYTES);
        if full {
            self.omitted += 1;
            return Ok(());
        }
        self.written += 1;
        let target = self.target.clone();
        let width = FIXED_COLUMNS + self.headers.len();
        let writer = self.open()?;
        let mut record = vec![
            row.number.to_string(),
            kind.to_owned(),
            value.to_owned(),
            reason.to_owned(),
            hebrew.to_owned(),
        ];
        record.extend(row.cells.iter().map(|cell| cell.to_text()));
        if record.len() < width {
            record.resize(width, String::new());
        }
        writer
            .write_record(&record)
            .map_err(|error| ImportError::RejectedFile {
                path: target,
                source: error.into(),
            })
    }

    /// Flushes and moves the file into place; `None` when nothing was rejected.
    pub fn finish(mut self) -> Result<Option<PathBuf>, ImportError> {
        let io = |source| ImportError::RejectedFile {
            path: self.target.clone(),
            source,
        };
        if self.omitted > 0
            && let Some((_, writer)) = self.writer.as_mut()
        {
            let (kept, omitted) = (self.written, self.omitted);
            writer
                .write_record([
                    "…".to_owned(),
                    "omitted".to_owned(),
                    String::new(),
                    format!("{omitted} more rejected rows are left out of this file; it keeps the first {kept}"),
                    format!("עוד {omitted} שורות שנדחו אינן בקובץ הזה; הוא שומר את {kept} הראשונות"),
                ])
                .map_err(|error| io(error.into()))?;
        }
        let Some((partial, writer)) = self.writer.take() else {
            return Ok(None);
        };
        let buffered = writer
            .into_inner()
            .map_err(|error| io(error.into_error()))?;
        buffered
            .into_inner()
            .map_err(|error| io(error.into_error()))?
            .file
            .sync_all()
            .map_err(io)?;
        std::fs::rename(&partial, &self.target).map_err(io)?;
        Ok(Some(self.target.clone()))
    }
}

impl Drop for RejectedRows {
    fn drop(&mut self) {
        if let Some((partial, _)) = self.writer.take() {
            let _ = std::fs::remove_file(partial);
        }
    }
}
