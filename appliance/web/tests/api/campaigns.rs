//! Campaigns: created from the campaign file's keys as JSON, validated field by
//! field, changed, deleted while still a draft, moved along the lifecycle, listed,
//! and their calendar of when they may call.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shofar_store::accounts::Role;
use shofar_store::calls::CallOutcome;

use crate::support::{Call, Client, TestApp, donors_xlsx, urlencode};

const NAME: &str = "תרומות חורף 2027";

/// docs/campaign.example.toml as a request body, in Hebrew.
fn winter_campaign() -> Value {
    json!({
        "name": NAME,
        "type": "voice",
        "purpose": "donation",
        "consent_override": "Existing donors, consent collected on paper forms 2025",
        "time_zone": "Asia/Jerusalem",
        "start": "2027-01-03 09:00",
        "end": "2027-02-28",
        "max_attempts": 4,
        "caller_id": "03-6123456",
        "amd": "hang_up",
        "windows": {
            "sunday": "09:00-20:00",
            "monday": ["09:00-13:00", "16:00-20:00"],
            "tuesday": "09:00-20:00",
            "wednesday": "09:00-20:00",
            "thursday": "09:00-20:00",
            "friday": "09:00-13:00",
            "saturday": "closed"
        },
        "quiet": {"shabbat": true, "holidays": true, "erev_from": "13:00"},
        "retry": {"busy": "15m", "no_answer": "2h", "voicemail": false},
        "pacing": {"cps": 5, "max_channels": 30}
    })
}

/// A campaign with nothing but a name: every default.
async fn plain_campaign(app: &TestApp, client: &Client, name: &str) -> i64 {
    app.create_campaign(client, json!({ "name": name })).await
}

