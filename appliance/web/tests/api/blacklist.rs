//! The do-not-call list: numbers added in any local spelling take effect in the
//! dialer's own index at once; removals need a reason; every change is in the
//! history; the list is searched, exported and imported.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};
use shofar_dnc::DialRefusal;
use shofar_phone::E164;
use shofar_store::accounts::Role;

use crate::support::{Client, TestApp, donors_xlsx, urlencode, xlsx};

fn e164(text: &str) -> E164 {
    text.parse().unwrap()
}

/// Whether the dialer's pre-dial check, on the very index the API changes, would
/// refuse the number.
fn refused_at_the_dial(app: &TestApp, number: &str) -> bool {
    match app.state.dnc.predial_check(e164(number)) {
        Ok(permit) => {
            assert_eq!(permit.number(), e164(number));
            false
        }
        Err(DialRefusal::Blacklisted { .. }) => true,
    }
}

async fn add(client: &Client, numbers: &[&str], reason: &str) -> Value {
    client
        .post(
            "/api/v1/blacklist",
            json!({"numbers": numbers, "reason": reason}),
        )
        .await
        .expect(StatusCode::OK)
}

#[tokio::test]
async fn numbers_added_in_local_spellings_are_refused_by_the_dialer_at_once() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    assert!(!refused_at_the_dial(&app, "+972525551234"));
    let added = add(
        &mia,
        &["052-5551234", "+972 54 765 4321", "03-6123456"],
        "ביקש לא להתקשר אליו",
    )
    .await;
    assert_eq!(
        added,
        json!({"added": 3, "already_listed": 0, "contacts_marked": 0})
    );
    // The index the dialer asks right before each dial refuses them now, with no
    // reload and no delay.
    for number in ["+972525551234", "+972547654321", "+97236123456"] {
        assert!(refused_at_the_dial(&app, number), "{number}");
    }
    assert!(!refused_at_the_dial(&app, "+972587123456"));

    let checked = mia
        .get("/api/v1/blacklist/0525551234")
        .await
        .expect(StatusCode::OK);
    assert_eq!(checked["number"], "+972525551234");
    assert_eq!(checked["listed"], true);
    let entry = &checked["entry"];
    assert_eq!(entry["number"], "+972525551234");
    assert_eq!(entry["reason"], "ביקש לא להתקשר אליו");
    assert_eq!(entry["source"], "admin_import");
    assert_eq!(entry["added_by"], "web:mia");
    assert_eq!(entry["checked_on"], Value::Null);
    for spelling in ["+972525551234", "052-5551234", "972525551234"] {
        assert_eq!(
            mia.get(&format!("/api/v1/blacklist/{spelling}"))
                .await
                .json()["listed"],
            true,
            "{spelling}"
        );
    }
    assert_eq!(
        mia.get("/api/v1/blacklist/058-7123456").await.json(),
        json!({"number": "+972587123456", "listed": false, "entry": null})
    );
    for bad in ["0234", "055-1234567"] {
        mia.get(&format!("/api/v1/blacklist/{bad}"))
            .await
            .expect_fields(&["number"]);
    }

    // Again: nothing new, the first entry kept.
    assert_eq!(
        add(&mia, &["0525551234"], "again").await,
        json!({"added": 0, "already_listed": 1, "contacts_marked": 0})
    );
    assert_eq!(
        mia.get("/api/v1/blacklist/0525551234").await.json()["entry"]["reason"],
        "ביקש לא להתקשר אליו"
    );
}

