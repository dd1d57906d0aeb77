//! Users (admins manage them) and API tokens (everyone, for themselves).

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use shofar_store::accounts::Role;

use crate::support::{Client, PASSWORD, TestApp};

fn user_id(app: &TestApp, name: &str) -> i64 {
    app.store().user_credentials(name).unwrap().unwrap().0.id
}

#[tokio::test]
async fn an_admin_adds_shows_changes_and_removes_users() {
    let app = TestApp::new();
    let admin = app.login_as("adam", Role::Admin).await;
    let created = admin
        .post(
            "/api/v1/users",
            json!({"name": "rivka.levi", "password": "שלום עולם ומלואו", "role": "manager", "locale": "en"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["name"], "rivka.levi");
    assert_eq!(created["role"], "manager");
    assert_eq!(created["locale"], "en");
    assert_eq!(created["created_by"], "web:adam");
    assert_eq!(created["disabled"], false);
    assert_eq!(created["last_login_at"], Value::Null);
    // Never a hash, in any shape.
    assert!(!created.to_string().contains("argon2"));

    let list = admin.get("/api/v1/users").await.expect(StatusCode::OK);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["adam", "rivka.levi"]);
    assert_eq!(
        admin
            .get(&format!("/api/v1/users/{id}"))
            .await
            .expect(StatusCode::OK),
        created
    );
    // The new user logs in with the password the admin gave (Hebrew words work).
    app.login_with("rivka.levi", "שלום עולם ומלואו").await;

    let changed = admin
        .patch(
            &format!("/api/v1/users/{id}"),
            json!({"role": "analyst", "locale": "he"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (&changed["role"], &changed["locale"]),
        (&json!("analyst"), &json!("he"))
    );

    admin
        .delete(&format!("/api/v1/users/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    admin
        .get(&format!("/api/v1/users/{id}"))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.anonymous()
        .post(
            "/api/v1/session",
            json!({"name": "rivka.levi", "password": "שלום עולם ומלואו"}),
        )
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn new_users_are_validated() {
    let app = TestApp::new();
    let admin = app.login_as("adam", Role::Admin).await;
    let add = |body: Value| {
        let admin = admin.clone();
        async move { admin.post("/api/v1/users", body).await }
    };
    add(json!({"name": "dana cohen", "password": PASSWORD, "role": "analyst"}))
        .await
        .expect_fields(&["name"]);
    add(json!({"name": "dana", "password": "dana", "role": "analyst"}))
        .await
        .expect_fields(&["password"]);
    add(json!({"name": "", "password": "short", "role": "analyst"}))
        .await
        .expect_fields(&["name", "password"]);
    add(json!({"name": "dana", "password": PASSWORD, "role": "analyst", "locale": "ru"}))
        .await
        .expect_fields(&["locale"]);
    for body in [
        json!({"name": "dana", "password": PASSWORD, "role": "owner"}),
        json!({"name": "dana", "password": PASSWORD}),
        json!({"name": "dana", "password": PASSWORD, "role": "analyst", "admin": true}),
    ] {
        add(body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    add(json!({"name": "adam", "password": PASSWORD, "role": "analyst"}))
        .await
        .expect_error(StatusCode::CONFLICT, "already_exists");
    // Nothing above was created.
    assert_eq!(
        admin
            .get("/api/v1/users")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn unknown_users_are_404_and_bad_ids_400() {
    let app = TestApp::new();
    let admin = app.login_as("adam", Role::Admin).await;
    admin
        .get("/api/v1/users/999")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    admin
        .patch("/api/v1/users/999", json!({"locale": "en"}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    admin
        .delete("/api/v1/users/999")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    admin
        .put(
            "/api/v1/users/999/password",
            json!({"password": "a fine new password"}),
        )
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    for path in ["/api/v1/users/dana", "/api/v1/users/1.5"] {
        admin
            .get(path)
            .await
            .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    }
}

#[tokio::test]
async fn an_admin_cannot_remove_themselves() {
    let app = TestApp::new();
    let admin = app.login_as("adam", Role::Admin).await;
    app.add_user("eve", Role::Admin);
    let me = user_id(&app, "adam");
    let refused = admin.delete(&format!("/api/v1/users/{me}")).await;
    refused.expect_error(StatusCode::CONFLICT, "conflict");
    assert!(refused.text().contains("yourself"));
    admin.get("/api/v1/session").await.expect(StatusCode::OK);
}

#[tokio::test]
async fn the_last_admin_can_be_neither_demoted_nor_disabled_nor_removed() {
    let app = TestApp::new();
    let admin = app.login_as("adam", Role::Admin).await;
    let me = user_id(&app, "adam");
    for change in [json!({"role": "manager"}), json!({"disabled": true})] {
        let refused = admin.patch(&format!("/api/v1/users/{me}"), change).await;
        refused.expect_error(StatusCode::CONFLICT, "conflict");
        assert!(refused.text().contains("last admin"), "{}", refused.text());
    }
    admin
        .delete(&format!("/api/v1/users/{me}"))
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");

    // With a second admin, the first may step down, and it takes effect at once.
    let eve = app.add_user("eve", Role::Admin);
    let disabled_admin = app.add_user("old", Role::Admin);
    admin
        .patch(
            &format!("/api/v1/users/{disabled_admin}"),
            json!({"disabled": true}),
        )
        .await
        .expect(StatusCode::OK);
    admin
        .patch(&format!("/api/v1/users/{me}"), json!({"role": "manager"}))
        .await
        .expect(StatusCode::OK);
    admin
        .get("/api/v1/users")
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    // Eve is now the last enabled admin (a disabled one does not count).
    let eve_client = app.login("eve").await;
    eve_client
        .patch(&format!("/api/v1/users/{eve}"), json!({"role": "analyst"}))
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
}

/// Disabling a user ends their sessions and revokes their tokens at once.
/// Security probe: enabling them again revived their old API tokens; they stay
/// revoked, and the audit log says who revoked them.
#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_revokes_their_tokens_for_good() {
    let app = TestApp::new();
    let admin = app.login_as("adam", Role::Admin).await;
    let mia = app.login_as("mia", Role::Manager).await;
    let created = mia
        .post("/api/v1/tokens", json!({"name": "nightly export"}))
        .await
        .expect(StatusCode::CREATED);
    let token_id = created["token"]["id"].as_i64().unwrap();
    let script = app.bearer(created["secret"].as_str().unwrap());
    script.get("/api/v1/campaigns").await.expect(StatusCode::OK);

    let id = user_id(&app, "mia");
    let disabled = admin
        .patch(&format!("/api/v1/users/{id}"), json!({"disabled": true}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(disabled["disabled"], true);
    mia.get("/api/v1/campaigns")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    script
        .get("/api/v1/campaigns")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.anonymous()
        .post(
            "/api/v1/session",
            json!({"name": "mia", "password": PASSWORD}),
        )
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");

    // Enabled again, mia logs in again; her old token stays revoked.
    admin
        .patch(&format!("/api/v1/users/{id}"), json!({"disabled": false}))
        .await
        .expect(StatusCode::OK);
    let mia = app.login("mia").await;
    script
        .get("/api/v1/campaigns")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let tokens = mia.get("/api/v1/tokens").await.expect(StatusCode::OK);
    assert_eq!(tokens[0]["id"], token_id);
    assert!(tokens[0]["revoked_at"].is_string(), "{tokens:#}");
    let audit = admin.get("/api/v1/audit").await.expect(StatusCode::OK);
    let revocations: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "token.revoke")
        .collect();
    assert_eq!(revocations.len(), 1, "{audit:#}");
    assert_eq!(revocations[0]["actor"], "web:adam");
    assert_eq!(revocations[0]["subject_id"], token_id.to_string());
    assert_eq!(revocations[0]["details"]["because"], "user.disable");
}

#[tokio::test]
async fn an_admin_sets_a_forgotten_password_and_the_old_sessions_end() {
    let app = TestApp::new();
    let admin = app.login_as("adam", Role::Admin).await;
    let mia = app.login_as("mia", Role::Manager).await;
    let id = user_id(&app, "mia");
    admin
        .put(
            &format!("/api/v1/users/{id}/password"),
            json!({"password": "mia"}),
        )
        .await
        .expect_fields(&["password"]);
    admin
        .put(
            &format!("/api/v1/users/{id}/password"),
            json!({"pass": "x"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // The refused attempts changed nothing.
    mia.get("/api/v1/session").await.expect(StatusCode::OK);

    admin
        .put(
            &format!("/api/v1/users/{id}/password"),
            json!({"password": "temporary password 1"}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
    mia.get("/api/v1/session")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.anonymous()
        .post(
            "/api/v1/session",
            json!({"name": "mia", "password": PASSWORD}),
        )
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    app.login_with("mia", "temporary password 1").await;
    // The admin's own session is untouched.
    admin.get("/api/v1/users").await.expect(StatusCode::OK);
}

async fn make_token(client: &Client, body: Value) -> Value {
    client
        .post("/api/v1/tokens", body)
        .await
        .expect(StatusCode::CREATED)
}

#[tokio::test]
async fn a_token_secret_is_shown_once_and_works_as_a_bearer() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let before = Utc::now();
    let created = make_token(
        &mia,
        json!({"name": "nightly export", "role": "analyst", "expires_in_days": 30}),
    )
    .await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("shofar_") && secret.len() == "shofar_".len() + 40);
    let token = &created["token"];
    assert_eq!(token["prefix"], &secret[.."shofar_".len() + 6]);
    assert_eq!(token["name"], "nightly export");
    assert_eq!(token["role"], "analyst");
    assert_eq!(token["user_name"], "mia");
    assert_eq!(token["revoked_at"], Value::Null);
    let expires: DateTime<Utc> = token["expires_at"].as_str().unwrap().parse().unwrap();
    // Stored to the millisecond.
    let earliest = before + Duration::days(30) - Duration::milliseconds(1);
    assert!(expires >= earliest && expires <= Utc::now() + Duration::days(30));

    // Listed without its secret.
    let listed = mia.get("/api/v1/tokens").await.expect(StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(secret));
    assert_eq!(listed[0]["id"], token["id"]);

    // The bearer does what its role allows, no more, with no CSRF header.
    let script = app.bearer(secret);
    let session = script.get("/api/v1/session").await.expect(StatusCode::OK);
    assert_eq!(session["role"], "analyst");
    assert_eq!(session["user"]["role"], "manager");
    script.get("/api/v1/campaigns").await.expect(StatusCode::OK);
    script
        .post("/api/v1/campaigns", json!({"name": "x"}))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    // A role by default is the maker's.
    let default = make_token(&mia, json!({"name": "imports"})).await;
    assert_eq!(default["token"]["role"], "manager");
    assert_eq!(default["token"]["expires_at"], Value::Null);
    // A made-up bearer is not one.
    app.bearer("shofar_0000")
        .get("/api/v1/session")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn token_requests_are_validated() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    for days in [0, 3651] {
        mia.post(
            "/api/v1/tokens",
            json!({"name": "x", "expires_in_days": days}),
        )
        .await
        .expect_fields(&["expires_in_days"]);
    }
    make_token(&mia, json!({"name": "ten years", "expires_in_days": 3650})).await;
    make_token(&mia, json!({"name": "a day", "expires_in_days": 1})).await;
    mia.post(
        "/api/v1/tokens",
        json!({"name": "x", "expires_in_days": -1}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    for name in ["", "   ", &"n".repeat(101)] {
        mia.post("/api/v1/tokens", json!({"name": name}))
            .await
            .expect_fields(&["name"]);
    }
    mia.post("/api/v1/tokens", json!({"name": "up", "role": "admin"}))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        mia.get("/api/v1/tokens")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn each_user_lists_their_own_tokens_and_an_admin_everybodys() {
    let app = TestApp::new();
    let ana = app.login_as("ana", Role::Analyst).await;
    let mia = app.login_as("mia", Role::Manager).await;
    let admin = app.login_as("adam", Role::Admin).await;
    make_token(&ana, json!({"name": "dashboard"})).await;
    make_token(&mia, json!({"name": "imports"})).await;
    make_token(&mia, json!({"name": "exports"})).await;
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|t| {
                format!(
                    "{}/{}",
                    t["user_name"].as_str().unwrap(),
                    t["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        names(&ana.get("/api/v1/tokens").await.json()),
        ["ana/dashboard"]
    );
    assert_eq!(
        names(&mia.get("/api/v1/tokens").await.json()),
        ["mia/exports", "mia/imports"]
    );
    assert!(names(&admin.get("/api/v1/tokens").await.json()).is_empty());
    assert_eq!(
        names(
            &admin
                .get("/api/v1/tokens?all=true")
                .await
                .expect(StatusCode::OK)
        ),
        ["mia/exports", "mia/imports", "ana/dashboard"]
    );
    ana.get("/api/v1/tokens?all=true")
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    admin
        .get("/api/v1/tokens?all=maybe")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let ana = app.login_as("ana", Role::Analyst).await;
    let admin = app.login_as("adam", Role::Admin).await;
    let created = make_token(&mia, json!({"name": "nightly export"})).await;
    let id = created["token"]["id"].as_i64().unwrap();
    let script = app.bearer(created["secret"].as_str().unwrap());
    script.get("/api/v1/campaigns").await.expect(StatusCode::OK);

    // Someone else's token is not theirs to see.
    ana.delete(&format!("/api/v1/tokens/{id}"))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    script.get("/api/v1/campaigns").await.expect(StatusCode::OK);

    mia.delete(&format!("/api/v1/tokens/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    script
        .get("/api/v1/campaigns")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let listed = mia.get("/api/v1/tokens").await.json();
    assert!(listed[0]["revoked_at"].is_string());

    // An admin may revoke anyone's.
    let other = make_token(&ana, json!({"name": "dashboard"})).await;
    let other_id = other["token"]["id"].as_i64().unwrap();
    admin
        .delete(&format!("/api/v1/tokens/{other_id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    app.bearer(other["secret"].as_str().unwrap())
        .get("/api/v1/session")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");

    mia.delete("/api/v1/tokens/999")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    mia.delete("/api/v1/tokens/first")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn a_demoted_users_tokens_lose_the_role_too() {
    let app = TestApp::new();
    let admin = app.login_as("adam", Role::Admin).await;
    let mia = app.login_as("mia", Role::Manager).await;
    let created = make_token(&mia, json!({"name": "imports"})).await;
    let script = app.bearer(created["secret"].as_str().unwrap());
    script
        .post("/api/v1/campaigns", json!({"name": "קיץ 2027"}))
        .await
        .expect(StatusCode::CREATED);
    let id = user_id(&app, "mia");
    admin
        .patch(&format!("/api/v1/users/{id}"), json!({"role": "analyst"}))
        .await
        .expect(StatusCode::OK);
    script
        .post("/api/v1/campaigns", json!({"name": "חורף 2027"}))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        script.get("/api/v1/session").await.json()["role"],
        "analyst"
    );
}

#[tokio::test]
async fn expired_tokens_and_removed_users_tokens_do_not_work() {
    let app = TestApp::new();
    let admin = app.login_as("adam", Role::Admin).await;
    let mia = app.login_as("mia", Role::Manager).await;
    let id = user_id(&app, "mia");
    app.store()
        .token_insert(
            &shofar_store::accounts::NewToken {
                user_id: id,
                name: "last year's".to_owned(),
                token_hash: shofar_web::auth::secret_hash("shofar_expired"),
                prefix: "shofar_expire".to_owned(),
                role: Role::Manager,
                expires_at: Some(Utc::now() - Duration::days(1)),
            },
            "test",
        )
        .unwrap();
    app.bearer("shofar_expired")
        .get("/api/v1/session")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");

    let created = make_token(&mia, json!({"name": "nightly export"})).await;
    let script = app.bearer(created["secret"].as_str().unwrap());
    script.get("/api/v1/session").await.expect(StatusCode::OK);
    admin
        .delete(&format!("/api/v1/users/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    script
        .get("/api/v1/session")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    mia.get("/api/v1/session")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(admin.get("/api/v1/tokens?all=true").await.json(), json!([]));
}
