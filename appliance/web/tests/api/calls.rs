//! Call records, written through the store as the dialer writes them, read back
//! filtered, sorted and paged.

use axum::http::StatusCode;
use serde_json::{Value, json};
use shofar_store::accounts::Role;
use shofar_store::calls::CallOutcome;

use crate::support::{Call, Client, TestApp};

/// Two campaigns' calls over four days in November 2026 (times UTC; Israel is
/// two hours ahead).
async fn calls(app: &TestApp, client: &Client) -> (i64, i64) {
    let a = app
        .create_campaign(client, json!({"name": "תרומות חורף"}))
        .await;
    let b = app.create_campaign(client, json!({"name": "סקר"})).await;
    let mut answered = Call::new(
        "a-1",
        a,
        "+972525551234",
        "2026-11-22T08:00:00Z",
        CallOutcome::Answered,
    );
    answered.dtmf = "1".into();
    answered.converted = true;
    let mut long = Call::new(
        "a-4",
        a,
        "+972525551234",
        "2026-11-24T10:00:00Z",
        CallOutcome::Answered,
    );
    long.attempt = 2;
    long.seconds = 128;
    let mut open = Call::new(
        "a-6",
        a,
        "+972505123456",
        "2026-11-24T12:00:00Z",
        CallOutcome::Answered,
    );
    open.outcome = None;
    for call in [
        answered,
        Call::new(
            "a-2",
            a,
            "+97236123456",
            "2026-11-22T09:00:00Z",
            CallOutcome::Busy,
        ),
        Call::new(
            "a-3",
            a,
            "+972547654321",
            "2026-11-23T08:30:00Z",
            CallOutcome::NoAnswer,
        ),
        long,
        Call::new(
            "a-5",
            a,
            "+972587123456",
            "2026-11-24T11:00:00Z",
            CallOutcome::Blacklisted,
        ),
        open,
        Call::new(
            "b-1",
            b,
            "+972525551234",
            "2026-11-23T09:00:00Z",
            CallOutcome::Voicemail,
        ),
        Call::new(
            "b-2",
            b,
            "+97226234567",
            "2026-11-25T07:00:00Z",
            CallOutcome::Failed,
        ),
    ] {
        app.record_call(&call);
    }
    (a, b)
}

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn calls_are_listed_newest_first_and_filtered() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let (a, b) = calls(&app, &mia).await;
    let ana = app.login_as("ana", Role::Analyst).await;
    let all = ana.get("/api/v1/calls").await.expect(StatusCode::OK);
    assert_eq!(
        ids(&all),
        ["b-2", "a-6", "a-5", "a-4", "b-1", "a-3", "a-2", "a-1"]
    );
    assert_eq!(
        (&all["total"], &all["page"], &all["per_page"], &all["pages"]),
        (&json!(8), &json!(1), &json!(50), &json!(1))
    );
    let check = |query: &'static str, expected: &'static [&'static str]| {
        let ana = ana.clone();
        async move {
            let page = ana
                .get(&format!("/api/v1/calls?{query}"))
                .await
                .expect(StatusCode::OK);
            assert_eq!(ids(&page), expected, "{query}");
            assert_eq!(page["total"], expected.len(), "{query}");
        }
    };
    let by_campaign = format!("campaign={a}");
    let page = ana
        .get(&format!("/api/v1/calls?{by_campaign}"))
        .await
        .json();
    assert_eq!(ids(&page), ["a-6", "a-5", "a-4", "a-3", "a-2", "a-1"]);
    let page = ana
        .get(&format!("/api/v1/calls?campaign={b}&outcome=failed"))
        .await
        .json();
    assert_eq!(ids(&page), ["b-2"]);
    check("outcome=answered", &["a-4", "a-1"]).await;
    check("outcome=in_call", &["a-6"]).await;
    check("outcome=blacklisted", &["a-5"]).await;
    check("outcome=congestion", &[]).await;
    // Dates are midnight in Israel: 23 November runs from 22:00 UTC the day
    // before; "to" a date includes that whole day (issue 18, item 9).
    check("from=2026-11-23&to=2026-11-23", &["b-1", "a-3"]).await;
    check("from=2026-11-25", &["b-2"]).await;
    check("to=2026-11-22T08:30:00Z", &["a-1"]).await;
    check(
        "from=2026-11-22T08:00:00Z&to=2026-11-22T09:00:00Z",
        &["a-1"],
    )
    .await;
    check("number=052-5551234", &["a-4", "b-1", "a-1"]).await;
    check("number=%2B972525551234&outcome=answered", &["a-4", "a-1"]).await;
    check("number=058-7123456", &["a-5"]).await;
    check("campaign=999", &[]).await;
}