#[tokio::test]
async fn a_campaign_is_created_from_the_campaign_file_as_json() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let created = mia
        .post("/api/v1/campaigns", winter_campaign())
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(created["name"], NAME);
    assert_eq!(created["type"], "voice");
    assert_eq!(created["purpose"], "donation");
    assert_eq!(created["status"], "draft");
    assert_eq!(created["created_by"], "web:mia");
    // The override lifts the consent requirement of a donation campaign.
    assert_eq!(created["consent_required"], false);
    assert_eq!(
        created["consent_override"],
        "Existing donors, consent collected on paper forms 2025"
    );
    // Every setting in full, in the campaign file's shape, with local spellings
    // normalized and defaults filled in.
    assert_eq!(
        created["settings"],
        json!({
            "time_zone": "Asia/Jerusalem",
            "start": "2027-01-03T09:00:00+02:00",
            "end": "2027-03-01T00:00:00+02:00",
            "max_attempts": 4,
            "caller_id": "+97236123456",
            "amd": "hang_up",
            "windows": {
                "sunday": ["09:00-20:00"],
                "monday": ["09:00-13:00", "16:00-20:00"],
                "tuesday": ["09:00-20:00"],
                "wednesday": ["09:00-20:00"],
                "thursday": ["09:00-20:00"],
                "friday": ["09:00-13:00"],
                "saturday": []
            },
            "quiet": {"shabbat": true, "holidays": true, "erev_from": "13:00", "yom_hazikaron": false},
            "retry": {"busy": "15m", "congestion": "30m", "failed": "30m", "no_answer": "2h", "voicemail": false},
            "pacing": {"cps": 5.0, "max_channels": 30}
        })
    );

    let id = created["id"].as_i64().unwrap();
    let shown = mia
        .get(&format!("/api/v1/campaigns/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(shown["campaign"], created);
    assert_eq!(
        shown["contacts"],
        json!({"total": 0, "pending": 0, "due": 0, "waiting_retry": 0, "in_progress": 0,
               "completed": 0, "failed": 0, "blacklisted": 0, "without_consent": 0})
    );
    assert_eq!(shown["calls"], json!({}));
    // Its start is weeks away.
    assert_eq!(shown["gate"]["state"], "closed");
    assert_eq!(shown["gate"]["reason"], "before_start");

    // An analyst reads it too; the name is unique.
    let ana = app.login_as("ana", Role::Analyst).await;
    ana.get(&format!("/api/v1/campaigns/{id}"))
        .await
        .expect(StatusCode::OK);
    mia.post("/api/v1/campaigns", winter_campaign())
        .await
        .expect_error(StatusCode::CONFLICT, "already_exists");
}

/// Creating `body` is refused with a 422 naming exactly `fields`.
async fn check_refused(client: &Client, body: Value, fields: &[&str]) {
    let refused = client.post("/api/v1/campaigns", body.clone()).await;
    refused.expect_fields(fields);
    // The dry run says the same.
    client
        .post("/api/v1/campaigns/validate", body)
        .await
        .expect_fields(fields);
}

#[tokio::test]
async fn every_wrong_field_is_named() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let with = |changes: Value| {
        let mut body = winter_campaign();
        for (key, value) in changes.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    check_refused(&mia, json!({"type": "voice"}), &["name"]).await;
    check_refused(&mia, with(json!({"name": "  "})), &["name"]).await;
    check_refused(&mia, with(json!({"name": "א".repeat(201)})), &["name"]).await;
    check_refused(
        &mia,
        json!({"name": "x", "purpose": "charity"}),
        &["purpose"],
    )
    .await;
    check_refused(&mia, with(json!({"type": "fax"})), &["type"]).await;
    check_refused(&mia, with(json!({"max_attempts": 0})), &["max_attempts"]).await;
    check_refused(&mia, with(json!({"max_attempts": 21})), &["max_attempts"]).await;
    check_refused(&mia, with(json!({"caller_id": "0234"})), &["caller_id"]).await;
    check_refused(
        &mia,
        with(json!({"time_zone": "Asia/Tel_Aviv_Jaffa"})),
        &["time_zone"],
    )
    .await;
    check_refused(&mia, json!({"name": "x", "end": "2020-12-31"}), &["end"]).await;
    check_refused(&mia, with(json!({"end": "2027-01-02"})), &["end"]).await;
    check_refused(&mia, with(json!({"amd": "detect"})), &["amd"]).await;
    check_refused(
        &mia,
        with(json!({"windows": {"sunday": "9-17", "funday": "09:00-10:00"}})),
        &["windows.funday", "windows.sunday"],
    )
    .await;
    check_refused(
        &mia,
        with(json!({"windows": {"sunday": "closed", "monday": "closed"}})),
        &["windows"],
    )
    .await;
    check_refused(
        &mia,
        with(json!({"retry": {"busy": "10s"}})),
        &["retry.busy"],
    )
    .await;
    check_refused(&mia, with(json!({"pacing": {"cps": 0}})), &["pacing.cps"]).await;
    check_refused(
        &mia,
        with(json!({"quiet": {"erev_from": "25:00"}})),
        &["quiet.erev_from"],
    )
    .await;
    check_refused(
        &mia,
        json!({"name": "x", "purpose": "political", "consent_override": "paper forms"}),
        &["consent_override"],
    )
    .await;
    check_refused(
        &mia,
        with(json!({"ivr_flow": "no-such-flow"})),
        &["ivr_flow"],
    )
    .await;
    // Several at once, each named.
    check_refused(
        &mia,
        json!({"purpose": "charity", "max_attempts": 0, "windows": {"sunday": "9-17"}}),
        &["name", "purpose", "max_attempts", "windows.sunday"],
    )
    .await;
    // Nothing was created.
    assert_eq!(mia.get("/api/v1/campaigns").await.json(), json!([]));
}

/// Regression: a value of the wrong type or an unknown key was reported as the
/// field `file` (the CLI's campaign file), so the UI could not show which field
/// was wrong.
#[tokio::test]
async fn a_value_of_the_wrong_type_or_an_unknown_key_names_its_field() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    for (body, field) in [
        (
            json!({"name": "x", "max_attempts": "three"}),
            "max_attempts",
        ),
        (json!({"name": "x", "max_attempts": 2.5}), "max_attempts"),
        (
            json!({"name": "x", "windows": {"sunday": 9}}),
            "windows.sunday",
        ),
        (json!({"name": "x", "retry": {"busy": 15}}), "retry.busy"),
        (
            json!({"name": "x", "pacing": {"cps": "fast"}}),
            "pacing.cps",
        ),
        (
            json!({"name": "x", "quiet": {"shabbat": "yes"}}),
            "quiet.shabbat",
        ),
        (
            json!({"name": "x", "pacing": {"cps": 5, "burst": 2}}),
            "pacing.burst",
        ),
        (json!({"name": "x", "windowz": {}}), "windowz"),
        (json!({"name": 5}), "name"),
        (json!(["x"]), "campaign"),
    ] {
        let refused = mia.post("/api/v1/campaigns", body.clone()).await;
        refused.expect_fields(&[field]);
        let message = &refused.json()["error"]["fields"][0]["message"];
        assert!(
            !message.as_str().unwrap().contains("untagged enum"),
            "{body}: {message}"
        );
    }
}