#[tokio::test]
async fn one_bad_number_adds_nothing_and_is_named() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let refused = mia
        .post(
            "/api/v1/blacklist",
            json!({"numbers": ["052-5551234", "0234", "03-6123456", "055-1234567"], "reason": "opt-out"}),
        )
        .await;
    refused.expect_fields(&["numbers[1]", "numbers[3]"]);
    let message = refused.json()["error"]["fields"][0]["message"].clone();
    assert!(message.as_str().unwrap().contains("\"0234\""), "{message}");
    assert!(!refused_at_the_dial(&app, "+972525551234"));
    assert_eq!(
        mia.get("/api/v1/blacklist").await.json()["total"],
        0,
        "all or nothing"
    );

    let post = |body: Value| {
        let mia = mia.clone();
        async move { mia.post("/api/v1/blacklist", body).await }
    };
    post(json!({"numbers": [], "reason": "x"}))
        .await
        .expect_fields(&["numbers"]);
    post(json!({"numbers": ["052-5551234"], "reason": "  "}))
        .await
        .expect_fields(&["reason"]);
    post(json!({"numbers": ["052-5551234"], "reason": "x", "source": "neighbour"}))
        .await
        .expect_fields(&["source"]);
    post(json!({"numbers": ["052-5551234"], "reason": "x", "source": "compliance", "checked_on": "1/11/2026"}))
        .await
        .expect_fields(&["checked_on"]);
    for body in [
        json!({"numbers": "052-5551234", "reason": "x"}),
        json!({"numbers": ["052-5551234"]}),
        json!({"numbers": ["052-5551234"], "reason": "x", "campaign": 1}),
    ] {
        post(body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    assert!(!refused_at_the_dial(&app, "+972525551234"));
}

/// A letter typed onto the digits is a typo, not a note: the number is refused
/// saying what was read, instead of listing the digits before the letter.
#[tokio::test]
async fn a_number_with_a_letter_on_it_is_refused_saying_what_was_read() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let refused = mia
        .post(
            "/api/v1/blacklist",
            json!({"numbers": ["052 555 1234x"], "reason": "opt-out"}),
        )
        .await;
    refused.expect_fields(&["numbers[0]"]);
    let message = refused.json()["error"]["fields"][0]["message"].clone();
    assert!(
        message.as_str().unwrap().contains("\"052 555 1234\""),
        "{message}"
    );
    assert!(!refused_at_the_dial(&app, "+972525551234"));
}

#[tokio::test]
async fn a_campaigns_contacts_are_marked_and_unmarked() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let id = app
        .create_campaign(&mia, json!({"name": "תרומות חורף 2027"}))
        .await;
    app.import_contacts(&mia, id, "donors.xlsx", &donors_xlsx())
        .await;
    let added = add(&mia, &["052-5551234"], "asked on the phone").await;
    assert_eq!(added["contacts_marked"], 1);
    let contacts = mia
        .get(&format!(
            "/api/v1/campaigns/{id}/contacts?search=0525551234"
        ))
        .await
        .json();
    assert_eq!(contacts["items"][0]["blacklisted"], true);
    let shown = mia.get(&format!("/api/v1/campaigns/{id}")).await.json();
    assert_eq!(shown["contacts"]["blacklisted"], 1);
    assert_eq!(shown["contacts"]["pending"], 3);
    // Regression: the list's status filter agrees with those counts. A contact
    // listed after its import kept status `pending`, so `status=blacklisted`
    // found nobody while the campaign counted one, and `status=pending` showed
    // the listed number among those still to call.
    let listed = mia
        .get(&format!(
            "/api/v1/campaigns/{id}/contacts?status=blacklisted"
        ))
        .await
        .json();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["number"], "+972525551234");
    let pending = mia
        .get(&format!("/api/v1/campaigns/{id}/contacts?status=pending"))
        .await
        .json();
    assert_eq!(pending["total"], 3);
    assert!(!pending.to_string().contains("+972525551234"));
    assert_eq!(
        mia.get("/api/v1/campaigns").await.json()[0]["blacklisted_contacts"],
        1
    );

    // A later import marks a listed number as it arrives.
    let other = app.create_campaign(&mia, json!({"name": "סקר"})).await;
    let job = app
        .import_contacts(&mia, other, "donors.xlsx", &donors_xlsx())
        .await;
    assert_eq!(job["summary"]["blacklisted"], 1);
    assert_eq!(job["summary"]["imported"], 4);

    let removed = mia
        .delete("/api/v1/blacklist/052-5551234?reason=confirmed%20by%20phone")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        removed,
        json!({"removed": 1, "not_listed": 0, "contacts_unmarked": 2})
    );
    assert_eq!(
        mia.get(&format!("/api/v1/campaigns/{id}")).await.json()["contacts"]["blacklisted"],
        0
    );
}

