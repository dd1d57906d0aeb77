//! The written files read back as the rows that were generated.

use calamine::{Data, Reader, Xlsx, open_workbook};
use shofar_testdata::{
    Cell, ContactsSpec, CsvEncoding, HEADERS, SHEET_NAME, contacts, headers, write_blacklist_csv,
    write_csv, write_xlsx,
};

fn same_cell(read: &Data, written: &Cell) -> bool {
    match (read, written) {
        (Data::String(a), Cell::Text(b)) => a == b,
        (Data::Float(a), Cell::Number(b)) => a == b,
        (Data::Int(a), Cell::Number(b)) => *a as f64 == *b,
        (Data::Empty, Cell::Empty) => true,
        _ => false,
    }
}

#[test]
fn xlsx_reads_back_with_calamine() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.xlsx");
    let spec = ContactsSpec::new(2_000, 17);
    write_xlsx(&spec, &path).unwrap();

    let mut workbook: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(workbook.sheet_names(), vec![SHEET_NAME.to_owned()]);
    let range = workbook.worksheet_range(SHEET_NAME).unwrap();
    assert_eq!(range.start(), Some((0, 0)));
    assert_eq!(range.height(), 2_001, "header + 2,000 rows");
    let mut read = range.rows();
    let header: Vec<String> = read.next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(header, HEADERS);
    for (index, (got, row)) in read.zip(contacts(&spec)).enumerate() {
        for (col, cell) in row.cells.iter().enumerate() {
            let got_cell = got.get(col).unwrap_or(&Data::Empty);
            assert!(
                same_cell(got_cell, cell),
                "row {index} col {col}: {got_cell:?} vs {cell:?}"
            );
        }
    }
}

#[test]
fn csv_windows_1255_decodes_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.csv");
    let spec = ContactsSpec::new(2_000, 5);
    write_csv(&spec, &path, CsvEncoding::Windows1255, b';').unwrap();

    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.iter().any(|b| (0xE0..=0xFA).contains(b)),
        "Hebrew letters as single bytes"
    );
    let (text, had_errors) = encoding_rs::WINDOWS_1255.decode_without_bom_handling(&bytes);
    assert!(!had_errors);
    let first_line = text.lines().next().unwrap();
    assert_eq!(first_line, HEADERS.join(";"));
    assert!(text.contains("\r\n"), "Excel's line ends");

    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2_000);
    for (record, row) in records.iter().zip(contacts(&spec)) {
        let expected: Vec<String> = row.cells.iter().map(Cell::to_csv_text).collect();
        assert_eq!(record.iter().collect::<Vec<_>>(), expected);
    }
}

#[test]
fn csv_utf8_with_bom_and_without_consent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.csv");
    let spec = ContactsSpec {
        with_consent: false,
        ..ContactsSpec::new(300, 2)
    };
    write_csv(&spec, &path, CsvEncoding::Utf8Bom, b'\t').unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.strip_prefix('\u{FEFF}').expect("byte order mark");
    assert_eq!(text.lines().next().unwrap(), headers(&spec).join("\t"));
    assert_eq!(text.lines().count(), 301);
    // Numeric cells are exported without the leading 0 or a decimal point.
    assert!(
        text.lines()
            .any(|line| line.split('\t').nth(2).is_some_and(|phone| {
                phone.len() == 9
                    && phone.starts_with('5')
                    && phone.bytes().all(|b| b.is_ascii_digit())
            }))
    );
}

#[test]
fn blacklist_csv_has_distinct_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dnc.csv");
    write_blacklist_csv(1_000, 4, &path).unwrap();
    let mut reader = csv::Reader::from_path(&path).unwrap();
    assert_eq!(reader.headers().unwrap(), vec!["phone", "reason"]);
    let phones: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].replace(['-', '+'], ""))
        .map(|p| {
            p.strip_prefix("972")
                .map_or(p.clone(), |rest| format!("0{rest}"))
        })
        .collect();
    assert_eq!(phones.len(), 1_000);
    assert_eq!(
        phones
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        1_000
    );
    assert!(phones.iter().all(|p| p.len() == 10 && p.starts_with("05")));
}