/// Security probe: a 422 echoed the refused value back twice, so a 1 MB
/// `caller_id` made a 2 MB answer. An error names the field and what is wrong,
/// and quotes at most a short excerpt of the value, once.
#[tokio::test]
async fn a_refused_value_is_quoted_once_and_short_however_long_it_was() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let megabyte = "9".repeat(1 << 20);
    let letters = "x".repeat(1 << 20);
    for body in [
        json!({"name": "x", "caller_id": megabyte}),
        json!({"name": "x", "caller_id": letters}),
        // serde's own words quote it too.
        json!({"name": "x", "max_attempts": letters}),
        json!({"name": "x", "windows": {"sunday": letters}}),
    ] {
        for path in ["/api/v1/campaigns", "/api/v1/campaigns/validate"] {
            let refused = mia.post(path, body.clone()).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
            assert!(
                refused.body.len() < 2048,
                "{path}: {} bytes: {}",
                refused.body.len(),
                &refused.text()[..2048.min(refused.body.len())]
            );
            let text = refused.text();
            let field = refused.fields()[0].clone();
            assert!(
                ["caller_id", "max_attempts", "windows.sunday"].contains(&field.as_str()),
                "{text}"
            );
            assert!(text.contains(&field), "{text}");
            // The value's runs of 9s or xs in the answer: one, of at most 40.
            let runs: Vec<usize> = text
                .split(|c| c != '9' && c != 'x')
                .map(str::len)
                .filter(|&run| run >= 10)
                .collect();
            assert_eq!(runs.len(), 1, "{text}");
            assert!(runs[0] <= 40, "{text}");
            assert!(text.contains('…'), "{text}");
        }
    }
}

