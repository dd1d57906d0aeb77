//! End-to-end tests of the `shofar` command line: real files in, real database,
//! exit codes and messages checked as a user meets them.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");

struct Box_ {
    dir: tempfile::TempDir,
}

impl Box_ {
    fn new() -> Box_ {
        Box_ {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn shofar(&self, args: &[&str]) -> Output {
        Command::cargo_bin("shofar")
            .unwrap()
            .env_remove("SHOFAR_CONFIG")
            .env_remove("SHOFAR_DATA_DIR")
            .arg("--data-dir")
            .arg(self.data())
            .args(args)
            .output()
            .unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let output = self.shofar(args);
        assert!(
            output.status.success(),
            "shofar {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    fn import(&self, file: &Path) -> Value {
        self.json(&[
            "import",
            file.to_str().unwrap(),
            "--campaign",
            "donors",
            "--create",
            "--json",
        ])
    }

    fn db_info(&self) -> Value {
        self.json(&["db", "info", "--json"])
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The rows of tests/fixtures/contacts.xls and .ods.
const ROWS: [[&str; 4]; 6] = [
    ["שם פרטי", "נייד", "עיר", "הסכמה"],
    ["דנה", "052-5551234", "חיפה", "כן"],
    ["משה", "36123456", "תל אביב-יפו", "לא"],
    ["רות", "050-1234567", "ירושלים", ""],
    ["יוסי", "+972-52-555-1234", "", "2024-03-15"],
    ["שרה", "077-4123456", "באר שבע", "כן"],
];

fn csv_text(delimiter: char) -> String {
    ROWS.iter()
        .map(|row| row.join(&delimiter.to_string()))
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn write_xlsx(path: &Path) {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("אנשי קשר").unwrap();
    for (r, row) in ROWS.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            // The landline as a number cell, as Excel stores a typed-in 036123456.
            if let (2, 1) = (r, c) {
                sheet.write_number(r as u32, c as u16, 36123456.0).unwrap();
            } else {
                sheet.write_string(r as u32, c as u16, *value).unwrap();
            }
        }
    }
    workbook.save(path).unwrap();
}

#[track_caller]
fn check_fixture_summary(summary: &Value) {
    assert_eq!(summary["total_rows"], 5, "{summary:#}");
    assert_eq!(summary["imported"], 3, "{summary:#}");
    assert_eq!(summary["duplicates"], 1);
    assert_eq!(summary["invalid"], 1);
    assert_eq!(summary["blacklisted"], 0);
    assert_eq!(summary["line_types"]["mobile"], 1);
    assert_eq!(summary["line_types"]["fixed_line"], 1);
    assert_eq!(summary["line_types"]["voip"], 1);
    assert_eq!(summary["invalid_rows"][0]["row"], 4);
    assert_eq!(summary["invalid_rows"][0]["value"], "050-1234567");
    assert_eq!(summary["invalid_rows"][0]["code"], "unallocated");
    assert_eq!(summary["phone_column"], "נייד");
    assert_eq!(summary["consent"]["given"], 2);
    assert_eq!(summary["consent"]["refused"], 1);
}

#[test]
fn every_format_and_encoding_gives_the_same_summary() {
    let b = Box_::new();
    // Copied, so the rejected-rows files are not written into the checkout.
    let mut files = Vec::new();
    for name in ["contacts.xls", "contacts.ods"] {
        let copy = b.file(name);
        std::fs::copy(PathBuf::from(FIXTURES).join(name), &copy).unwrap();
        files.push(copy);
    }
    let xlsx = b.file("contacts.xlsx");
    write_xlsx(&xlsx);
    files.push(xlsx);
    let utf8 = b.file("utf8.csv");
    std::fs::write(&utf8, csv_text(',')).unwrap();
    let bom = b.file("bom.csv");
    std::fs::write(&bom, format!("\u{FEFF}{}", csv_text(','))).unwrap();
    let hebrew_excel = b.file("windows-1255.csv");
    let text = csv_text(';');
    let (encoded, _, unmappable) = encoding_rs::WINDOWS_1255.encode(&text);
    assert!(!unmappable);
    std::fs::write(&hebrew_excel, &encoded).unwrap();
    let tabs = b.file("tabs.txt");
    std::fs::write(&tabs, csv_text('\t')).unwrap();
    files.extend([utf8, bom, hebrew_excel, tabs]);

    for (index, file) in files.iter().enumerate() {
        let campaign = format!("c{index}");
        let summary = b.json(&[
            "import",
            file.to_str().unwrap(),
            "--campaign",
            &campaign,
            "--create",
            "--json",
        ]);
        check_fixture_summary(&summary);
    }
    // The rejected rows, beside the CSV, name the row and the reason.
    let rejected = std::fs::read_to_string(b.file("utf8.rejected.csv")).unwrap();
    assert!(
        rejected.starts_with('\u{FEFF}'),
        "Excel needs the BOM to show Hebrew"
    );
    assert!(
        rejected.starts_with("\u{FEFF}row,kind,value,reason,סיבה,שם פרטי,נייד"),
        "{rejected}"
    );
    assert!(rejected.contains("4,invalid,050-1234567,"), "{rejected}");
    assert!(
        rejected.contains("מספר לא תקין"),
        "the reason is in Hebrew too: {rejected}"
    );
    assert!(rejected.contains("כפול של שורה 2"), "{rejected}");
    assert!(
        rejected.contains("5,duplicate,+972-52-555-1234,duplicate of row 2 (+972525551234)"),
        "{rejected}"
    );
}

#[test]
fn a_generated_workbook_imports_exactly_as_its_truth_says() {
    let b = Box_::new();
    let spec = shofar_testdata::ContactsSpec {
        rows: 5_000,
        seed: 42,
        ..Default::default()
    };
    let path = b.file("generated.xlsx");
    shofar_testdata::write_xlsx(&spec, &path).unwrap();
    let truth = shofar_testdata::truth(&spec);
    let summary = b.import(&path);
    assert_eq!(summary["total_rows"], truth.total_rows);
    assert_eq!(summary["imported"], truth.imported);
    assert_eq!(summary["duplicates"], truth.duplicates);
    assert_eq!(summary["invalid"], truth.invalid);
    for (line_type, count) in &truth.line_types {
        assert_eq!(
            summary["line_types"][line_type.as_str()],
            *count,
            "{line_type}"
        );
    }
    assert_eq!(b.db_info()["contacts"], truth.imported);
    // Importing the same file again: every valid row is now a duplicate.
    let again = b.json(&[
        "import",
        path.to_str().unwrap(),
        "--campaign",
        "donors",
        "--json",
    ]);
    assert_eq!(again["imported"], 0);
    assert_eq!(again["duplicates"], truth.imported + truth.duplicates);
}

#[test]
fn a_bad_file_is_named_and_changes_nothing() {
    let b = Box_::new();
    let write = |name: &str, bytes: &[u8]| {
        let path = b.file(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let mut huge = b"name,phone\n".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    huge.extend(b",052-5551234\n");
    let mut corrupt = b"PK\x03\x04".to_vec();
    corrupt.extend((0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    let cases: Vec<(PathBuf, Vec<&str>, &str)> = vec![
        (write("empty.csv", b""), vec![], "is empty"),
        (
            write("header-only.csv", "שם,טלפון\n".as_bytes()),
            vec![],
            "no data rows",
        ),
        (
            write("no-phone.csv", "שם,עיר\nדנה,חיפה\n".as_bytes()),
            vec![],
            "no phone column found; the headers are: שם, עיר",
        ),
        (
            write("list.pdf", b"%PDF-1.4"),
            vec![],
            "unsupported file type \"pdf\"",
        ),
        (
            write("really-csv.xlsx", b"phone\n052-5551234\n"),
            vec![],
            "its content is text",
        ),
        (
            write("corrupt.xlsx", &corrupt),
            vec![],
            "cannot be read as a workbook",
        ),
        (
            write("huge-cell.csv", &huge),
            vec![],
            "row 2, column A: the cell holds 10485760 bytes",
        ),
        (b.file("missing.csv"), vec![], "cannot read"),
        (
            write("sheets.csv", "phone\n052-5551234\n".as_bytes()),
            vec!["--phone-column", "טלפון"],
            "there is no column \"טלפון\"",
        ),
    ];
    for (path, extra, expected) in cases {
        let mut args = vec![
            "import",
            path.to_str().unwrap(),
            "--campaign",
            "donors",
            "--create",
        ];
        args.extend(extra);
        let output = b.shofar(&args);
        assert_eq!(output.status.code(), Some(2), "{path:?} should fail");
        let message = stderr(&output);
        assert!(
            message.contains(expected),
            "{path:?}: {message:?} should contain {expected:?}"
        );
        assert!(message.contains("nothing was imported"), "{message}");
        let info = b.db_info();
        assert_eq!(info["campaigns"], 0, "{path:?} left a campaign behind");
        assert_eq!(info["contacts"], 0);
    }
    // A workbook without the named sheet lists the sheets it has.
    let xlsx = b.file("contacts.xlsx");
    write_xlsx(&xlsx);
    let output = b.shofar(&[
        "import",
        xlsx.to_str().unwrap(),
        "--campaign",
        "d",
        "--create",
        "--sheet",
        "Sheet9",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no sheet named \"Sheet9\"; its sheets are: אנשי קשר"),
        "{}",
        stderr(&output)
    );
    // An import into a campaign that does not exist, without --create.
    let output = b.shofar(&["import", xlsx.to_str().unwrap(), "--campaign", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("add --create to make it with this import"),
        "{}",
        stderr(&output)
    );
}

/// Seed properties 10 and 14 end to end: a listed number stays listed with its
/// reason, source and time; contacts with it are imported but marked.
#[test]
fn blacklist_add_check_import_remove_history_export() {
    let b = Box_::new();
    let added = b.json(&[
        "blacklist",
        "add",
        "052-5551234",
        "03 6123456",
        "--reason",
        "ביקש לא להתקשר",
        "--json",
    ]);
    assert_eq!(added["added"], 2);

    let output = b.shofar(&["blacklist", "check", "+972-52-555-1234"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("+972525551234 is listed: source admin_import, reason \"ביקש לא להתקשר\""),
        "{text}"
    );
    let checked = b.json(&["blacklist", "check", "0525551234", "--json"]);
    assert_eq!(checked["listed"], true);
    assert_eq!(checked["entry"]["source"], "admin_import");
    assert!(
        checked["entry"]["added_at"]
            .as_str()
            .unwrap()
            .starts_with("20")
    );

    let csv = b.file("contacts.csv");
    std::fs::write(&csv, "שם,טלפון\nדנה,052-5551234\nרות,054-6789012\n").unwrap();
    let summary = b.import(&csv);
    assert_eq!(
        (
            summary["imported"].as_u64(),
            summary["blacklisted"].as_u64()
        ),
        (Some(2), Some(1))
    );

    let output = b.shofar(&[
        "blacklist",
        "remove",
        "03-6123456",
        "--reason",
        "added by mistake",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = b.shofar(&["blacklist", "check", "03-6123456"]);
    assert_eq!(output.status.code(), Some(1));
    let history = b.json(&["blacklist", "history", "03-6123456", "--json"]);
    assert_eq!(history[0]["action"], "remove");
    assert_eq!(history[0]["reason"], "added by mistake");
    assert_eq!(history[1]["action"], "add");

    let export = b.file("export.csv");
    let output = b.shofar(&["blacklist", "export", "-o", export.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let exported = std::fs::read_to_string(&export).unwrap();
    let lines: Vec<&str> = exported.lines().collect();
    assert_eq!(lines[0], "phone,reason,source,added_at,added_by,checked_on");
    assert!(
        lines[1].starts_with("+972525551234,ביקש לא להתקשר,admin_import,"),
        "{exported}"
    );
    assert_eq!(lines.len(), 2);

    // The export imports back into another box as the same list.
    let other = Box_::new();
    let imported = other.json(&["blacklist", "import", export.to_str().unwrap(), "--json"]);
    assert_eq!(imported["added"], 1);
    let entry = other.json(&["blacklist", "check", "0525551234", "--json"]);
    assert_eq!(entry["entry"]["reason"], "ביקש לא להתקשר");
}

/// Seed property 13 end to end: a blacklist file import marks contacts already
/// imported, in every campaign, at once.
#[test]
fn a_blacklist_import_marks_contacts_already_imported() {
    let b = Box_::new();
    let csv = b.file("contacts.csv");
    std::fs::write(&csv, "טלפון\n052-5551234\n054-6789012\n03-6123456\n").unwrap();
    b.import(&csv);
    b.json(&[
        "import",
        csv.to_str().unwrap(),
        "--campaign",
        "second",
        "--create",
        "--json",
    ]);
    let registry = b.file("registry.csv");
    std::fs::write(&registry, "0525551234\n036123456\nnot a number\n").unwrap();
    let summary = b.json(&[
        "blacklist",
        "import",
        registry.to_str().unwrap(),
        "--source",
        "compliance",
        "--checked-on",
        "2026-11-01",
        "--json",
    ]);
    assert_eq!(summary["added"], 2);
    assert_eq!(summary["invalid"], 1);
    assert_eq!(summary["contacts_marked"], 4);
    let campaigns = b.json(&["campaign", "list", "--json"]);
    for campaign in campaigns.as_array().unwrap() {
        assert_eq!(campaign["blacklisted_contacts"], 2, "{campaign}");
    }
    let entry = b.json(&["blacklist", "check", "03-6123456", "--json"]);
    assert_eq!(entry["entry"]["checked_on"], "2026-11-01");
    assert_eq!(entry["entry"]["source"], "compliance");
}

#[test]
fn bad_numbers_on_the_command_line_change_nothing() {
    let b = Box_::new();
    let output = b.shofar(&["blacklist", "add", "052-5551234", "050-1234567", "*2345"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("nothing was changed"), "{message}");
    assert!(
        message.contains("\"050-1234567\": not a valid number"),
        "{message}"
    );
    assert!(message.contains("\"*2345\": star number"), "{message}");
    assert_eq!(b.db_info()["blacklist"], 0);
}

#[test]
fn global_flags_go_before_or_after_the_subcommand() {
    let b = Box_::new();
    let config = b.file("shofar.toml");
    std::fs::write(&config, "[import]\nallowed_regions = []\n").unwrap();
    for args in [
        vec![
            "--config",
            config.to_str().unwrap(),
            "blacklist",
            "add",
            "+1 212 555 0100",
        ],
        vec![
            "blacklist",
            "add",
            "+44 20 7946 0958",
            "--config",
            config.to_str().unwrap(),
        ],
    ] {
        let output = b.shofar(&args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
    assert_eq!(b.db_info()["blacklist"], 2);
    // Without the config, foreign numbers are refused with the fix named.
    let output = b.shofar(&["blacklist", "add", "+1 212 555 0101"]);
    assert!(
        stderr(&output).contains("import.allowed_regions"),
        "{}",
        stderr(&output)
    );
    // --data-dir after the subcommand.
    let output = Command::cargo_bin("shofar")
        .unwrap()
        .args(["db", "info", "--json", "--data-dir"])
        .arg(b.data())
        .output()
        .unwrap();
    let info: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(info["blacklist"], 2);
}

#[test]
fn a_bad_config_file_is_named() {
    let b = Box_::new();
    let config = b.file("shofar.toml");
    std::fs::write(&config, "[import]\ndefault_regoin = \"IL\"\n").unwrap();
    let output = b.shofar(&["--config", config.to_str().unwrap(), "db", "info"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("invalid config file"), "{message}");
    assert!(
        message.contains("unknown field `default_regoin`"),
        "{message}"
    );
    let output = b.shofar(&[
        "--config",
        b.file("nope.toml").to_str().unwrap(),
        "db",
        "info",
    ]);
    assert!(
        stderr(&output).contains("cannot read the config file"),
        "{}",
        stderr(&output)
    );
}

/// Killed in the middle of an import (kill -9, a power cut): nothing of the
/// import is visible afterwards, though it had committed rows (issue 15: an
/// import writes in short transactions), and running it again removes them
/// first and works.
#[test]
fn an_import_killed_midway_leaves_nothing_and_can_be_run_again() {
    let b = Box_::new();
    let spec = shofar_testdata::ContactsSpec {
        rows: 60_000,
        seed: 5,
        ..Default::default()
    };
    let path = b.file("big.csv");
    shofar_testdata::write_csv(&spec, &path, shofar_testdata::CsvEncoding::Utf8, b',').unwrap();
    let partial = b.file("big.rejected.csv.partial");
    // 0 until the import has made the database.
    let count = |sql: &str| -> i64 {
        rusqlite::Connection::open_with_flags(
            b.data().join("shofar.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .and_then(|db| db.query_row(sql, [], |row| row.get(0)))
        .unwrap_or(0)
    };
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("shofar"))
        .arg("--data-dir")
        .arg(b.data())
        .args([
            "import",
            path.to_str().unwrap(),
            "--campaign",
            "donors",
            "--create",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Midway: some rows committed, the import not done.
    let mut midway = false;
    for _ in 0..6_000 {
        if count("SELECT count(*) FROM contacts") > 0 {
            midway = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(
        midway,
        "the import finished before it could be killed; make the file larger"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let info = b.db_info();
    assert_eq!(info["campaigns"], 0, "{info}");
    assert_eq!(info["contacts"], 0, "{info}");
    assert!(
        count("SELECT count(*) FROM contacts") > 0,
        "the killed import's rows are there, hidden"
    );

    let truth = shofar_testdata::truth(&spec);
    let summary = b.import(&path);
    assert_eq!(summary["imported"], truth.imported);
    assert_eq!(summary["duplicates"], truth.duplicates);
    assert_eq!(summary["invalid"], truth.invalid);
    assert_eq!(
        count("SELECT count(*) FROM contacts"),
        truth.imported as i64,
        "the killed import's rows were removed"
    );
    assert_eq!(count("SELECT count(*) FROM campaigns"), 1);
    assert_eq!(count("SELECT count(*) FROM import_jobs"), 1);
    assert!(
        !partial.exists(),
        "the finished import leaves no partial file"
    );
}

fn failure(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    stderr(output)
}

#[test]
fn a_campaign_from_a_file_goes_through_its_lifecycle() {
    let b = Box_::new();
    let file = b.file("campaign.toml");
    std::fs::write(
        &file,
        "name = \"donors\"\npurpose = \"donation\"\nstart = \"2099-01-04 09:00\"\n\
         max_attempts = 2\n[windows]\nsunday = \"09:00-20:00\"\n",
    )
    .unwrap();
    let created = b.json(&[
        "campaign",
        "create",
        "--file",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(created["status"], "draft");
    assert_eq!(created["consent_required"], true);
    assert_eq!(created["settings"]["max_attempts"], 2);
    // Nothing to call yet: starting says so.
    let refused = failure(&b.shofar(&["campaign", "start", "donors"]));
    assert!(
        refused.contains("no contact that could be called"),
        "{refused}"
    );

    let csv = b.file("contacts.csv");
    std::fs::write(&csv, csv_text(',')).unwrap();
    b.import(&csv);
    let moved = b.json(&["campaign", "start", "donors", "--json"]);
    assert_eq!(
        (&moved["from"], &moved["to"]),
        (&"draft".into(), &"scheduled".into())
    );
    let moved = b.json(&[
        "campaign",
        "pause",
        "1",
        "--reason",
        "board meeting",
        "--json",
    ]);
    assert_eq!(moved["to"], "paused");
    let moved = b.json(&["campaign", "resume", "donors", "--json"]);
    assert_eq!(moved["to"], "scheduled");

    // Who would be dialed first once it starts: only the two with consent.
    let show = b.json(&[
        "campaign",
        "show",
        "donors",
        "--at",
        "2099-01-04 10:00",
        "--json",
    ]);
    assert_eq!(show["gate"]["state"], "open");
    assert_eq!(show["contacts"]["total"], 3);
    assert_eq!(show["contacts"]["without_consent"], 1);
    let next: Vec<&str> = show["next"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["e164"].as_str().unwrap())
        .collect();
    assert_eq!(next, ["+972525551234", "+972774123456"]);

    let moved = b.json(&["campaign", "cancel", "donors", "--json"]);
    assert_eq!(moved["to"], "cancelled");
    let refused = failure(&b.shofar(&["campaign", "resume", "donors"]));
    assert!(
        refused.contains("cannot resume a campaign that is cancelled"),
        "{refused}"
    );
    // The list shows where it ended.
    let out = b.shofar(&["campaign", "list", "--json"]);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["status"], "cancelled");
}

#[test]
fn invalid_campaign_settings_name_their_fields() {
    let b = Box_::new();
    let file = b.file("bad.toml");
    std::fs::write(
        &file,
        "name = \"x\"\ntime_zone = \"Asia/Jerusalm\"\nmax_attempts = 0\n\
         [windows]\nsunday = [\"09:00-12:00\", \"11:00-14:00\"]\n",
    )
    .unwrap();
    let message = failure(&b.shofar(&["campaign", "create", "--file", file.to_str().unwrap()]));
    for expected in [
        "time_zone: unknown time zone \"Asia/Jerusalm\"",
        "max_attempts: 0 is out of range",
        "windows.sunday: 09:00-12:00 overlaps 11:00-14:00",
    ] {
        assert!(message.contains(expected), "{expected:?} not in {message}");
    }
    let message = failure(&b.shofar(&[
        "campaign",
        "create",
        "--name",
        "y",
        "--start",
        "2099-02-01",
        "--end",
        "2099-01-01",
    ]));
    assert!(
        message.contains("end: 2099-01-02 00:00 is not after start"),
        "{message}"
    );
    // Nothing was created.
    let out = b.shofar(&["campaign", "list", "--json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        Value::Array(vec![])
    );
}

#[test]
fn the_calendar_blocks_rosh_hashana_yom_kippur_and_shabbat() {
    let b = Box_::new();
    let plan = b.json(&[
        "calendar",
        "--from",
        "2026-09-10",
        "--to",
        "2026-09-22",
        "--explain",
        "--json",
    ]);
    let reasons: std::collections::BTreeSet<&str> = plan["blocked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["reason"].as_str().unwrap())
        .collect();
    for reason in ["rosh_hashana", "yom_kippur", "shabbat", "outside_window"] {
        assert!(
            reasons.contains(reason),
            "{reason} missing from {reasons:?}"
        );
    }
    let allowed: Vec<&str> = plan["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["start"].as_str().unwrap())
        .collect();
    // Thursday the 10th is an ordinary day, in summer time.
    assert_eq!(allowed[0], "2026-09-10T09:00:00+03:00");
    // Rosh Hashana (Sat-Sun 12-13) and Shabbat (19): no calls at all; the second
    // day of Rosh Hashana and Yom Kippur (Mon 21) only after nightfall, 19:24 and 19:14.
    for day in ["2026-09-12", "2026-09-19"] {
        assert!(
            !allowed.iter().any(|a| a.starts_with(day)),
            "{day} allowed: {allowed:?}"
        );
    }
    assert!(
        allowed.contains(&"2026-09-13T19:24:00+03:00"),
        "{allowed:?}"
    );
    assert!(
        allowed.contains(&"2026-09-21T19:14:00+03:00"),
        "{allowed:?}"
    );
    // Erev Rosh Hashana is a Friday: the window closes at 13:00.
    let friday = plan["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["start"].as_str().unwrap().starts_with("2026-09-11"))
        .unwrap();
    assert_eq!(friday["end"], "2026-09-11T13:00:00+03:00");

    let text = b.shofar(&[
        "calendar",
        "--from",
        "2026-09-10",
        "--to",
        "2026-09-14",
        "--explain",
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("rosh_hashana"), "{text}");
    let bad = failure(&b.shofar(&["calendar", "--from", "10/09/2026"]));
    assert!(bad.contains("--from"), "{bad}");
}

/// `shofar blacklist export | head -1`: when the reader of standard output goes
/// away, a command ends quietly with 0 — through `println`-style output (history)
/// and through a writer (the CSV export) alike — never with a panic.
#[test]
fn a_reader_that_goes_away_ends_a_command_quietly() {
    use std::io::Read;
    use std::process::Stdio;

    let b = Box_::new();
    // 5,000 listed numbers: far more output than a pipe holds, so the writes meet
    // the closed pipe whatever the timing.
    let list = b.file("list.csv");
    let mut text = String::from("phone\n");
    for i in 0..5_000 {
        text.push_str(&format!("05255{:05}\n", i));
    }
    std::fs::write(&list, text).unwrap();
    let output = b.shofar(&["blacklist", "import", list.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));

    for args in [
        &["blacklist", "export"][..],
        &["blacklist", "history", "--limit", "5000"][..],
        &["blacklist", "history", "--limit", "5000", "--json"][..],
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("shofar"))
            .env_remove("SHOFAR_CONFIG")
            .env_remove("SHOFAR_DATA_DIR")
            .arg("--data-dir")
            .arg(b.data())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one line's worth, then go away, as `head -1` does.
        let mut reader = child.stdout.take().unwrap();
        let mut first = [0u8; 16];
        reader.read_exact(&mut first).unwrap();
        drop(reader);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "shofar {args:?}: {err}");
        assert!(err.is_empty(), "shofar {args:?} said: {err}");
    }
}

/// An error's cause is said once: `cannot read X: No such file or directory`, not
/// the cause repeated after it.
#[test]
fn an_error_says_its_cause_once() {
    let b = Box_::new();
    let missing = b.file("nowhere.csv");
    let output = b.shofar(&[
        "import",
        missing.to_str().unwrap(),
        "--campaign",
        "donors",
        "--create",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let said = stderr(&output);
    assert_eq!(
        said.matches("No such file or directory").count(),
        1,
        "{said}"
    );
}

/// `shofar db backup` and `restore` as an operator uses them: the daily backups
/// rotate, a restore says what it brought back and keeps the replaced database,
/// and a file that is not a backup is refused with the database untouched.
#[test]
fn backups_rotate_and_a_restore_keeps_what_it_replaced() {
    let b = Box_::new();
    let ok = |args: &[&str]| {
        let output = b.shofar(args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    ok(&[
        "campaign",
        "create",
        "--name",
        "Winter",
        "--purpose",
        "informational",
    ]);
    for _ in 0..3 {
        ok(&["db", "backup", "--keep", "2"]);
    }
    let mut kept: Vec<_> = std::fs::read_dir(b.data().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    kept.sort();
    assert_eq!(kept.len(), 2, "{kept:?}");

    ok(&[
        "campaign",
        "create",
        "--name",
        "Spring",
        "--purpose",
        "informational",
    ]);
    let said = ok(&["db", "restore", kept[1].to_str().unwrap()]);
    assert!(said.contains("1 campaigns"), "{said}");
    assert!(said.contains("shofar.db.before-restore-"), "{said}");
    let list = ok(&["campaign", "list"]);
    assert!(
        list.contains("Winter") && !list.contains("Spring"),
        "{list}"
    );

    let text = b.file("notes.txt");
    std::fs::write(&text, "not a database").unwrap();
    let output = b.shofar(&["db", "restore", text.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("nothing was restored; the database is as it was"),
        "{}",
        stderr(&output)
    );
    let list = ok(&["campaign", "list"]);
    assert!(list.contains("Winter"), "{list}");
}

/// `shofar update` needs no database (root runs it on a box whose data belongs
/// to `shofar`): status and a refused install leave the data directory without
/// one, and a missing bundle is named.
#[test]
fn update_commands_never_open_the_database() {
    let b = Box_::new();
    std::fs::create_dir_all(b.data()).unwrap();
    let status = b.shofar(&["update", "status", "--json"]);
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["last"], Value::Null);
    assert!(status["available"].is_boolean());

    let missing = b.shofar(&["update", "install", b.file("none.raucb").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("cannot read the bundle") && stderr.contains("none.raucb"),
        "{stderr}"
    );
    assert!(!b.data().join("shofar.db").exists());
    assert!(!b.data().join("updates").exists());
}
