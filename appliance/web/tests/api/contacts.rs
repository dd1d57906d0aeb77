//! Contacts: spreadsheets imported as jobs (real .xlsx files with Hebrew
//! headers), the job followed to its end, the campaign's contacts paged and
//! searched, the imports recorded, and their rejected rows downloaded.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};
use shofar_store::accounts::Role;

use crate::support::{Client, TestApp, donors_xlsx, files_under, urlencode, xlsx};

async fn campaign_with_donors(app: &TestApp, client: &Client) -> (i64, Value) {
    let id = app
        .create_campaign(client, json!({"name": "תרומות חורף 2027"}))
        .await;
    let job = app
        .import_contacts(client, id, "תורמים 2027.xlsx", &donors_xlsx())
        .await;
    (id, job)
}

#[tokio::test]
async fn a_spreadsheet_with_hebrew_headers_imports_as_a_job() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let (id, job) = campaign_with_donors(&app, &mia).await;
    assert_eq!(job["kind"], "contact_import");
    assert_eq!(job["campaign_id"], id);
    assert_eq!(job["file_name"], "תורמים 2027.xlsx");
    assert_eq!(job["percent"], 100.0);
    assert_eq!(job["error"], Value::Null);
    assert!(job["finished_at"].is_string());
    let import_id = job["import_id"].as_i64().unwrap();
    assert_eq!(
        job["rejected_rows_url"],
        format!("/api/v1/imports/{import_id}/rejected")
    );
    // The summary is the CLI's, with exact counts.
    let summary = &job["summary"];
    for (key, expected) in [
        ("total_rows", 6),
        ("imported", 4),
        ("invalid", 1),
        ("duplicates", 1),
        ("blacklisted", 0),
        ("sms_capable", 3),
        ("campaign_id", id),
        ("import_id", import_id),
    ] {
        assert_eq!(summary[key], expected, "{key}: {summary:#}");
    }
    assert_eq!(summary["phone_column"], "טלפון");
    assert_eq!(summary["campaign"], "תרומות חורף 2027");
    assert_eq!(summary["campaign_created"], false);
    assert_eq!(
        summary["invalid_rows"],
        json!([{"row": 5, "value": "0234", "reason": summary["invalid_rows"][0]["reason"], "code": "too_short"}])
    );

    // The jobs list has it, newest first; an unknown job is 404.
    let jobs = mia.get("/api/v1/jobs").await.expect(StatusCode::OK);
    assert_eq!(jobs.as_array().unwrap().len(), 1);
    assert_eq!(jobs[0], job);
    mia.get("/api/v1/jobs/999")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    mia.get("/api/v1/jobs/first")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");

    // The campaign counts them.
    let shown = mia.get(&format!("/api/v1/campaigns/{id}")).await.json();
    assert_eq!(shown["contacts"]["total"], 4);
    assert_eq!(shown["contacts"]["pending"], 4);
}

#[tokio::test]
async fn contacts_are_paged_in_import_order_and_searchable() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let (id, _) = campaign_with_donors(&app, &mia).await;
    let page = |query: String| {
        let mia = mia.clone();
        async move {
            mia.get(&format!("/api/v1/campaigns/{id}/contacts{query}"))
                .await
                .expect(StatusCode::OK)
        }
    };
    let all = page(String::new()).await;
    assert_eq!(
        (&all["total"], &all["page"], &all["per_page"], &all["pages"]),
        (&json!(4), &json!(1), &json!(50), &json!(1))
    );
    let first = &all["items"][0];
    assert_eq!(
        first,
        &json!({
            "id": first["id"],
            "number": "+972525551234",
            "line_type": "mobile",
            "sms_capable": true,
            "metadata": {"שם": "דנה כהן", "עיר": "תל אביב"},
            "consent": null,
            "consent_at": null,
            "blacklisted": false,
            "status": "pending",
            "attempts": 0,
            "source_row": 2
        })
    );
    let numbers = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["number"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        numbers(&all),
        [
            "+972525551234",
            "+97236123456",
            "+972547654321",
            "+972587123456"
        ]
    );
    assert_eq!(all["items"][1]["line_type"], "fixed_line");
    assert_eq!(all["items"][1]["sms_capable"], false);

    // By digits as people type them, or by the text of other columns.
    for (search, expected) in [
        ("0525551234", vec!["+972525551234"]),
        ("052-555-1234", vec!["+972525551234"]),
        ("5551234", vec!["+972525551234"]),
        ("03-6123456", vec!["+97236123456"]),
        ("חיפה", vec!["+972547654321"]),
        ("כהן", vec!["+972525551234"]),
        ("תל אביב", vec!["+972525551234"]),
        ("0599999999", vec![]),
    ] {
        let found = page(format!("?search={}", urlencode(search))).await;
        assert_eq!(numbers(&found), expected, "search {search}");
        assert_eq!(found["total"], expected.len(), "search {search}");
    }
    assert_eq!(page("?status=pending".into()).await["total"], 4);
    assert_eq!(page("?status=completed".into()).await["total"], 0);

    // Pages.
    let second = page("?page=2&per_page=3".into()).await;
    assert_eq!(numbers(&second), ["+972587123456"]);
    assert_eq!((&second["total"], &second["pages"]), (&json!(4), &json!(2)));
    assert_eq!(page("?page=3&per_page=3".into()).await["items"], json!([]));

    for (query, field) in [
        ("?status=done", "status"),
        ("?per_page=0", "per_page"),
        ("?per_page=501", "per_page"),
        ("?page=0", "page"),
    ] {
        mia.get(&format!("/api/v1/campaigns/{id}/contacts{query}"))
            .await
            .expect_fields(&[field]);
    }
    mia.get(&format!("/api/v1/campaigns/{id}/contacts?page=two"))
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    mia.get("/api/v1/campaigns/999/contacts")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