#[tokio::test]
async fn validate_fills_in_defaults_and_saves_nothing() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let checked = mia
        .post(
            "/api/v1/campaigns/validate",
            json!({"name": "סקר שביעות רצון", "purpose": "informational"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(checked["valid"], true);
    let settings = &checked["settings"];
    assert_eq!(settings["max_attempts"], 3);
    assert_eq!(settings["time_zone"], "Asia/Jerusalem");
    assert_eq!(settings["windows"]["saturday"], json!([]));
    assert_eq!(settings["windows"]["friday"], json!(["09:00-13:00"]));
    assert_eq!(settings["quiet"]["shabbat"], true);
    assert_eq!(mia.get("/api/v1/campaigns").await.json(), json!([]));
    mia.send(
        Method::POST,
        "/api/v1/campaigns/validate",
        Some("application/json"),
        b"{\"name\": ".to_vec(),
    )
    .await
    .expect_error(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn a_campaign_is_changed_whole_and_checked_like_a_new_one() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let id = app.create_campaign(&mia, winter_campaign()).await;
    plain_campaign(&app, &mia, "קיץ 2027").await;
    let mut changed = winter_campaign();
    changed["name"] = json!("תרומות חורף 2027 - סבב ב");
    changed["max_attempts"] = json!(2);
    changed["windows"] = json!({"sunday": "10:00-18:00", "thursday": "10:00-18:00"});
    let updated = mia
        .put(&format!("/api/v1/campaigns/{id}"), changed.clone())
        .await
        .expect(StatusCode::OK);
    assert_eq!(updated["name"], "תרומות חורף 2027 - סבב ב");
    assert_eq!(updated["settings"]["max_attempts"], 2);
    assert_eq!(updated["settings"]["windows"]["monday"], json!([]));
    assert_eq!(
        updated["settings"]["windows"]["sunday"],
        json!(["10:00-18:00"])
    );
    assert_eq!(
        mia.get(&format!("/api/v1/campaigns/{id}")).await.json()["campaign"],
        updated
    );

    // Refused changes leave it as it was.
    let mut bad = changed.clone();
    bad["max_attempts"] = json!(50);
    mia.put(&format!("/api/v1/campaigns/{id}"), bad)
        .await
        .expect_fields(&["max_attempts"]);
    let mut taken = changed.clone();
    taken["name"] = json!("קיץ 2027");
    mia.put(&format!("/api/v1/campaigns/{id}"), taken)
        .await
        .expect_error(StatusCode::CONFLICT, "already_exists");
    assert_eq!(
        mia.get(&format!("/api/v1/campaigns/{id}")).await.json()["campaign"],
        updated
    );
    mia.put("/api/v1/campaigns/999", changed.clone())
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    mia.put("/api/v1/campaigns/winter", changed.clone())
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");

    // A cancelled campaign is history.
    mia.post(&format!("/api/v1/campaigns/{id}/cancel"), json!({}))
        .await
        .expect(StatusCode::OK);
    mia.put(&format!("/api/v1/campaigns/{id}"), changed)
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn only_a_draft_that_never_called_can_be_deleted() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let draft = plain_campaign(&app, &mia, "טיוטה").await;
    app.import_contacts(&mia, draft, "donors.xlsx", &donors_xlsx())
        .await;
    mia.delete(&format!("/api/v1/campaigns/{draft}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    mia.get(&format!("/api/v1/campaigns/{draft}"))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    mia.delete(&format!("/api/v1/campaigns/{draft}"))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");

    let started = plain_campaign(&app, &mia, "פעיל").await;
    app.import_contacts(&mia, started, "donors.xlsx", &donors_xlsx())
        .await;
    mia.post(&format!("/api/v1/campaigns/{started}/start"), json!({}))
        .await
        .expect(StatusCode::OK);
    let refused = mia.delete(&format!("/api/v1/campaigns/{started}")).await;
    refused.expect_error(StatusCode::CONFLICT, "conflict");
    assert!(refused.text().contains("cancel it"), "{}", refused.text());

    // A draft with a call record (a test call) is kept for its records.
    let called = plain_campaign(&app, &mia, "נוסה").await;
    app.record_call(&Call::new(
        "test-call-1",
        called,
        "+972525551234",
        "2026-11-30T10:00:00Z",
        CallOutcome::Answered,
    ));
    mia.delete(&format!("/api/v1/campaigns/{called}"))
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
    assert_eq!(
        mia.get("/api/v1/campaigns")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// SMS sending is not built yet: an SMS or hybrid campaign, contacts and all, is
/// refused at start with a code the UI translates, and stays a draft, so nobody
/// meant to get a text is phoned.
#[tokio::test]
async fn an_sms_or_hybrid_campaign_cannot_start() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    for kind in ["sms", "hybrid"] {
        let id = app
            .create_campaign(
                &mia,
                json!({"name": format!("תזכורת {kind}"), "type": kind}),
            )
            .await;
        app.import_contacts(&mia, id, "donors.xlsx", &donors_xlsx())
            .await;
        let refused = transition(&mia, id, "start").await;
        refused.expect_error(StatusCode::CONFLICT, "sms_unavailable");
        let message = refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains("SMS sending is not available on this box yet"),
            "{message}"
        );
        let shown = mia
            .get(&format!("/api/v1/campaigns/{id}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(shown["campaign"]["status"], "draft", "{kind}");
    }
}

#[tokio::test]
async fn a_campaign_without_contacts_cannot_start_and_is_told_why() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let id = plain_campaign(&app, &mia, "ריק").await;
    let refused = mia
        .post(&format!("/api/v1/campaigns/{id}/start"), json!({}))
        .await;
    refused.expect_error(StatusCode::CONFLICT, "conflict");
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("no contact")
            && message.contains(&format!("/api/v1/campaigns/{id}/imports")),
        "{message}"
    );
    assert_eq!(
        mia.get(&format!("/api/v1/campaigns/{id}")).await.json()["campaign"]["status"],
        "draft"
    );

    // A donation campaign needs contacts with recorded consent: a sheet without a
    // consent column gives it none, and the message says so.
    let donation = app
        .create_campaign(&mia, json!({"name": "תרומות", "purpose": "donation"}))
        .await;
    app.import_contacts(&mia, donation, "donors.xlsx", &donors_xlsx())
        .await;
    let shown = mia
        .get(&format!("/api/v1/campaigns/{donation}"))
        .await
        .json();
    assert_eq!(shown["contacts"]["total"], 4);
    assert_eq!(shown["contacts"]["without_consent"], 4);
    let refused = mia
        .post(&format!("/api/v1/campaigns/{donation}/start"), json!({}))
        .await;
    refused.expect_error(StatusCode::CONFLICT, "conflict");
    assert!(refused.text().contains("consent"), "{}", refused.text());
}

async fn transition(client: &Client, id: i64, event: &str) -> crate::support::Response {
    client
        .post(
            &format!("/api/v1/campaigns/{id}/{event}"),
            json!({"reason": format!("{event} approved by Dana")}),
        )
        .await
}

#[tokio::test]
async fn a_campaign_with_contacts_starts_pauses_resumes_and_is_cancelled() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let id = plain_campaign(&app, &mia, "סקר בחירות").await;
    app.import_contacts(&mia, id, "donors.xlsx", &donors_xlsx())
        .await;
    let status = |client: Client| async move {
        client.get(&format!("/api/v1/campaigns/{id}")).await.json()["campaign"]["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (event, from, to) in [
        ("start", "draft", "active"),
        ("pause", "active", "paused"),
        ("resume", "paused", "active"),
        ("pause", "active", "paused"),
    ] {
        let moved = transition(&mia, id, event).await.expect(StatusCode::OK);
        assert_eq!(moved, json!({"id": id, "from": from, "to": to}), "{event}");
        assert_eq!(status(mia.clone()).await, to);
    }
    // Moves the lifecycle does not allow, each with its hint.
    for (event, hint) in [("start", "use resume"), ("pause", "already paused")] {
        let refused = transition(&mia, id, event).await;
        refused.expect_error(StatusCode::CONFLICT, "illegal_transition");
        assert!(refused.text().contains(hint), "{}", refused.text());
    }
    // The body is optional; when given it must fit.
    mia.send(
        Method::POST,
        &format!("/api/v1/campaigns/{id}/resume"),
        None,
        Vec::new(),
    )
    .await
    .expect(StatusCode::OK);
    mia.post(
        &format!("/api/v1/campaigns/{id}/pause"),
        json!({"why": "lunch"}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(status(mia.clone()).await, "active");

    let cancelled = transition(&mia, id, "cancel").await.expect(StatusCode::OK);
    assert_eq!(cancelled["to"], "cancelled");
    for event in ["start", "pause", "resume", "cancel"] {
        transition(&mia, id, event)
            .await
            .expect_error(StatusCode::CONFLICT, "illegal_transition");
    }
    // A cancelled campaign takes no more contacts.
    mia.upload(
        &format!("/api/v1/campaigns/{id}/imports"),
        &[],
        Some(("more.xlsx", &donors_xlsx())),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict");

    // The audit log has each move with who and why.
    let audit = app.store().audit_log(100).unwrap();
    let starts: Vec<_> = audit
        .iter()
        .filter(|entry| entry.action == "campaign.start")
        .collect();
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0].actor, "web:mia");
    assert_eq!(starts[0].details["reason"], "start approved by Dana");

    for event in ["start", "pause", "resume", "cancel"] {
        transition(&mia, 999, event)
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn a_campaign_whose_start_is_ahead_is_scheduled() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let id = app.create_campaign(&mia, winter_campaign()).await;
    app.import_contacts(&mia, id, "donors.xlsx", &donors_xlsx())
        .await;
    let moved = transition(&mia, id, "start").await.expect(StatusCode::OK);
    assert_eq!(moved["to"], "scheduled");
    assert_eq!(
        transition(&mia, id, "pause").await.expect(StatusCode::OK)["to"],
        "paused"
    );
    assert_eq!(
        transition(&mia, id, "resume").await.expect(StatusCode::OK)["to"],
        "scheduled"
    );
}

#[tokio::test]
async fn the_list_is_filtered_and_sorted() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let ana = app.login_as("ana", Role::Analyst).await;
    let donors = app
        .create_campaign(
            &mia,
            json!({"name": "Donors 2027", "purpose": "donation",
            "consent_override": "consent on paper forms"}),
        )
        .await;
    let survey = app
        .create_campaign(&mia, json!({"name": "סקר לקוחות", "type": "voice"}))
        .await;
    let reminder = app
        .create_campaign(&mia, json!({"name": "תזכורת תרומה", "type": "sms"}))
        .await;
    app.import_contacts(&mia, survey, "donors.xlsx", &donors_xlsx())
        .await;
    transition(&mia, survey, "start")
        .await
        .expect(StatusCode::OK);
    app.import_contacts(
        &mia,
        donors,
        "two.xlsx",
        &crate::support::xlsx(&[&["טלפון"], &["052-5551234"], &["03-6123456"]]),
    )
    .await;

    let ids = |list: Value| -> Vec<i64> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };
    let list = |query: &str| {
        let ana = ana.clone();
        let path = format!("/api/v1/campaigns{query}");
        async move { ana.get(&path).await.expect(StatusCode::OK) }
    };
    let all = list("").await;
    assert_eq!(ids(all.clone()), [donors, survey, reminder]);
    assert_eq!(
        all[1],
        json!({"id": survey, "name": "סקר לקוחות", "type": "voice", "purpose": "informational",
               "status": "active", "contacts": 4, "blacklisted_contacts": 0,
               "created_at": all[1]["created_at"]})
    );
    assert_eq!(ids(list("?status=draft").await), [donors, reminder]);
    assert_eq!(ids(list("?status=active").await), [survey]);
    assert_eq!(ids(list("?type=sms").await), [reminder]);
    assert_eq!(ids(list("?search=donors").await), [donors]);
    assert_eq!(
        ids(list(&format!("?search={}", urlencode("תרומה"))).await),
        [reminder]
    );
    assert_eq!(ids(list("?sort=-id").await), [reminder, survey, donors]);
    assert_eq!(ids(list("?sort=-contacts").await)[..2], [survey, donors]);
    assert_eq!(ids(list("?sort=name").await), [donors, survey, reminder]);
    assert_eq!(
        ids(list("?status=draft&sort=-name").await),
        [reminder, donors]
    );

    for query in ["?sort=budget", "?sort=-", "?status=running", "?type=fax"] {
        let refused = ana.get(&format!("/api/v1/campaigns{query}")).await;
        refused.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let field = query[1..].split('=').next().unwrap();
        assert_eq!(refused.fields(), [field], "{query}");
    }
}

#[tokio::test]
async fn the_calendar_shows_a_week_with_shabbat_blocked() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let ana = app.login_as("ana", Role::Analyst).await;
    let id = plain_campaign(&app, &mia, "שבוע").await;
    // Sunday 3 to Sunday 10 January 2027, in Israel.
    let week = ana
        .get(&format!(
            "/api/v1/campaigns/{id}/calendar?from=2027-01-03&days=7"
        ))
        .await
        .expect(StatusCode::OK);
    assert_eq!(week["time_zone"], "Asia/Jerusalem");
    assert_eq!(week["from"], "2027-01-03T00:00:00+02:00");
    assert_eq!(week["to"], "2027-01-10T00:00:00+02:00");
    let intervals = |key: &str| -> Vec<(String, String, String)> {
        week[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["start"].as_str().unwrap().to_owned(),
                    i["end"].as_str().unwrap().to_owned(),
                    i["reason"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    let allowed = intervals("allowed");
    // Sunday to Thursday 09:00-20:00, Friday 09:00-13:00, nothing on Shabbat.
    assert_eq!(allowed.len(), 6);
    assert_eq!(
        allowed[0],
        (
            "2027-01-03T09:00:00+02:00".into(),
            "2027-01-03T20:00:00+02:00".into(),
            String::new()
        )
    );
    assert_eq!(
        allowed[5],
        (
            "2027-01-08T09:00:00+02:00".into(),
            "2027-01-08T13:00:00+02:00".into(),
            String::new()
        )
    );
    let shabbat: Vec<_> = intervals("blocked")
        .into_iter()
        .filter(|(_, _, reason)| reason == "shabbat")
        .collect();
    assert_eq!(shabbat.len(), 1, "{week:#}");
    // From candle-lighting on Friday afternoon to nightfall on Saturday.
    let (start, end, _) = &shabbat[0];
    assert!(start.starts_with("2027-01-08T16:"), "{start}");
    assert!(end.starts_with("2027-01-09T17:"), "{end}");
    for (allowed_start, allowed_end, _) in &allowed {
        assert!(allowed_end <= start || allowed_start >= end);
    }
    // Every moment of the week is either allowed or blocked, once.
    let mut all: Vec<_> = allowed
        .iter()
        .chain(intervals("blocked").iter())
        .cloned()
        .collect();
    all.sort();
    assert_eq!(all.first().unwrap().0, "2027-01-03T00:00:00+02:00");
    assert_eq!(all.last().unwrap().1, "2027-01-10T00:00:00+02:00");
    for pair in all.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "a gap or an overlap: {pair:?}");
    }

    // The range is bounded and the dates checked.
    for query in ["days=0", "days=401", "days=-3"] {
        ana.get(&format!("/api/v1/campaigns/{id}/calendar?{query}"))
            .await
            .expect_fields(&["days"]);
    }
    ana.get(&format!(
        "/api/v1/campaigns/{id}/calendar?from=2027-01-03&days=400"
    ))
    .await
    .expect(StatusCode::OK);
    ana.get(&format!("/api/v1/campaigns/{id}/calendar?from=03/01/2027"))
        .await
        .expect_fields(&["from"]);
    ana.get(&format!("/api/v1/campaigns/{id}/calendar?days=week"))
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    ana.get("/api/v1/campaigns/999/calendar")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    // Without a start date: from today, a week.
    let today = ana
        .get(&format!("/api/v1/campaigns/{id}/calendar"))
        .await
        .expect(StatusCode::OK);
    assert!(today["from"].as_str().unwrap().ends_with("T00:00:00+02:00"));
}

#[tokio::test]
async fn the_calendar_preview_shows_unsaved_settings() {
    let app = TestApp::new();
    let ana = app.login_as("ana", Role::Analyst).await;
    let preview = ana
        .post(
            "/api/v1/calendar/preview?from=2027-01-03&days=2",
            json!({"windows": {"sunday": ["10:00-12:00", "17:00-19:00"], "monday": "closed"}}),
        )
        .await
        .expect(StatusCode::OK);
    let allowed: Vec<(&str, &str)> = preview["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["start"].as_str().unwrap(), i["end"].as_str().unwrap()))
        .collect();
    assert_eq!(
        allowed,
        [
            ("2027-01-03T10:00:00+02:00", "2027-01-03T12:00:00+02:00"),
            ("2027-01-03T17:00:00+02:00", "2027-01-03T19:00:00+02:00"),
        ]
    );
    // Nothing was saved.
    assert_eq!(ana.get("/api/v1/campaigns").await.json(), json!([]));
    ana.post(
        "/api/v1/calendar/preview?from=2027-01-03",
        json!({"windows": {"sunday": "10-12"}}),
    )
    .await
    .expect_fields(&["windows.sunday"]);
    ana.post("/api/v1/calendar/preview?days=500", json!({}))
        .await
        .expect_fields(&["days"]);
}

#[tokio::test]
async fn next_shows_who_the_dialer_calls_and_from_when() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let id = plain_campaign(&app, &mia, "הבאים בתור").await;
    app.import_contacts(&mia, id, "donors.xlsx", &donors_xlsx())
        .await;
    let next = mia
        .get(&format!("/api/v1/campaigns/{id}/next"))
        .await
        .expect(StatusCode::OK);
    // Whatever the hour: open now, or closed until it reopens, and then from
    // then.
    match next["gate"]["state"].as_str().unwrap() {
        "open" => assert!(next["from"].is_string()),
        "closed" => assert_eq!(next["from"], next["gate"]["reopens"], "{next:#}"),
        other => panic!("a campaign without an end cannot be {other}"),
    }
    let mut numbers: Vec<&str> = next["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        [
            "+97236123456",
            "+972525551234",
            "+972547654321",
            "+972587123456"
        ]
    );
    assert!(
        next["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["attempts"] == 0)
    );
    let two = mia
        .get(&format!("/api/v1/campaigns/{id}/next?limit=2"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(two["contacts"].as_array().unwrap().len(), 2);
    assert_eq!(two["contacts"][0], next["contacts"][0]);

    // A listed number is never offered.
    mia.post(
        "/api/v1/blacklist",
        json!({"numbers": ["052-5551234"], "reason": "opt-out"}),
    )
    .await
    .expect(StatusCode::OK);
    let after = mia
        .get(&format!("/api/v1/campaigns/{id}/next"))
        .await
        .json();
    assert_eq!(after["contacts"].as_array().unwrap().len(), 3);
    assert!(!after.to_string().contains("+972525551234"));

    // A cancelled campaign calls nobody.
    mia.post(&format!("/api/v1/campaigns/{id}/cancel"), json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        mia.get(&format!("/api/v1/campaigns/{id}/next"))
            .await
            .json()["contacts"],
        json!([])
    );
    for query in ["limit=0", "limit=101"] {
        mia.get(&format!("/api/v1/campaigns/{id}/next?{query}"))
            .await
            .expect_fields(&["limit"]);
    }
    mia.get("/api/v1/campaigns/999/next")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}
