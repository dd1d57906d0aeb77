//! The box itself: the health check, settings, the pacing log, the audit log,
//! the live status, the OpenAPI document, and what unknown routes and methods
//! answer.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode, header};
use chrono::Duration;
use serde_json::{Value, json};
use shofar_store::accounts::Role;
use shofar_store::calls::CallOutcome;
use shofar_store::campaigns::CampaignId;
use shofar_store::pacing::PaceLogEntry;
use tokio_util::sync::CancellationToken;

use crate::support::{Call, TestApp, at, donors_xlsx};

#[tokio::test]
async fn the_health_check_is_public_and_tells_no_secrets() {
    let app = TestApp::new();
    app.add_user("adam", Role::Admin);
    let response = app.anonymous().get("/healthz").await;
    let health = response.expect(StatusCode::OK);
    assert_eq!(
        health,
        json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "backend": null,
            "telephony_up": null,
            "active_calls": 0,
            "campaigns_running": 0
        })
    );
    let text = response.text();
    for secret in [
        "adam",
        "password",
        "token",
        app.data_dir().to_str().unwrap(),
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // Every answer carries the security headers; API answers are never cached.
    assert_eq!(
        response.header(header::X_CONTENT_TYPE_OPTIONS),
        Some("nosniff")
    );
    assert_eq!(response.header(header::X_FRAME_OPTIONS), Some("DENY"));
    let api = app.anonymous().get("/api/v1/setup").await;
    assert_eq!(api.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(api.header(header::REFERRER_POLICY), Some("same-origin"));
}

#[tokio::test]
async fn settings_are_read_by_analysts_and_changed_by_admins() {
    let app = TestApp::new();
    let ana = app.login_as("ana", Role::Analyst).await;
    let admin = app.login_as("adam", Role::Admin).await;
    let settings = ana.get("/api/v1/settings").await.expect(StatusCode::OK);
    assert_eq!(settings["stored"], json!({}));
    assert_eq!(settings["telephony"]["reachable"], false);
    let editable: Vec<&str> = settings["editable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        editable,
        [
            "calendar.location",
            "dialer.max_cps",
            "dialer.max_channels",
            "ui.language"
        ]
    );
    let location = &settings["editable"][0];
    assert!(
        location["choices"]
            .as_array()
            .unwrap()
            .contains(&json!("haifa"))
    );

    let changed = admin
        .put(
            "/api/v1/settings",
            json!({"dialer.max_cps": 20, "calendar.location": "haifa", "ui.language": "en"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        changed["stored"],
        json!({"dialer.max_cps": 20, "calendar.location": "haifa", "ui.language": "en"})
    );
    assert_eq!(
        ana.get("/api/v1/settings").await.json()["stored"],
        changed["stored"]
    );
    // null goes back to shofar.toml's value.
    let reverted = admin
        .put(
            "/api/v1/settings",
            json!({"dialer.max_cps": null, "dialer.max_channels": 300}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        reverted["stored"],
        json!({"calendar.location": "haifa", "ui.language": "en", "dialer.max_channels": 300})
    );

    // Each bad key or value is named; nothing of a refused change is stored.
    let refused = admin
        .put(
            "/api/v1/settings",
            json!({
                "calendar.location": "atlantis",
                "dialer.colour": "red",
                "dialer.max_channels": 2.5,
                "dialer.max_cps": 1000,
                "ui.language": "fr"
            }),
        )
        .await;
    refused.expect_fields(&[
        "calendar.location",
        "dialer.colour",
        "dialer.max_channels",
        "dialer.max_cps",
        "ui.language",
    ]);
    for (value, field) in [
        (json!({"dialer.max_cps": 0}), "dialer.max_cps"),
        (json!({"dialer.max_cps": "20"}), "dialer.max_cps"),
        (json!({"dialer.max_channels": 0}), "dialer.max_channels"),
        (json!({"ui.language": 1}), "ui.language"),
        (json!({"http.session_days": 30}), "http.session_days"),
    ] {
        admin
            .put("/api/v1/settings", value)
            .await
            .expect_fields(&[field]);
    }
    for body in [json!({}), json!([{"dialer.max_cps": 20}]), json!("haifa")] {
        admin
            .put("/api/v1/settings", body)
            .await
            .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    }
    assert_eq!(
        ana.get("/api/v1/settings").await.json()["stored"],
        reverted["stored"]
    );
    ana.put("/api/v1/settings", json!({"ui.language": "he"}))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn the_pacing_log_lists_every_change_newest_first() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let winter = app.create_campaign(&mia, json!({"name": "חורף"})).await;
    let survey = app.create_campaign(&mia, json!({"name": "סקר"})).await;
    let start = at("2026-11-22T08:00:00Z");
    let entries = [
        (
            None,
            50.0,
            30.0,
            Some(400),
            Some(240),
            "CPU 91% over 85%: box pace lowered",
        ),
        (
            Some(winter),
            5.0,
            3.5,
            None,
            None,
            "answer rate 12% under 20%",
        ),
        (
            Some(survey),
            5.0,
            2.5,
            None,
            None,
            "answer rate 9% under 20%",
        ),
        (
            None,
            30.0,
            40.0,
            Some(240),
            Some(320),
            "CPU back to 60%: raised a step",
        ),
    ];
    let mut store = app.store();
    for (i, (campaign, old_cps, new_cps, old_channels, new_channels, reason)) in
        entries.iter().enumerate()
    {
        store
            .log_pace_change(&PaceLogEntry {
                at: start + Duration::seconds(30 * i as i64),
                campaign: campaign.map(CampaignId),
                old_cps: *old_cps,
                new_cps: *new_cps,
                old_channels: *old_channels,
                new_channels: *new_channels,
                reason: (*reason).to_owned(),
                // The last as the dialer writes it, with the reason as data; the
                // others as an older version did, without.
                reason_detail: (i == entries.len() - 1).then(|| json!({"kind": "recovered"})),
            })
            .unwrap();
    }
    let ana = app.login_as("ana", Role::Analyst).await;
    let log = ana.get("/api/v1/pacing").await.expect(StatusCode::OK);
    assert_eq!(log.as_array().unwrap().len(), 4);
    assert_eq!(
        log[0],
        json!({
            "at": "2026-11-22T08:01:30Z",
            "campaign_id": null,
            "old_cps": 30.0,
            "new_cps": 40.0,
            "old_channels": 240,
            "new_channels": 320,
            "reason": "CPU back to 60%: raised a step",
            "reason_detail": {"kind": "recovered"}
        })
    );
    assert_eq!(log[1]["reason_detail"], Value::Null);
    let reasons = |log: &Value| -> Vec<String> {
        log.as_array()
            .unwrap()
            .iter()
            .map(|e| e["reason"].as_str().unwrap().to_owned())
            .collect()
    };
    // One campaign's: its own changes and the box's, which limit it too.
    let winter_log = ana
        .get(&format!("/api/v1/pacing?campaign={winter}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        reasons(&winter_log),
        [
            "CPU back to 60%: raised a step",
            "answer rate 12% under 20%",
            "CPU 91% over 85%: box pace lowered"
        ]
    );
    assert_eq!(winter_log[1]["campaign_id"], winter);
    assert_eq!(
        reasons(&ana.get("/api/v1/pacing?limit=2").await.json()),
        ["CPU back to 60%: raised a step", "answer rate 9% under 20%"]
    );
    for query in ["limit=0", "limit=1001"] {
        ana.get(&format!("/api/v1/pacing?{query}"))
            .await
            .expect_fields(&["limit"]);
    }
    ana.get("/api/v1/pacing?campaign=winter")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn the_audit_log_names_who_acted_through_the_api() {
    let app = TestApp::new();
    let admin = app.login_as("adam", Role::Admin).await;
    let mia = app.login_as("mia", Role::Manager).await;
    let script = app.token_for("ci", Role::Manager);
    let id = app
        .create_campaign(&mia, json!({"name": "תרומות חורף 2027"}))
        .await;
    app.create_campaign(&script, json!({"name": "נוצר בסקריפט"}))
        .await;
    script
        .post(
            "/api/v1/blacklist",
            json!({"numbers": ["052-5551234"], "reason": "opt-out by email"}),
        )
        .await
        .expect(StatusCode::OK);
    app.import_contacts(&mia, id, "donors.xlsx", &donors_xlsx())
        .await;
    admin
        .put("/api/v1/settings", json!({"dialer.max_cps": 20}))
        .await
        .expect(StatusCode::OK);

    let audit = admin.get("/api/v1/audit").await.expect(StatusCode::OK);
    let entries = audit.as_array().unwrap();
    let found = |action: &str, actor: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action && e["actor"] == actor)
            .unwrap_or_else(|| panic!("no {action} by {actor} in {audit:#}"))
            .clone()
    };
    let created = found("campaign.create", "web:mia");
    assert_eq!(created["subject_kind"], "campaign");
    assert_eq!(created["subject_id"], id.to_string());
    found("campaign.create", "api:ci/tests");
    let added = found("blacklist.add", "api:ci/tests");
    assert_eq!(added["details"]["outcome"]["added"], 1);
    found("contacts.import", "web:mia");
    let settings = found("settings.update", "web:adam");
    assert!(
        settings["details"].to_string().contains("dialer.max_cps"),
        "{settings}"
    );
    // Newest first.
    assert_eq!(entries[0]["action"], "settings.update");
    let times: Vec<&str> = entries.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|pair| pair[0] >= pair[1]), "{times:?}");

    let limited = admin.get("/api/v1/audit?limit=2").await.json();
    assert_eq!(limited.as_array().unwrap().len(), 2);
    for query in ["limit=0", "limit=1001"] {
        admin
            .get(&format!("/api/v1/audit?{query}"))
            .await
            .expect_fields(&["limit"]);
    }
    mia.get("/api/v1/audit")
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn the_status_snapshot_follows_the_call_records() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let ana = app.login_as("ana", Role::Analyst).await;
    let initial = ana.get("/api/v1/status").await.expect(StatusCode::OK);
    for key in [
        "seq",
        "at",
        "last_event_at",
        "backend",
        "telephony_up",
        "active_calls",
        "queue_depth",
        "dialing_rate",
        "pace_cps",
        "ceiling_cps",
        "max_channels",
        "health",
        "alerts",
        "campaigns",
        "totals",
        "jobs",
    ] {
        assert!(initial.get(key).is_some(), "{key} missing from {initial:#}");
    }
    assert_eq!(initial["campaigns"], json!([]));
    assert_eq!(initial["totals"]["calls"], 0);
    assert_eq!(initial["backend"], Value::Null);

    // A running campaign with calls: the live figures follow the records.
    let id = app.create_campaign(&mia, json!({"name": "פעיל"})).await;
    app.import_contacts(&mia, id, "donors.xlsx", &donors_xlsx())
        .await;
    mia.post(&format!("/api/v1/campaigns/{id}/start"), json!({}))
        .await
        .expect(StatusCode::OK);
    for (i, outcome) in [
        CallOutcome::Answered,
        CallOutcome::Busy,
        CallOutcome::Answered,
    ]
    .into_iter()
    .enumerate()
    {
        let mut call = Call::new(
            &format!("live-{i}"),
            id,
            "+972525551234",
            "2026-12-01T08:00:00Z",
            outcome,
        );
        call.started_at += Duration::minutes(i as i64);
        app.record_call(&call);
    }
    let (shutdown, follower) = follow_live(&app);
    let mut snapshot = Value::Null;
    for _ in 0..2000 {
        snapshot = ana.get("/api/v1/status").await.expect(StatusCode::OK);
        if snapshot["campaigns"][0]["figures"]["calls"] == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    follower.await.unwrap();
    assert!(snapshot["seq"].as_u64().unwrap() > 0, "{snapshot:#}");
    let campaign = &snapshot["campaigns"][0];
    assert_eq!(campaign["id"], id);
    assert_eq!(campaign["name"], "פעיל");
    assert_eq!(campaign["running"], false, "no dialer runs here");
    // The same figures a report over the same records gives.
    let report = ana
        .get(&format!("/api/v1/campaigns/{id}/report"))
        .await
        .json();
    assert_eq!(campaign["figures"], report["figures"]);
    assert_eq!(snapshot["totals"], report["figures"]);
    assert_eq!(snapshot["totals"]["answered"], 2);
}

/// Runs the live figures' task (the status snapshot, the sync agent's status
/// file) until the returned token is cancelled.
fn follow_live(app: &TestApp) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let shutdown = CancellationToken::new();
    let state = app.state.clone();
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        state
            .live
            .run(
                state.pool.clone(),
                state.jobs.clone(),
                state.probe.clone(),
                state.config.data_dir.clone(),
                stop,
            )
            .await
    });
    (shutdown, task)
}