/// Security probe: the contact search matched the JSON text the columns are
/// kept in, so a header (`שם`), `{` or `"` found every contact. It matches the
/// columns' values and the number only, and `%` is a percent sign.
#[tokio::test]
async fn a_contact_search_matches_column_values_not_the_json_they_are_kept_in() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let id = app.create_campaign(&mia, json!({"name": "הנחות"})).await;
    let sheet = xlsx(&[
        &["name", "phone", "note"],
        &["Dana Cohen", "052-5551234", "10% off"],
        &["Moshe Levi", "03-6123456", "regular"],
    ]);
    app.import_contacts(&mia, id, "discounts.xlsx", &sheet)
        .await;
    let found = |search: &str| {
        let mia = mia.clone();
        let path = format!(
            "/api/v1/campaigns/{id}/contacts?search={}",
            urlencode(search)
        );
        async move {
            let page = mia.get(&path).await.expect(StatusCode::OK);
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["number"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    for search in ["name", "note", "{", "}", "\"", "\":\"", ":", ","] {
        assert_eq!(
            found(search).await,
            Vec::<String>::new(),
            "search {search:?}"
        );
    }
    assert_eq!(found("cohen").await, ["+972525551234"]);
    assert_eq!(found("regular").await, ["+97236123456"]);
    assert_eq!(found("03-6123456").await, ["+97236123456"]);
    assert_eq!(found("%").await, ["+972525551234"]);
    assert_eq!(found("0%").await, ["+972525551234"]);
    // As wildcards these would match "Dana Cohen" and "Moshe Levi".
    assert_eq!(found("d%n").await, Vec::<String>::new());
    assert_eq!(found("l_vi").await, Vec::<String>::new());
}

#[tokio::test]
async fn imports_are_recorded_and_their_rejected_rows_download_with_hebrew_intact() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let (id, job) = campaign_with_donors(&app, &mia).await;
    let other = app.create_campaign(&mia, json!({"name": "סקר"})).await;
    let clean = app
        .import_contacts(
            &mia,
            other,
            "clean.xlsx",
            &xlsx(&[&["טלפון"], &["052-8123456"]]),
        )
        .await;
    assert_eq!(clean["rejected_rows_url"], Value::Null);

    let imports = mia.get("/api/v1/imports").await.expect(StatusCode::OK);
    let list = imports.as_array().unwrap();
    assert_eq!(list.len(), 2);
    // Newest first.
    assert_eq!(list[0]["campaign_id"], other);
    let record = &list[1];
    let import_id = job["import_id"].as_i64().unwrap();
    assert_eq!(record["id"], import_id);
    assert_eq!(record["kind"], "contacts");
    assert_eq!(record["file_name"], "תורמים 2027.xlsx");
    assert_eq!(record["status"], "completed");
    assert_eq!(record["actor"], "web:mia");
    for (key, expected) in [
        ("total_rows", 6),
        ("imported", 4),
        ("duplicates", 1),
        ("invalid", 1),
        ("blacklisted", 0),
    ] {
        assert_eq!(record[key], expected, "{key}");
    }
    assert_eq!(record["rejected_rows_url"], job["rejected_rows_url"]);
    let only = mia
        .get(&format!("/api/v1/imports?campaign={id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["id"], import_id);
    mia.get("/api/v1/imports?campaign=winter")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");

    let download = mia
        .get(&format!("/api/v1/imports/{import_id}/rejected"))
        .await;
    download.expect(StatusCode::OK);
    assert_eq!(
        download.header(header::CONTENT_TYPE),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        download.header(header::CONTENT_DISPOSITION),
        Some(format!("attachment; filename=\"import-{import_id}.rejected.csv\"").as_str())
    );
    let text = String::from_utf8(download.body.clone()).expect("UTF-8");
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark for Excel");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "row,kind,value,reason,סיבה,שם,טלפון,עיר");
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].starts_with("5,invalid,0234,"), "{}", lines[1]);
    assert!(
        lines[1].ends_with(",יוסי מזרחי,0234,ירושלים"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("6,duplicate,0525551234,"),
        "{}",
        lines[2]
    );
    assert!(
        lines[2].ends_with(",דנה כהן,0525551234,תל אביב"),
        "{}",
        lines[2]
    );

    let clean_import = clean["import_id"].as_i64().unwrap();
    mia.get(&format!("/api/v1/imports/{clean_import}/rejected"))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    mia.get("/api/v1/imports/999/rejected")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn a_damaged_file_fails_its_job_and_imports_nothing() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let id = app.create_campaign(&mia, json!({"name": "פגום"})).await;
    let mut damaged = donors_xlsx();
    damaged.truncate(damaged.len() / 2);
    let job = app
        .run_import(
            &mia,
            &format!("/api/v1/campaigns/{id}/imports"),
            &[],
            ("donors.xlsx", &damaged),
        )
        .await;
    assert_eq!(job["status"], "failed", "{job:#}");
    let error = job["error"].as_str().unwrap();
    assert!(error.ends_with("nothing was imported"), "{error}");
    assert_eq!(job["error_code"], "damaged_workbook", "{job:#}");
    assert_eq!(job["summary"], Value::Null);
    assert_eq!(job["import_id"], Value::Null);
    let contacts = mia
        .get(&format!("/api/v1/campaigns/{id}/contacts"))
        .await
        .json();
    assert_eq!(contacts["total"], 0);
    assert_eq!(mia.get("/api/v1/imports").await.json(), json!([]));

    // A file without a phone column fails the same way.
    let job = app
        .run_import(
            &mia,
            &format!("/api/v1/campaigns/{id}/imports"),
            &[],
            ("names.xlsx", &xlsx(&[&["שם", "עיר"], &["דנה", "חיפה"]])),
        )
        .await;
    assert_eq!(job["status"], "failed", "{job:#}");
    // As data too, for the web UI to say in Hebrew which columns it found.
    assert_eq!(job["error_code"], "no_phone_column", "{job:#}");
    assert_eq!(
        job["error_params"],
        json!({"headers": "שם, עיר"}),
        "{job:#}"
    );
    assert_eq!(
        mia.get(&format!("/api/v1/campaigns/{id}")).await.json()["contacts"]["total"],
        0
    );
}

/// Regression: a failed import's reason named the file by its path in the box's
/// upload folder (`/var/lib/shofar/uploads/20261203T000547.850-2/donors.xlsx has
/// no sheet …`), which means nothing to the person who sent `donors.xlsx`.
#[tokio::test]
async fn a_failed_import_says_why_in_the_senders_terms() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let id = app.create_campaign(&mia, json!({"name": "גיליונות"})).await;
    let path = format!("/api/v1/campaigns/{id}/imports");
    for (fields, expected, code, params) in [
        (
            [("sheet", "תורמים")],
            "תורמים 2027.xlsx has no sheet named \"תורמים\"; its sheets are: Sheet1",
            "sheet_not_found",
            json!({"sheet": "תורמים", "available": "Sheet1"}),
        ),
        (
            [("phone_column", "נייד")],
            "there is no column \"נייד\"; the headers are: שם, טלפון, עיר",
            "phone_column_missing",
            json!({"given": "נייד", "headers": "שם, טלפון, עיר"}),
        ),
    ] {
        let job = app
            .run_import(&mia, &path, &fields, ("תורמים 2027.xlsx", &donors_xlsx()))
            .await;
        assert_eq!(job["status"], "failed", "{job:#}");
        let error = job["error"].as_str().unwrap();
        assert!(error.contains(expected), "{error}");
        assert!(error.ends_with("; nothing was imported"), "{error}");
        assert_eq!(
            (&job["error_code"], &job["error_params"]),
            (&json!(code), &params)
        );
        let data_dir = app.data_dir().to_str().unwrap();
        assert!(
            !error.contains("uploads/") && !error.contains(data_dir),
            "{error}"
        );
    }
    // Named right, the same file imports.
    let job = app
        .run_import(
            &mia,
            &path,
            &[("sheet", "Sheet1"), ("phone_column", "טלפון")],
            ("תורמים 2027.xlsx", &donors_xlsx()),
        )
        .await;
    assert_eq!(job["summary"]["imported"], 4, "{job:#}");
}

#[tokio::test]
async fn an_uploaded_file_name_cannot_leave_the_upload_folder() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let id = app.create_campaign(&mia, json!({"name": "שמות"})).await;
    let job = app
        .import_contacts(&mia, id, "../../../תורמים.xlsx", &donors_xlsx())
        .await;
    assert_eq!(job["file_name"], "תורמים.xlsx");
    let uploads = app.data_dir().join("uploads");
    let kept = files_under(&uploads);
    assert!(
        kept.iter()
            .any(|p| p.ends_with("תורמים.xlsx") && p.parent().unwrap().parent() == Some(&uploads)),
        "{kept:?}"
    );
    for outside in [app.data_dir().to_owned(), app.data_dir().join("..")] {
        assert!(!outside.join("תורמים.xlsx").exists());
    }
}