#[tokio::test]
async fn a_removal_needs_a_reason_and_takes_effect_after_it_commits() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    add(&mia, &["052-5551234"], "opt-out").await;
    for query in ["", "?reason=", "?reason=ok", "?reason=%20%20%20%20"] {
        mia.delete(&format!("/api/v1/blacklist/052-5551234{query}"))
            .await
            .expect_fields(&["reason"]);
    }
    // Still listed after every refusal.
    assert!(refused_at_the_dial(&app, "+972525551234"));

    let reason = urlencoding("הלקוח ביקש לחזור לרשימה");
    let removed = mia
        .delete(&format!("/api/v1/blacklist/+972525551234?reason={reason}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(removed["removed"], 1);
    assert!(!refused_at_the_dial(&app, "+972525551234"));
    assert_eq!(
        mia.get("/api/v1/blacklist/0525551234").await.json()["listed"],
        false
    );
    mia.delete(&format!("/api/v1/blacklist/0525551234?reason={reason}"))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    mia.delete("/api/v1/blacklist/0234?reason=wrong%20number")
        .await
        .expect_fields(&["number"]);

    let history = mia
        .get("/api/v1/blacklist/history?number=052-5551234")
        .await
        .expect(StatusCode::OK);
    let actions: Vec<(&str, &str)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].as_str().unwrap(), h["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [("remove", "הלקוח ביקש לחזור לרשימה"), ("add", "opt-out")]
    );
    assert_eq!(history["items"][0]["actor"], "web:mia");
}

fn urlencoding(text: &str) -> String {
    crate::support::urlencode(text)
}

#[tokio::test]
async fn the_list_and_its_history_are_paged_searched_and_filtered() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    // Entries are ordered by the millisecond they were added at: let each have
    // its own.
    let next_millisecond = || tokio::time::sleep(std::time::Duration::from_millis(2));
    add(&mia, &["052-5551234"], "opt-out").await;
    next_millisecond().await;
    add(&mia, &["03-6123456"], "opt-out").await;
    next_millisecond().await;
    mia.post(
        "/api/v1/blacklist",
        json!({"numbers": ["054-7654321"], "reason": "national registry",
               "source": "compliance", "checked_on": "2026-11-01"}),
    )
    .await
    .expect(StatusCode::OK);
    mia.delete("/api/v1/blacklist/03-6123456?reason=added%20by%20mistake")
        .await
        .expect(StatusCode::OK);

    let list = mia.get("/api/v1/blacklist").await.expect(StatusCode::OK);
    assert_eq!(list["total"], 2);
    let numbers = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["number"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(numbers(&list), ["+972547654321", "+972525551234"]);
    assert_eq!(list["items"][0]["checked_on"], "2026-11-01");
    assert_eq!(list["items"][0]["source"], "compliance");
    for (query, expected) in [
        ("?search=0525551234", vec!["+972525551234"]),
        ("?search=5551234", vec!["+972525551234"]),
        ("?search=054-765", vec!["+972547654321"]),
        ("?source=compliance", vec!["+972547654321"]),
        ("?source=user_optout", vec![]),
        ("?per_page=1&page=2", vec!["+972525551234"]),
    ] {
        let page = mia
            .get(&format!("/api/v1/blacklist{query}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(numbers(&page), expected, "{query}");
    }
    for (query, field) in [
        ("?source=neighbour", "source"),
        ("?per_page=501", "per_page"),
        ("?page=0", "page"),
    ] {
        mia.get(&format!("/api/v1/blacklist{query}"))
            .await
            .expect_fields(&[field]);
    }

    let history = mia
        .get("/api/v1/blacklist/history")
        .await
        .expect(StatusCode::OK);
    assert_eq!(history["total"], 4);
    let rows: Vec<(String, String)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap().to_owned(),
                h["number"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("remove".to_owned(), "+97236123456".to_owned()),
            ("add".to_owned(), "+972547654321".to_owned()),
            ("add".to_owned(), "+97236123456".to_owned()),
            ("add".to_owned(), "+972525551234".to_owned()),
        ]
    );
    let removals = mia
        .get("/api/v1/blacklist/history?action=remove")
        .await
        .json();
    assert_eq!(removals["total"], 1);
    assert_eq!(removals["items"][0]["reason"], "added by mistake");
    let second = mia
        .get("/api/v1/blacklist/history?per_page=3&page=2")
        .await
        .json();
    assert_eq!(
        (
            &second["total"],
            &second["pages"],
            second["items"].as_array().unwrap().len()
        ),
        (&json!(4), &json!(2), 1)
    );
    assert_eq!(
        mia.get("/api/v1/blacklist/history?number=03-6123456&action=add")
            .await
            .json()["total"],
        1
    );
    for (query, field) in [
        ("?action=undo", "action"),
        ("?number=0234", "number"),
        ("?per_page=0", "per_page"),
    ] {
        mia.get(&format!("/api/v1/blacklist/history{query}"))
            .await
            .expect_fields(&[field]);
    }
}

/// Security probe: a list search with no digits matched every entry, so typing
/// a name listed the whole do-not-call list as if it had matched. It is refused,
/// naming `search`; a blank search is no search.
#[tokio::test]
async fn a_list_search_without_a_digit_is_refused_not_matched_by_everything() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    add(&mia, &["052-5551234", "03-6123456"], "opt-out").await;
    for search in ["dana", "כהן", "-", "%", "+()"] {
        let refused = mia
            .get(&format!("/api/v1/blacklist?search={}", urlencode(search)))
            .await;
        refused.expect_fields(&["search"]);
        let message = refused.json()["error"]["fields"][0]["message"].clone();
        assert!(
            message.as_str().unwrap().contains("at least one digit"),
            "{message}"
        );
    }
    for (search, total) in [("", 2), ("  ", 2), ("5551234", 1), ("+972-3", 1)] {
        let found = mia
            .get(&format!("/api/v1/blacklist?search={}", urlencode(search)))
            .await
            .expect(StatusCode::OK);
        assert_eq!(found["total"], total, "search {search:?}");
    }
}

