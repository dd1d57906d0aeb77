//! IVR flows: checked by the engine itself (every problem with its node and
//! field), saved under unique names, changed, and kept while a campaign uses
//! them.

use axum::http::StatusCode;
use serde_json::{Value, json};
use shofar_store::accounts::Role;

use crate::support::{Client, TestApp, wav};

/// docs/ivr.example.json: donations with a choice of amount.
fn example() -> Value {
    serde_json::from_str(include_str!("../../../../docs/ivr.example.json")).unwrap()
}

/// A small valid flow: a menu whose keys end the call.
fn menu_flow(prompt: &str) -> Value {
    json!({
        "version": 1,
        "name": "סקר קצר",
        "start": "main",
        "nodes": {
            "main": {
                "type": "menu",
                "prompts": [prompt],
                "keys": {"1": "bye", "2": "bye"},
                "timeout": {"seconds": 8, "prompt": "no-input", "retries": 1, "then": "bye"},
                "invalid": {"prompt": "invalid", "retries": 1, "then": "bye"}
            },
            "bye": {"type": "action", "action": {"kind": "end_call"}}
        }
    })
}

/// The same flow with three mistakes in two nodes.
fn broken_flow() -> Value {
    let mut flow = menu_flow("survey-question");
    flow["nodes"]["main"]["keys"]["4"] = json!("nowhere");
    flow["nodes"]["main"]["timeout"]["then"] = json!("byee");
    flow["nodes"]["thanks"] = json!({"type": "play", "prompts": ["thanks"], "next": "main-menu"});
    flow
}

async fn save(client: &Client, name: &str, definition: Value) -> Value {
    client
        .post(
            "/api/v1/flows",
            json!({"name": name, "definition": definition}),
        )
        .await
        .expect(StatusCode::CREATED)
}