#[tokio::test]
async fn calls_are_sorted_and_paged() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    calls(&app, &mia).await;
    let list = |query: &'static str| {
        let mia = mia.clone();
        async move {
            mia.get(&format!("/api/v1/calls?{query}"))
                .await
                .expect(StatusCode::OK)
        }
    };
    assert_eq!(
        ids(&list("sort=started_at").await),
        ["a-1", "a-2", "a-3", "b-1", "a-4", "a-5", "a-6", "b-2"]
    );
    assert_eq!(ids(&list("sort=-started_at").await), ids(&list("").await));
    // Longest talk first: 120 s, then two of 40 s (the later record first); the
    // rest never talked.
    assert_eq!(
        ids(&list("sort=-talk_ms").await)[..3],
        ["a-4", "b-1", "a-1"]
    );
    assert_eq!(
        ids(&list("sort=number").await),
        ["b-2", "a-2", "a-6", "a-1", "b-1", "a-4", "a-3", "a-5"]
    );
    let second = list("sort=started_at&per_page=3&page=2").await;
    assert_eq!(ids(&second), ["b-1", "a-4", "a-5"]);
    assert_eq!(
        (
            &second["total"],
            &second["page"],
            &second["per_page"],
            &second["pages"]
        ),
        (&json!(8), &json!(2), &json!(3), &json!(3))
    );
    assert_eq!(
        ids(&list("sort=started_at&per_page=3&page=3").await),
        ["a-6", "b-2"]
    );
    assert_eq!(ids(&list("per_page=3&page=4").await), Vec::<&str>::new());
    assert_eq!(list("per_page=500").await["per_page"], 500);
}

#[tokio::test]
async fn bad_filters_are_refused_with_the_parameter_named() {
    let app = TestApp::new();
    let ana = app.login_as("ana", Role::Analyst).await;
    for (query, field) in [
        ("outcome=hung_up", "outcome"),
        ("sort=duration", "sort"),
        ("sort=-number", "sort"),
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("number=0234", "number"),
        ("page=0", "page"),
        ("per_page=0", "per_page"),
        ("per_page=501", "per_page"),
    ] {
        ana.get(&format!("/api/v1/calls?{query}"))
            .await
            .expect_fields(&[field]);
    }
    for query in ["campaign=winter", "page=-1", "per_page=many"] {
        ana.get(&format!("/api/v1/calls?{query}"))
            .await
            .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    }
}

#[tokio::test]
async fn one_call_is_shown_as_recorded() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let (a, _) = calls(&app, &mia).await;
    let ana = app.login_as("ana", Role::Analyst).await;
    let call = ana.get("/api/v1/calls/a-1").await.expect(StatusCode::OK);
    assert_eq!(
        call,
        json!({
            "call_id": "a-1",
            "campaign_id": a,
            "contact_id": null,
            "number": "+972525551234",
            "attempt": 1,
            "kind": "campaign",
            "status": "ended",
            "outcome": "answered",
            "hangup_code": 16,
            "hangup_cause": "normal",
            "dial_status": null,
            "amd_result": null,
            "started_at": "2026-11-22T08:00:00Z",
            "answered_at": "2026-11-22T08:00:08Z",
            "ended_at": "2026-11-22T08:00:48Z",
            "duration_ms": 48000,
            "ring_ms": 8000,
            "talk_ms": 40000,
            "dtmf": "1",
            "actions": [],
            "converted": true,
            "opted_out": false,
            "ended_by": "callee",
            "detail": null,
            "dnc_version": 1
        })
    );
    let refused = ana.get("/api/v1/calls/a-5").await.json();
    assert_eq!(refused["outcome"], "blacklisted");
    assert_eq!(refused["duration_ms"], 0);
    assert_eq!(refused["detail"], "on the do-not-call list");
    let open = ana.get("/api/v1/calls/a-6").await.json();
    assert_eq!(
        (&open["status"], &open["outcome"]),
        (&json!("answered"), &Value::Null)
    );
    ana.get("/api/v1/calls/no-such-call")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");

    // The campaign's page counts its calls by outcome, the open one as in call.
    let shown = ana.get(&format!("/api/v1/campaigns/{a}")).await.json();
    assert_eq!(
        shown["calls"],
        json!({"answered": 2, "busy": 1, "no_answer": 1, "blacklisted": 1, "in_call": 1})
    );
}

#[tokio::test]
async fn a_test_call_checks_its_number_and_campaign_and_needs_an_engine() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let campaign = app.create_campaign(&mia, json!({"name": "ניסיון"})).await;
    mia.post("/api/v1/calls/test", json!({"number": "0234"}))
        .await
        .expect_fields(&["number"]);
    mia.post(
        "/api/v1/calls/test",
        json!({"number": "052-5551234", "campaign_id": 999}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    mia.post("/api/v1/calls/test", json!({"to": "052-5551234"}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // This box runs no telephony engine: the call cannot be placed, and nothing
    // is recorded.
    let refused = mia
        .post(
            "/api/v1/calls/test",
            json!({"number": "052-5551234", "campaign_id": campaign}),
        )
        .await;
    refused.expect_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert_eq!(mia.get("/api/v1/calls").await.json()["total"], 0);
}