#[tokio::test]
async fn the_list_exports_as_csv_the_import_reads_back() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    add(&mia, &["052-5551234"], "ביקש לא להתקשר").await;
    mia.post(
        "/api/v1/blacklist",
        json!({"numbers": ["054-7654321"], "reason": "national registry",
               "source": "compliance", "checked_on": "2026-11-01"}),
    )
    .await
    .expect(StatusCode::OK);
    let export = mia.get("/api/v1/blacklist/export").await;
    export.expect(StatusCode::OK);
    assert_eq!(
        export.header(header::CONTENT_TYPE),
        Some("text/csv; charset=utf-8")
    );
    let disposition = export.header(header::CONTENT_DISPOSITION).unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"do-not-call-20")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let text = export.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "phone,reason,source,added_at,added_by,checked_on");
    assert_eq!(lines.len(), 3, "{text}");
    let row = lines
        .iter()
        .find(|line| line.starts_with("+972525551234,"))
        .unwrap();
    assert!(
        row.starts_with("+972525551234,ביקש לא להתקשר,admin_import,20"),
        "{row}"
    );
    assert!(row.ends_with(",web:mia,"), "{row}");
    assert!(
        lines.iter().any(
            |line| line.starts_with("+972547654321,national registry,compliance,")
                && line.ends_with(",2026-11-01")
        ),
        "{text}"
    );

    // Read back into an empty box, it lists the same numbers.
    let other = TestApp::new();
    let manager = other.login_as("mia", Role::Manager).await;
    let job = other
        .run_import(
            &manager,
            "/api/v1/blacklist/imports",
            &[],
            ("do-not-call.csv", &export.body),
        )
        .await;
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(job["summary"]["added"], 2);
    assert!(refused_at_the_dial(&other, "+972525551234"));
    assert!(refused_at_the_dial(&other, "+972547654321"));
}