#[tokio::test]
async fn validate_returns_the_engines_own_problems_with_node_and_field() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let checked = mia
        .post("/api/v1/flows/validate", broken_flow())
        .await
        .expect(StatusCode::OK);
    assert_eq!(checked["valid"], false);
    assert_eq!(checked["prompts"], json!([]));
    let problems: Vec<(String, String)> = checked["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["node"].as_str().unwrap_or_default().to_owned(),
                p["field"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("main", "keys.4"),
        ("main", "timeout.then"),
        ("thanks", "next"),
    ] {
        assert!(
            problems.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not in {problems:?}"
        );
    }
    let key = checked["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["field"] == "keys.4")
        .unwrap();
    assert_eq!(
        key["message"],
        "node \"main\": key \"4\" leads to \"nowhere\", which is not a node"
    );
    // And as data, for the builder to say in Hebrew or English.
    assert_eq!(key["code"], "target_unknown");
    assert_eq!(key["params"], json!({"key": "4", "target": "nowhere"}));
    // Exactly what a call would fail with: the engine's list, in its order.
    let engine = shofar_ivr::Flow::from_json(&broken_flow().to_string()).unwrap_err();
    let messages: Vec<&str> = checked["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, engine.messages());

    // Mistakes in the shape are the engine's too, on their node.
    let mut unknown_key = menu_flow("menu");
    unknown_key["nodes"]["bye"]["nxet"] = json!("main");
    let checked = mia
        .post("/api/v1/flows/validate", unknown_key)
        .await
        .expect(StatusCode::OK);
    assert_eq!(checked["valid"], false);
    assert_eq!(checked["problems"][0]["node"], "bye");
    assert!(
        checked["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `nxet`")
    );
    let checked = mia
        .post("/api/v1/flows/validate", json!({"version": 2, "name": "x"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(checked["problems"][0]["field"], "version");
    assert_eq!(checked["problems"][0]["code"], "version_unsupported");
    assert_eq!(
        checked["problems"][0]["params"],
        json!({"value": "2", "supported": "1"})
    );
}

/// `prefix.NAME` for each name: a dictionary key.
fn keyed<T: std::fmt::Display>(prefix: &str, names: impl IntoIterator<Item = T>) -> Vec<String> {
    names
        .into_iter()
        .map(|name| format!("{prefix}.{name}"))
        .collect()
}

/// Every problem the engine can report, every reason an import fails, and every
/// word of the call vocabulary is worded in both of the web UI's languages
/// (webui/src/i18n: `flow.problem.CODE`, `import.error.CODE`, `outcome.NAME`,
/// `callStatus.NAME`, `callKind.NAME`, `endedBy.NAME`), so the UI never falls
/// back to the bare code for a known one.
#[test]
fn every_engine_problem_import_failure_and_call_word_is_worded_in_hebrew_and_english() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../webui/src/i18n");
    for language in ["he.ts", "en.ts"] {
        let dictionary = std::fs::read_to_string(root.join(language)).unwrap();
        let keys = [
            keyed("flow.problem", shofar_ivr::CODES),
            keyed("import.error", shofar_import::ImportError::CODES),
            keyed("outcome", shofar_vocab::OutcomeFilter::ALL),
            keyed("callStatus", shofar_vocab::CallStatus::ALL),
            keyed("callKind", shofar_vocab::CallKind::ALL),
            keyed("endedBy", shofar_vocab::EndedBy::ALL),
        ]
        .concat();
        for key in keys {
            assert!(
                dictionary.contains(&format!("'{key}':")),
                "{language} has no wording for {key:?}"
            );
        }
    }
}

#[tokio::test]
async fn validate_lists_the_prompts_and_which_have_no_recording() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let checked = mia
        .post("/api/v1/flows/validate", example())
        .await
        .expect(StatusCode::OK);
    assert_eq!(checked["valid"], true);
    assert_eq!(checked["problems"], json!([]));
    let prompts = checked["prompts"].as_array().unwrap().clone();
    assert!(prompts.contains(&json!("main-menu")) && prompts.contains(&json!("thanks")));
    // `campaign` is each campaign's own message; everything else is missing.
    let missing = checked["missing_prompts"].as_array().unwrap().clone();
    assert!(!missing.contains(&json!("campaign")));
    assert_eq!(missing.len(), prompts.len() - 1);

    mia.upload(
        "/api/v1/audio",
        &[("name", "thanks")],
        Some(("thanks.wav", &wav(8000, 0.5))),
    )
    .await
    .expect(StatusCode::CREATED);
    let missing = mia.post("/api/v1/flows/validate", example()).await.json()["missing_prompts"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!missing.contains(&json!("thanks")));
    assert_eq!(missing.len(), prompts.len() - 2);
    // Nothing is saved by a check.
    assert_eq!(mia.get("/api/v1/flows").await.json(), json!([]));
}

#[tokio::test]
async fn flows_are_saved_listed_shown_changed_and_deleted() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let saved = save(&mia, "donations", example()).await;
    let id = saved["id"].as_i64().unwrap();
    assert_eq!(saved["name"], "donations");
    assert_eq!(saved["definition"]["start"], "main");
    assert_eq!(
        saved["definition"]["nodes"]["agent"]["action"]["to"],
        "03-6123456"
    );
    // What is stored reads back as the same flow.
    assert_eq!(
        shofar_ivr::Flow::from_json(&saved["definition"].to_string()).unwrap(),
        shofar_ivr::Flow::from_json(&example().to_string()).unwrap()
    );
    let survey = save(&mia, "סקר", menu_flow("survey-question")).await;
    let list = mia.get("/api/v1/flows").await.expect(StatusCode::OK);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["donations", "סקר"]);
    assert_eq!(
        mia.get(&format!("/api/v1/flows/{id}"))
            .await
            .expect(StatusCode::OK),
        saved
    );

    let changed = mia
        .put(
            &format!("/api/v1/flows/{id}"),
            json!({"name": "donations-2027", "definition": menu_flow("donate-menu")}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(changed["name"], "donations-2027");
    assert_eq!(
        changed["definition"]["nodes"]["main"]["prompts"],
        json!(["donate-menu"])
    );
    assert_eq!(changed["created_at"], saved["created_at"]);
    mia.put(
        &format!("/api/v1/flows/{id}"),
        json!({"name": "סקר", "definition": example()}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "already_exists");
    mia.put(
        &format!("/api/v1/flows/{id}"),
        json!({"name": "donations-2027", "definition": broken_flow()}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(
        mia.get(&format!("/api/v1/flows/{id}")).await.json(),
        changed
    );

    mia.delete(&format!("/api/v1/flows/{}", survey["id"]))
        .await
        .expect(StatusCode::NO_CONTENT);
    mia.get(&format!("/api/v1/flows/{}", survey["id"]))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    for response in [
        mia.get("/api/v1/flows/999").await,
        mia.delete("/api/v1/flows/999").await,
        mia.put(
            "/api/v1/flows/999",
            json!({"name": "x", "definition": example()}),
        )
        .await,
    ] {
        response.expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    mia.get("/api/v1/flows/donations")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn a_flow_is_saved_only_when_valid_and_its_name_unique() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let refused = mia
        .post(
            "/api/v1/flows",
            json!({"name": "survey", "definition": broken_flow()}),
        )
        .await;
    let fields = refused.fields();
    for expected in [
        "definition.nodes.main.keys.4",
        "definition.nodes.main.timeout.then",
        "definition.nodes.thanks.next",
    ] {
        assert!(
            fields.contains(&expected.to_owned()),
            "{expected} not in {fields:?}"
        );
    }
    refused.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    for name in ["", "  ", "a/b", "flow.json", &"ש".repeat(101)] {
        mia.post(
            "/api/v1/flows",
            json!({"name": name, "definition": example()}),
        )
        .await
        .expect_fields(&["name"]);
    }
    for body in [
        json!({"name": "survey"}),
        json!({"name": "survey", "definition": example(), "enabled": true}),
    ] {
        mia.post("/api/v1/flows", body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    assert_eq!(mia.get("/api/v1/flows").await.json(), json!([]));
    save(&mia, "survey", example()).await;
    mia.post(
        "/api/v1/flows",
        json!({"name": "survey", "definition": menu_flow("menu")}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "already_exists");
}

#[tokio::test]
async fn a_flow_a_campaign_uses_is_kept() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let flow = save(&mia, "donations", example()).await;
    let id = flow["id"].as_i64().unwrap();
    let campaign = app
        .create_campaign(
            &mia,
            json!({"name": "תרומות חורף 2027", "ivr_flow": "donations"}),
        )
        .await;
    assert_eq!(
        mia.get(&format!("/api/v1/campaigns/{campaign}"))
            .await
            .json()["campaign"]["settings"]["ivr_flow"],
        "donations"
    );
    let refused = mia.delete(&format!("/api/v1/flows/{id}")).await;
    refused.expect_error(StatusCode::CONFLICT, "conflict");
    assert!(
        refused.text().contains("תרומות חורף 2027"),
        "{}",
        refused.text()
    );
    // Nor renamed from under it; a new definition under the same name is fine.
    mia.put(
        &format!("/api/v1/flows/{id}"),
        json!({"name": "donations-old", "definition": example()}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict");
    mia.put(
        &format!("/api/v1/flows/{id}"),
        json!({"name": "donations", "definition": menu_flow("menu")}),
    )
    .await
    .expect(StatusCode::OK);
    mia.get(&format!("/api/v1/flows/{id}"))
        .await
        .expect(StatusCode::OK);

    // Once the campaign is over, the flow may go.
    mia.post(&format!("/api/v1/campaigns/{campaign}/cancel"), json!({}))
        .await
        .expect(StatusCode::OK);
    mia.delete(&format!("/api/v1/flows/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
}