/// The status once `done` says it is what the test waits for (the live task
/// reads the sync agent's file every few seconds).
async fn status_when(client: &crate::support::Client, done: impl Fn(&Value) -> bool) -> Value {
    let mut snapshot = Value::Null;
    for _ in 0..400 {
        snapshot = client.get("/api/v1/status").await.expect(StatusCode::OK);
        if done(&snapshot) {
            return snapshot;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the status never became what was expected: {snapshot:#}");
}

/// `sync` in the status: null without the agent's status file; the file's
/// figures with the state and alerts they mean once it is there; `not_running`
/// once the agent has stopped writing it.
#[tokio::test]
async fn the_status_shows_the_sync_agent_from_its_status_file() {
    use shofar_store::sync::status::{Link, SyncStatus, write_status};
    let app = TestApp::new();
    let ana = app.login_as("ana", Role::Analyst).await;
    let (shutdown, task) = follow_live(&app);
    let first = status_when(&ana, |s| s["seq"].as_u64() > Some(0)).await;
    assert_eq!(first["sync"], Value::Null, "no agent, no sync: {first:#}");

    let now = chrono::Utc::now();
    let down_since = now - Duration::minutes(40);
    let status = SyncStatus {
        agent_version: "0.1.0".into(),
        pid: 4242,
        updated_at: now,
        org: "acme".into(),
        box_id: "tlv-1".into(),
        mqtt: Link {
            connected: true,
            since: Some(now - Duration::hours(2)),
            last_error: None,
        },
        s3: Link {
            connected: false,
            since: Some(down_since),
            last_error: Some("connection refused".into()),
        },
        waiting_records: 1200,
        oldest_waiting_at: Some(down_since),
        disk_bytes: 900,
        disk_limit_bytes: 1000,
        offline_alert_minutes: 30,
        waiting_alert_percent: 80,
        counters: [("records_uploaded_total".to_owned(), 7)].into(),
        ..SyncStatus::default()
    };
    write_status(app.data_dir(), &status).unwrap();
    let snapshot = status_when(&ana, |s| !s["sync"].is_null()).await;
    let sync = &snapshot["sync"];
    assert_eq!(sync["state"], "offline", "{sync:#}");
    assert_eq!(sync["box_id"], "tlv-1");
    assert_eq!(sync["waiting_records"], 1200);
    assert_eq!(sync["s3"]["last_error"], "connection refused");
    assert_eq!(sync["counters"]["records_uploaded_total"], 7);
    assert_eq!(sync["model"], Value::Null);
    let codes: Vec<&str> = sync["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["sync_offline", "sync_backlog"]);
    // The dashboard's alerts have them too.
    for code in codes {
        assert!(
            snapshot["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["code"] == code),
            "{code} missing from {:#}",
            snapshot["alerts"]
        );
    }

    // The agent stopped two minutes ago.
    write_status(
        app.data_dir(),
        &SyncStatus {
            updated_at: now - Duration::minutes(2),
            disk_bytes: 0,
            ..status
        },
    )
    .unwrap();
    let stopped = status_when(&ana, |s| s["sync"]["state"] == "not_running").await;
    assert_eq!(stopped["sync"]["alerts"][0]["code"], "sync_not_running");
    shutdown.cancel();
    task.await.unwrap();

    // The document describes it: the states as a string enum (the web UI's
    // list), `sync` a nullable part of the snapshot.
    let document = app
        .anonymous()
        .get("/api/v1/openapi.json")
        .await
        .expect(StatusCode::OK);
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["SyncState"]["enum"],
        json!(["not_configured", "not_running", "online", "offline"])
    );
    let sync = schemas["LiveSnapshot"]["properties"]["sync"].to_string();
    assert!(
        sync.contains("#/components/schemas/SyncStatusLive") && sync.contains("null"),
        "{sync}"
    );
}

/// The call vocabulary is described as string enums listing exactly its values
/// (the web UI's types and lists are generated from them), and the call record,
/// the calls list's filter and the report's outcome rows refer to them.
#[tokio::test]
async fn the_openapi_document_lists_exactly_the_call_vocabulary() {
    use shofar_vocab::{CallKind, CallStatus, EndedBy, OutcomeFilter};
    let app = TestApp::new();
    let document = app
        .anonymous()
        .get("/api/v1/openapi.json")
        .await
        .expect(StatusCode::OK);
    let schemas = &document["components"]["schemas"];
    let names = |values: Vec<&str>| json!(values);
    for (schema, values) in [
        (
            "CallOutcome",
            names(CallOutcome::ALL.map(CallOutcome::as_str).to_vec()),
        ),
        (
            "CallStatus",
            names(CallStatus::ALL.map(CallStatus::as_str).to_vec()),
        ),
        ("EndedBy", names(EndedBy::ALL.map(EndedBy::as_str).to_vec())),
        (
            "CallKind",
            names(CallKind::ALL.map(CallKind::as_str).to_vec()),
        ),
        (
            "OutcomeFilter",
            names(OutcomeFilter::ALL.map(OutcomeFilter::as_str).to_vec()),
        ),
    ] {
        assert_eq!(schemas[schema]["type"], "string", "{schema}");
        assert_eq!(schemas[schema]["enum"], values, "{schema}");
    }
    assert_eq!(
        schemas["OutcomeFilter"]["enum"].as_array().unwrap().last(),
        Some(&json!("in_call"))
    );
    let refers = |value: &Value, schema: &str| {
        value
            .to_string()
            .contains(&format!("\"#/components/schemas/{schema}\""))
    };
    let call = &schemas["CallOut"]["properties"];
    assert!(
        refers(&call["outcome"], "CallOutcome"),
        "{}",
        call["outcome"]
    );
    assert!(refers(&call["status"], "CallStatus"), "{}", call["status"]);
    assert!(refers(&call["ended_by"], "EndedBy"), "{}", call["ended_by"]);
    assert!(refers(&call["kind"], "CallKind"), "{}", call["kind"]);
    assert!(
        refers(&call["actions"], "CallAction"),
        "{}",
        call["actions"]
    );
    assert!(refers(
        &schemas["OutcomeShare"]["properties"]["outcome"],
        "OutcomeFilter"
    ));
    let parameters = document["paths"]["/api/v1/calls"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let outcome = parameters.iter().find(|p| p["name"] == "outcome").unwrap();
    assert!(refers(&outcome["schema"], "OutcomeFilter"), "{outcome}");
}

#[tokio::test]
async fn the_openapi_document_is_public_and_lists_every_route() {
    let app = TestApp::new();
    let response = app.anonymous().get("/api/v1/openapi.json").await;
    let document = response.expect(StatusCode::OK);
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        document["openapi"]
    );
    assert_eq!(document["info"]["title"], "Shofar");
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    // The served document is the router's own.
    let (_, openapi) = shofar_web::router(app.state.clone());
    assert_eq!(document, serde_json::to_value(&openapi).unwrap());

    let paths = document["paths"].as_object().unwrap();
    let mut operations = BTreeSet::new();
    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            operations.insert(format!("{} {path}", method.to_uppercase()));
            // OpenAPI requires operationIds unique; generators key operations by them.
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(
                !id.is_empty() && operation_ids.insert(id.to_owned()),
                "{method} {path}: operationId {id:?} missing or not unique"
            );
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("4XX") && responses.contains_key("5XX"),
                "{method} {path} does not document its errors"
            );
            assert!(
                responses
                    .keys()
                    .any(|code| code.starts_with('2') || code == "101"),
                "{method} {path} has no success response"
            );
            assert!(
                operation.get("tags").is_some(),
                "{method} {path} has no tag"
            );
        }
    }
    for route in [
        "GET /healthz",
        "POST /api/v1/session",
        "POST /api/v1/setup",
        "GET /api/v1/campaigns",
        "POST /api/v1/campaigns/{id}/start",
        "POST /api/v1/campaigns/{id}/imports",
        "DELETE /api/v1/blacklist/{number}",
        "GET /api/v1/audio/{folder}/{name}/playback",
        "PUT /api/v1/flows/{id}",
        "GET /api/v1/calls/{call_id}",
        "GET /api/v1/campaigns/{id}/report/export",
        "GET /api/v1/reports/compare",
        "GET /api/v1/live",
        "PUT /api/v1/settings",
        "GET /api/v1/audit",
    ] {
        assert!(operations.contains(route), "{route} is not documented");
    }
    // Every documented operation answers (it is routed): none is a 404 from
    // the fallback or a 405.
    let admin = app.token_for("adam", Role::Admin);
    for operation in &operations {
        let (method, path) = operation.split_once(' ').unwrap();
        let uri = path
            .replace("{id}", "999999")
            .replace("{number}", "0525551234")
            .replace("{folder}", "prompts")
            .replace("{name}", "nothing")
            .replace("{call_id}", "nothing");
        let response = admin
            .send(method.parse::<Method>().unwrap(), &uri, None, Vec::new())
            .await;
        assert!(
            response.status != StatusCode::METHOD_NOT_ALLOWED
                && !(response.status == StatusCode::NOT_FOUND
                    && response.code() == "route_not_found"),
            "{operation}: {} {}",
            response.status,
            response.text()
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_api_s_format() {
    let app = TestApp::new();
    let admin = app.login_as("adam", Role::Admin).await;
    for (method, path) in [
        (Method::GET, "/api/v1/campaign"),
        (Method::GET, "/api/v2/campaigns"),
        (Method::POST, "/api/v1/campaigns/1/restart"),
        (Method::GET, "/api/v1/users/1/sessions"),
    ] {
        for client in [admin.clone(), app.anonymous()] {
            let response = client.send(method.clone(), path, None, Vec::new()).await;
            response.expect_error(StatusCode::NOT_FOUND, "route_not_found");
            assert!(
                response.text().contains("openapi.json"),
                "{}",
                response.text()
            );
        }
    }
    for (method, path) in [
        (Method::PATCH, "/api/v1/campaigns"),
        (Method::DELETE, "/healthz"),
        (Method::PUT, "/api/v1/session"),
        (Method::GET, "/api/v1/campaigns/1/start"),
        (Method::POST, "/api/v1/openapi.json"),
    ] {
        let response = admin.send(method.clone(), path, None, Vec::new()).await;
        response.expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        assert!(
            response.text().contains(method.as_str()),
            "{}",
            response.text()
        );
    }
}

#[tokio::test]
async fn the_live_socket_needs_a_websocket_handshake() {
    let app = TestApp::new();
    let ana = app.login_as("ana", Role::Analyst).await;
    let refused = ana.get("/api/v1/live").await;
    refused.expect_error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(refused.text().contains("WebSocket"), "{}", refused.text());
    app.anonymous()
        .get("/api/v1/live")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

/// Updates are the appliance image's: on a machine without its installer (a
/// server with the Debian package, or this test) admins are told so, and what to
/// do instead; the bundle is not kept. Others may not see or start updates.
/// (The image itself is tested by `make image-test`.)
#[tokio::test]
async fn updates_outside_the_appliance_say_to_upgrade_the_package() {
    let app = TestApp::new();
    let admin = app.login_as("adam", Role::Admin).await;
    let mia = app.login_as("mia", Role::Manager).await;
    let status = admin
        .get("/api/v1/system/update")
        .await
        .expect(StatusCode::OK);
    assert_eq!(status["available"], false);
    assert_eq!(status["last"], Value::Null);

    let refused = admin
        .upload(
            "/api/v1/system/update",
            &[],
            Some(("shofar-0.2.0.raucb", b"not a bundle")),
        )
        .await;
    refused.expect_error(StatusCode::CONFLICT, "conflict");
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("apt install"),
        "{}",
        refused.text()
    );
    assert!(!app.data_dir().join("updates").exists());
    admin
        .post("/api/v1/system/reboot", json!({}))
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");

    mia.get("/api/v1/system/update")
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    mia.upload("/api/v1/system/update", &[], Some(("b.raucb", b"x")))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
}
