//! Logging in and out, the current session, password change, preferences, login
//! throttling, and first-run setup through the one-time link.

use axum::http::{Method, StatusCode, header};
use chrono::{Duration, Utc};
use serde_json::json;
use shofar_store::accounts::Role;
use shofar_web::auth::secret_hash;

use crate::support::{PASSWORD, Response, TestApp};

const SETUP_SECRET: &str = "9c1f4b7e2a0d";

async fn try_login(app: &TestApp, name: &str, password: &str) -> Response {
    app.anonymous()
        .post(
            "/api/v1/session",
            json!({"name": name, "password": password}),
        )
        .await
}

fn setup_body(token: &str, name: &str, password: &str) -> serde_json::Value {
    json!({"token": token, "name": name, "password": password})
}

#[tokio::test]
async fn the_setup_link_creates_the_first_admin_once() {
    let app = TestApp::new();
    let anonymous = app.anonymous();
    assert_eq!(
        anonymous.get("/api/v1/setup").await.expect(StatusCode::OK),
        json!({"needed": true})
    );
    let now = Utc::now();
    app.store()
        .setup_token_create(&secret_hash(SETUP_SECRET), now, now + Duration::hours(24))
        .unwrap();

    // A wrong secret is refused, and so is a weak password (before the secret is
    // spent).
    anonymous
        .post(
            "/api/v1/setup",
            setup_body("0000", "dana", "correct horse battery"),
        )
        .await
        .expect_error(StatusCode::FORBIDDEN, "setup_token_invalid");
    anonymous
        .post("/api/v1/setup", setup_body(SETUP_SECRET, "dana", "short"))
        .await
        .expect_fields(&["password"]);
    anonymous
        .post(
            "/api/v1/setup",
            setup_body(SETUP_SECRET, "dana cohen", "correct horse battery"),
        )
        .await
        .expect_fields(&["name"]);

    let created = anonymous
        .post(
            "/api/v1/setup",
            setup_body(SETUP_SECRET, "dana", "correct horse battery"),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(created["name"], "dana");
    assert_eq!(created["role"], "admin");
    assert_eq!(created["locale"], "he");
    assert_eq!(created["disabled"], false);
    assert_eq!(created["created_by"], "setup");
    assert_eq!(
        anonymous.get("/api/v1/setup").await.expect(StatusCode::OK),
        json!({"needed": false})
    );

    // Once only: the same link, or any other, now says setup is over.
    for token in [SETUP_SECRET, "0000"] {
        anonymous
            .post(
                "/api/v1/setup",
                setup_body(token, "yossi", "another good password"),
            )
            .await
            .expect_error(StatusCode::CONFLICT, "setup_done");
    }
    assert_eq!(app.store().user_count().unwrap(), 1);
    // The admin made through the link can log in and administer.
    let admin = app.login("dana").await;
    admin.get("/api/v1/users").await.expect(StatusCode::OK);
}

#[tokio::test]
async fn an_expired_setup_link_is_refused() {
    let app = TestApp::new();
    let created = Utc::now() - Duration::hours(30);
    app.store()
        .setup_token_create(
            &secret_hash(SETUP_SECRET),
            created,
            created + Duration::hours(24),
        )
        .unwrap();
    app.anonymous()
        .post(
            "/api/v1/setup",
            setup_body(SETUP_SECRET, "dana", "correct horse battery"),
        )
        .await
        .expect_error(StatusCode::FORBIDDEN, "setup_token_invalid");
    assert_eq!(app.store().user_count().unwrap(), 0);
}

#[tokio::test]
async fn login_sets_a_strict_cookie_and_logout_really_ends_the_session() {
    let app = TestApp::new();
    app.add_user("dana", Role::Manager);
    let response = try_login(&app, "dana", PASSWORD).await;
    let body = response.expect(StatusCode::OK);
    let cookie = response.header(header::SET_COOKIE).unwrap().to_owned();
    assert!(cookie.starts_with("shofar_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=604800"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert_eq!(body["user"]["name"], "dana");
    assert_eq!(body["role"], "manager");
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    assert_eq!(csrf.len(), 48);
    assert!(body["expires_at"].is_string());
    assert!(body["user"].get("password_hash").is_none());

    let client = app.login("dana").await;
    let current = client.get("/api/v1/session").await.expect(StatusCode::OK);
    assert_eq!(current["user"]["name"], "dana");
    assert_eq!(current["csrf_token"], client.csrf.clone().unwrap().as_str());
    assert!(current["user"]["last_login_at"].is_string());

    let out = client.delete("/api/v1/session").await;
    out.expect(StatusCode::NO_CONTENT);
    let cleared = out.header(header::SET_COOKIE).unwrap();
    assert!(
        cleared.starts_with("shofar_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    // The cookie the browser may still hold no longer works, for reads or changes.
    client
        .get("/api/v1/session")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    client
        .delete("/api/v1/session")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn cookies_are_secure_under_tls() {
    let app = TestApp::with_config(|config| config.secure_cookies = true);
    app.add_user("dana", Role::Analyst);
    let response = try_login(&app, "dana", PASSWORD).await;
    response.expect(StatusCode::OK);
    assert!(
        response
            .header(header::SET_COOKIE)
            .unwrap()
            .ends_with("; Secure")
    );
}

#[tokio::test]
async fn a_token_has_no_session_to_log_out_of() {
    let app = TestApp::new();
    let script = app.token_for("ana", Role::Analyst);
    let current = script.get("/api/v1/session").await.expect(StatusCode::OK);
    assert_eq!(current["role"], "analyst");
    assert_eq!(current["csrf_token"], serde_json::Value::Null);
    script
        .delete("/api/v1/session")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn wrong_credentials_and_malformed_logins_are_refused() {
    let app = TestApp::new();
    app.add_user("dana", Role::Analyst);
    app.add_user("gone", Role::Analyst);
    let admin = app.login_as("adam", Role::Admin).await;
    let gone = app.store().user_credentials("gone").unwrap().unwrap().0.id;
    admin
        .patch(&format!("/api/v1/users/{gone}"), json!({"disabled": true}))
        .await
        .expect(StatusCode::OK);
    for (name, password) in [
        ("dana", "wrong horse battery"),
        ("nobody", PASSWORD),
        ("gone", PASSWORD),
    ] {
        let refused = try_login(&app, name, password).await;
        refused.expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
        assert!(refused.header(header::SET_COOKIE).is_none());
    }
    let anonymous = app.anonymous();
    anonymous
        .post("/api/v1/session", json!({"name": "dana"}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    anonymous
        .post(
            "/api/v1/session",
            json!({"name": "dana", "password": PASSWORD, "remember": true}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    anonymous
        .send(
            Method::POST,
            "/api/v1/session",
            Some("application/json"),
            b"{\"name\": \"dana\",".to_vec(),
        )
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    anonymous
        .send(
            Method::POST,
            "/api/v1/session",
            Some("text/plain"),
            b"name=dana".to_vec(),
        )
        .await
        .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[tokio::test]
async fn five_failed_logins_lock_the_user_even_with_the_right_password() {
    let app = TestApp::new();
    app.add_user("dana", Role::Analyst);
    app.add_user("yossi", Role::Analyst);
    for _ in 0..5 {
        try_login(&app, "dana", "not my password")
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    // The sixth attempt is refused before the password is looked at, whatever
    // the spelling of the name.
    for name in ["dana", "Dana", " dana "] {
        let locked = try_login(&app, name, PASSWORD).await;
        locked.expect_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
        let retry_after: u64 = locked
            .header(header::RETRY_AFTER)
            .expect("a Retry-After header")
            .parse()
            .unwrap();
        assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
        assert!(locked.header(header::SET_COOKIE).is_none());
    }
    // Another user is not locked out by dana's failures.
    app.login("yossi").await;
}

#[tokio::test]
async fn a_successful_login_clears_earlier_failures() {
    let app = TestApp::new();
    app.add_user("dana", Role::Analyst);
    for _ in 0..4 {
        try_login(&app, "dana", "not my password").await;
    }
    app.login("dana").await;
    for _ in 0..4 {
        try_login(&app, "dana", "not my password")
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    app.login("dana").await;
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_keeps_this_one() {
    let app = TestApp::new();
    app.add_user("dana", Role::Manager);
    let laptop = app.login("dana").await;
    let phone = app.login("dana").await;
    laptop
        .put(
            "/api/v1/session/password",
            json!({"current_password": PASSWORD, "new_password": "a much better passphrase"}),
        )
        .await
        .expect(StatusCode::NO_CONTENT);
    let me = laptop.get("/api/v1/session").await.expect(StatusCode::OK);
    assert!(me["user"]["password_changed_at"].is_string());
    phone
        .get("/api/v1/session")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    try_login(&app, "dana", PASSWORD)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    app.login_with("dana", "a much better passphrase").await;
}

#[tokio::test]
async fn weak_or_unproven_password_changes_are_refused_with_the_field() {
    let app = TestApp::new();
    app.add_user("dana.cohen", Role::Analyst);
    let client = app.login("dana.cohen").await;
    let change = |current: &str, new: &str| {
        let client = client.clone();
        let body = json!({"current_password": current, "new_password": new});
        async move { client.put("/api/v1/session/password", body).await }
    };
    for weak in ["short", "Dana.Cohen", "aaaaaaaaaaaaaa", &"x".repeat(257)] {
        let refused = change(PASSWORD, weak).await;
        refused.expect_fields(&["new_password"]);
    }
    change("not my password", "a much better passphrase")
        .await
        .expect_fields(&["current_password"]);
    client
        .put(
            "/api/v1/session/password",
            json!({"new_password": "a much better passphrase"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // Nothing changed: the old password still logs in, the session still works.
    client.get("/api/v1/session").await.expect(StatusCode::OK);
    app.login("dana.cohen").await;
}

#[tokio::test]
async fn the_ui_language_is_hebrew_or_english() {
    let app = TestApp::new();
    let client = app.login_as("dana", Role::Analyst).await;
    let user = client
        .patch("/api/v1/session", json!({"locale": "en"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(user["locale"], "en");
    assert_eq!(user["name"], "dana");
    assert_eq!(
        client.get("/api/v1/session").await.json()["user"]["locale"],
        "en"
    );
    for bad in ["fr", "HE", ""] {
        client
            .patch("/api/v1/session", json!({"locale": bad}))
            .await
            .expect_fields(&["locale"]);
    }
    client
        .patch("/api/v1/session", json!({"locale": "he", "role": "admin"}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let me = client.get("/api/v1/session").await.json();
    assert_eq!(me["user"]["locale"], "en");
    assert_eq!(me["role"], "analyst");
}
