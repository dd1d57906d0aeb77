//! A test box: the router with its state, users of every role, and a client that
//! speaks to it like a browser (cookie + CSRF) or a script (bearer token).

#![allow(dead_code)] // Each test module uses part of it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use shofar_dnc::SharedDnc;
use shofar_store::Store;
use shofar_store::accounts::{NewToken, NewUser, Role};
use shofar_telephony::prompts::PromptLibrary;
use shofar_web::auth::{LoginThrottle, SessionPolicy, hash_password, secret_hash};
use shofar_web::jobs::Jobs;
use shofar_web::live::{AlertLimits, Live};
use shofar_web::pool::StorePool;
use shofar_web::{AppState, Shared, WebConfig};
use tower::ServiceExt;

/// The password every test user has.
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    pub fn new() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("shofar.db");
        let pool = StorePool::open(&db, 2).unwrap();
        let config = WebConfig {
            data_dir: dir.path().to_owned(),
            normalizer: shofar_phone::Normalizer::new("IL", &["IL".to_owned()]).unwrap(),
            box_calendar: shofar_campaign::BoxCalendar::default(),
            duplicates: shofar_import::DuplicateRule::KeepFirst,
            invalid_rows_in_summary: 100,
            prompts: PromptLibrary {
                sounds_dir: dir.path().join("sounds"),
                asterisk_dir: dir.path().join("sounds"),
            },
            sessions: SessionPolicy::default(),
            secure_cookies: false,
            zone: chrono_tz::Asia::Jerusalem,
            max_upload_bytes: 20 * 1024 * 1024,
            max_audio_bytes: 5 * 1024 * 1024,
        };
        let state = AppState::new(Shared {
            config,
            pool,
            dnc: SharedDnc::default(),
            throttle: LoginThrottle::default(),
            jobs: Arc::new(Jobs::new(dir.path().join("uploads"))),
            live: Live::new(None, AlertLimits::default()),
            probe: None,
        });
        let (router, _) = shofar_web::router(state.clone());
        TestApp { router, state, dir }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("shofar.db")
    }

    /// A connection of the test's own, for setting up and checking.
    pub fn store(&self) -> Store {
        Store::open(&self.db_path()).unwrap()
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Adds a user with [`PASSWORD`].
    pub fn add_user(&self, name: &str, role: Role) -> i64 {
        self.store()
            .user_insert(
                &NewUser {
                    name: name.to_owned(),
                    password_hash: hash_password(PASSWORD).unwrap(),
                    role,
                    locale: "he".to_owned(),
                },
                "test",
            )
            .unwrap()
            .id
    }

    /// A client that has logged in as a new user of `role` (cookie + CSRF).
    pub async fn login_as(&self, name: &str, role: Role) -> Client {
        self.add_user(name, role);
        self.login(name).await
    }

    /// Logs in as an existing user.
    pub async fn login(&self, name: &str) -> Client {
        let mut client = self.anonymous();
        let response = client
            .post(
                "/api/v1/session",
                serde_json::json!({"name": name, "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "login failed: {}",
            response.text()
        );
        let cookie = response
            .header(header::SET_COOKIE)
            .expect("a session cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        client.cookie = Some(cookie);
        client.csrf = response.json()["csrf_token"].as_str().map(str::to_owned);
        client
    }

    /// A client with an API token of `role`, for a new user of that role.
    pub fn token_for(&self, name: &str, role: Role) -> Client {
        let user = self.add_user(name, role);
        let secret = format!("shofar_test_{name}");
        self.store()
            .token_insert(
                &NewToken {
                    user_id: user,
                    name: "tests".to_owned(),
                    token_hash: secret_hash(&secret),
                    prefix: "shofar_test".to_owned(),
                    role,
                    expires_at: None,
                },
                "test",
            )
            .unwrap();
        Client {
            router: self.router.clone(),
            cookie: None,
            csrf: None,
            bearer: Some(secret),
        }
    }

    pub fn anonymous(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookie: None,
            csrf: None,
            bearer: None,
        }
    }
}

/// Speaks to the router.
#[derive(Clone)]
pub struct Client {
    router: Router,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The error code of an error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.text()))
            .to_owned()
    }
}

impl Client {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        let mut request = Request::builder().method(method.clone()).uri(path);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(csrf) = &self.csrf
            && method != Method::GET
        {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(bearer) = &self.bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {bearer}"));
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Response {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None, Vec::new()).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, None, Vec::new()).await
    }

    pub async fn json(&self, method: Method, path: &str, body: Value) -> Response {
        self.send(
            method,
            path,
            Some("application/json"),
            body.to_string().into_bytes(),
        )
        .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.json(Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.json(Method::PUT, path, body).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.json(Method::PATCH, path, body).await
    }

    /// A multipart form: text fields, and one file as `file`.
    pub async fn upload(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> Response {
        let boundary = "shofar-test-boundary-7f3a";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        if let Some((file_name, bytes)) = file {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.send(
            Method::POST,
            path,
            Some(&format!("multipart/form-data; boundary={boundary}")),
            body,
        )
        .await
    }
}