#[tokio::test]
async fn uploads_that_cannot_be_imported_are_refused_before_any_job() {
    let app = TestApp::with_config(|config| config.max_upload_bytes = 4 * 1024);
    let mia = app.login_as("mia", Role::Manager).await;
    let id = app.create_campaign(&mia, json!({"name": "מגבלות"})).await;
    let path = format!("/api/v1/campaigns/{id}/imports");
    let donors = donors_xlsx();
    assert!(donors.len() > 4 * 1024, "the sheet must exceed the limit");

    let too_large = mia.upload(&path, &[], Some(("donors.xlsx", &donors))).await;
    too_large.expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // Nothing of it is kept.
    assert_eq!(
        files_under(&app.data_dir().join("uploads")),
        Vec::<std::path::PathBuf>::new()
    );

    let small = b"\xef\xbb\xbf\xd7\x98\xd7\x9c\xd7\xa4\xd7\x95\xd7\x9f\n052-5551234\n".to_vec();
    mia.post(&path, json!({"file": "donors.csv"}))
        .await
        .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    mia.upload(
        &path,
        &[("duplicates", "drop")],
        Some(("donors.csv", &small)),
    )
    .await
    .expect_fields(&["duplicates"]);
    mia.upload(&path, &[("duplicates", "keep_first")], None)
        .await
        .expect_fields(&["file"]);
    mia.upload(
        "/api/v1/campaigns/999/imports",
        &[],
        Some(("donors.csv", &small)),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    // No job was started by any of them.
    assert_eq!(mia.get("/api/v1/jobs").await.json(), json!([]));

    // The same small file with a valid choice imports.
    let job = app
        .run_import(
            &mia,
            &path,
            &[("duplicates", "merge")],
            ("donors.csv", &small),
        )
        .await;
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(job["summary"]["imported"], 1);
    assert_eq!(job["summary"]["phone_column"], "טלפון");
}

#[tokio::test]
async fn merging_duplicates_keeps_the_fields_of_both_rows() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let id = app.create_campaign(&mia, json!({"name": "מיזוג"})).await;
    let sheet = xlsx(&[
        &["טלפון", "שם", "הערה"],
        &["052-5551234", "דנה כהן", ""],
        &["0525551234", "", "תורמת קבועה"],
    ]);
    let job = app
        .run_import(
            &mia,
            &format!("/api/v1/campaigns/{id}/imports"),
            &[("duplicates", "merge")],
            ("merge.xlsx", &sheet),
        )
        .await;
    assert_eq!(job["summary"]["imported"], 1, "{job:#}");
    assert_eq!(job["summary"]["merged"], 1, "{job:#}");
    let contacts = mia
        .get(&format!("/api/v1/campaigns/{id}/contacts"))
        .await
        .json();
    assert_eq!(
        contacts["items"][0]["metadata"],
        json!({"שם": "דנה כהן", "הערה": "תורמת קבועה"})
    );
}