#[tokio::test]
async fn a_file_of_numbers_imports_as_a_job_and_takes_effect_when_it_commits() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let campaign = app.create_campaign(&mia, json!({"name": "סקר"})).await;
    app.import_contacts(&mia, campaign, "donors.xlsx", &donors_xlsx())
        .await;
    let csv = "טלפון\n052-5551234\n03-6123456\n0234\n0525551234\n".as_bytes();
    let job = app
        .run_import(
            &mia,
            "/api/v1/blacklist/imports",
            &[("reason", "רשימת הסרה של הארגון")],
            ("הסרה.csv", csv),
        )
        .await;
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(job["kind"], "blacklist_import");
    assert_eq!(job["campaign_id"], Value::Null);
    let summary = &job["summary"];
    for (key, expected) in [
        ("total_rows", 4),
        ("added", 2),
        ("already_listed", 0),
        ("duplicates", 1),
        ("invalid", 1),
        ("contacts_marked", 2),
        ("list_size", 2),
    ] {
        assert_eq!(summary[key], expected, "{key}: {summary:#}");
    }
    assert!(refused_at_the_dial(&app, "+972525551234"));
    assert!(refused_at_the_dial(&app, "+97236123456"));
    let entry = mia.get("/api/v1/blacklist/03-6123456").await.json()["entry"].clone();
    assert_eq!(entry["reason"], "רשימת הסרה של הארגון");
    assert_eq!(entry["added_by"], "web:mia");

    // A compliance import says when the registry was checked.
    let registry = xlsx(&[&["מספר טלפון"], &["054-7654321"]]);
    mia.upload(
        "/api/v1/blacklist/imports",
        &[("source", "compliance")],
        Some(("registry.xlsx", &registry)),
    )
    .await
    .expect_fields(&["checked_on"]);
    mia.upload(
        "/api/v1/blacklist/imports",
        &[("source", "compliance"), ("checked_on", "יום ראשון")],
        Some(("registry.xlsx", &registry)),
    )
    .await
    .expect_fields(&["checked_on"]);
    mia.upload(
        "/api/v1/blacklist/imports",
        &[("source", "registry")],
        Some(("registry.xlsx", &registry)),
    )
    .await
    .expect_fields(&["source"]);
    assert!(!refused_at_the_dial(&app, "+972547654321"));
    let job = app
        .run_import(
            &mia,
            "/api/v1/blacklist/imports",
            &[("source", "compliance"), ("checked_on", "2026-11-01")],
            ("registry.xlsx", &registry),
        )
        .await;
    assert_eq!(job["summary"]["added"], 1, "{job:#}");
    let entry = mia.get("/api/v1/blacklist/054-7654321").await.json()["entry"].clone();
    assert_eq!(entry["source"], "compliance");
    assert_eq!(entry["checked_on"], "2026-11-01");
    assert!(refused_at_the_dial(&app, "+972547654321"));

    mia.post(
        "/api/v1/blacklist/imports",
        json!({"numbers": ["052-5551234"]}),
    )
    .await
    .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    mia.upload("/api/v1/blacklist/imports", &[("reason", "x")], None)
        .await
        .expect_fields(&["file"]);
}

#[tokio::test]
async fn a_damaged_or_oversized_list_adds_nothing() {
    let app = TestApp::with_config(|config| config.max_upload_bytes = 4 * 1024);
    let mia = app.login_as("mia", Role::Manager).await;
    let big: String = std::iter::once("טלפון\n".to_owned())
        .chain((0..600).map(|i| format!("052-555{i:04}\n")))
        .collect();
    mia.upload(
        "/api/v1/blacklist/imports",
        &[],
        Some(("big.csv", big.as_bytes())),
    )
    .await
    .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let mut damaged = xlsx(&[&["טלפון"], &["052-5551234"]]);
    damaged.truncate(damaged.len() / 2);
    let job = app
        .run_import(
            &mia,
            "/api/v1/blacklist/imports",
            &[],
            ("list.xlsx", &damaged),
        )
        .await;
    assert_eq!(job["status"], "failed", "{job:#}");
    assert!(
        job["error"]
            .as_str()
            .unwrap()
            .ends_with("nothing was added"),
        "{job:#}"
    );
    assert!(
        !job["error"].as_str().unwrap().contains("uploads/"),
        "the reason names the file, not the box's folder: {job:#}"
    );
    assert!(!refused_at_the_dial(&app, "+972525551234"));
    assert_eq!(mia.get("/api/v1/blacklist").await.json()["total"], 0);
}
