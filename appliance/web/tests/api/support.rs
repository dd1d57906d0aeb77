//! A test box: the router with its state, users of every role, and a client that
//! speaks to it like a browser (cookie + CSRF) or a script (bearer token).

#![allow(dead_code)] // Each test module uses part of it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use serde_json::Value;
use shofar_dnc::SharedDnc;
use shofar_phone::E164;
use shofar_store::Store;
use shofar_store::accounts::{NewToken, NewUser, Role};
use shofar_store::calls::{CallEnd, CallKind, CallOutcome, CallProgress, NewCall};
use shofar_store::campaigns::CampaignId;
use shofar_telephony::prompts::PromptLibrary;
use shofar_web::auth::{LoginThrottle, SessionPolicy, hash_password, secret_hash};
use shofar_web::error::ErrorCode;
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
        TestApp::with_config(|_| {})
    }

    /// A box whose web configuration `change` adjusts first (smaller upload
    /// limits, say).
    pub fn with_config(change: impl FnOnce(&mut WebConfig)) -> TestApp {
        TestApp::in_dir(tempfile::tempdir().unwrap(), change)
    }

    /// The box stopped: every connection of its own closed, its data folder
    /// kept (for what `shofar serve` does at its next start). Drop the clients
    /// first: they hold the router.
    pub fn stop(self) -> tempfile::TempDir {
        let TestApp { router, state, dir } = self;
        drop(router);
        drop(state);
        dir
    }

    /// A box over the data folder `dir` (one [`TestApp::stop`] left).
    pub fn in_dir(dir: tempfile::TempDir, change: impl FnOnce(&mut WebConfig)) -> TestApp {
        let db = dir.path().join("shofar.db");
        let pool = StorePool::open(&db, 2).unwrap();
        let mut config = WebConfig {
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
            max_backup_bytes: 50 * 1024 * 1024,
        };
        change(&mut config);
        let state = AppState::new(Shared {
            config,
            pool,
            dnc: SharedDnc::default(),
            throttle: LoginThrottle::default(),
            jobs: Arc::new(Jobs::new(dir.path().join("uploads"))),
            live: Live::new(None, AlertLimits::default(), Default::default()),
            probe: None,
            calls: None,
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
        self.login_with(name, PASSWORD).await
    }

    /// Logs in with a password of the test's choosing.
    pub async fn login_with(&self, name: &str, password: &str) -> Client {
        let mut client = self.anonymous();
        let response = client
            .post(
                "/api/v1/session",
                serde_json::json!({"name": name, "password": password}),
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

    /// Creates a campaign through the API; returns its id.
    pub async fn create_campaign(&self, client: &Client, body: Value) -> i64 {
        let created = client.post("/api/v1/campaigns", body).await;
        created.expect(StatusCode::CREATED)["id"].as_i64().unwrap()
    }

    /// Follows a job until it is no longer running; returns its last state.
    /// Bounded by a number of polls, not by a duration.
    pub async fn wait_for_job(&self, client: &Client, id: u64) -> Value {
        for _ in 0..3000 {
            let job = client
                .get(&format!("/api/v1/jobs/{id}"))
                .await
                .expect(StatusCode::OK);
            if job["status"] != "running" {
                return job;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("job {id} never finished");
    }

    /// Uploads `file` to an import route (contacts or do-not-call) with `fields`,
    /// expects 202 and follows the job to its end.
    pub async fn run_import(
        &self,
        client: &Client,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &[u8]),
    ) -> Value {
        let started = client.upload(path, fields, Some(file)).await;
        let job = started.expect(StatusCode::ACCEPTED);
        assert_eq!(job["status"], "running");
        let id = job["id"].as_u64().unwrap();
        assert_eq!(
            started.header(header::LOCATION),
            Some(format!("/api/v1/jobs/{id}").as_str())
        );
        self.wait_for_job(client, id).await
    }

    /// Imports contacts into a campaign and expects the job to complete; returns
    /// the job.
    pub async fn import_contacts(
        &self,
        client: &Client,
        campaign: i64,
        file_name: &str,
        bytes: &[u8],
    ) -> Value {
        let job = self
            .run_import(
                client,
                &format!("/api/v1/campaigns/{campaign}/imports"),
                &[],
                (file_name, bytes),
            )
            .await;
        assert_eq!(job["status"], "completed", "{job:#}");
        job
    }

    /// Writes a call record through the store, as the dialer would.
    pub fn record_call(&self, call: &Call) {
        let mut store = self.store();
        let new = NewCall {
            call_id: call.id.clone(),
            campaign: call.campaign.map(CampaignId),
            contact_id: None,
            e164: call.number.parse::<E164>().unwrap(),
            attempt: call.attempt,
            kind: CallKind::Campaign,
            dnc_version: Some(1),
            started_at: call.started_at,
        };
        if call.outcome == Some(CallOutcome::Blacklisted) {
            store.call_refused(&new, "on the do-not-call list").unwrap();
            return;
        }
        store.call_started(&new).unwrap();
        if let Some(after) = call.answered_after_seconds {
            store
                .call_answered(&call.id, call.started_at + chrono::Duration::seconds(after))
                .unwrap();
        }
        store
            .call_progress(
                &call.id,
                &CallProgress {
                    dtmf: call.dtmf.clone(),
                    actions: Vec::new(),
                    converted: call.converted,
                    opted_out: call.opted_out,
                    amd_result: None,
                },
            )
            .unwrap();
        if let Some(outcome) = call.outcome {
            let ended = call.started_at + chrono::Duration::seconds(call.seconds);
            store
                .call_finished(
                    &call.id,
                    &CallEnd {
                        outcome: Some(outcome),
                        hangup_code: Some(16),
                        hangup_cause: Some("normal".to_owned()),
                        ended_at: Some(ended),
                        ended_by: Some(shofar_store::calls::EndedBy::Callee),
                        ..CallEnd::default()
                    },
                )
                .unwrap()
                .expect("the call was open");
        }
    }

    /// A client that sends `secret` as its bearer token.
    pub fn bearer(&self, secret: &str) -> Client {
        Client {
            bearer: Some(secret.to_owned()),
            ..self.anonymous()
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

/// A call record to write (see [`TestApp::record_call`]).
#[derive(Debug, Clone)]
pub struct Call {
    pub id: String,
    pub campaign: Option<i64>,
    /// E.164 as printed: `+972525551234`.
    pub number: String,
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
    /// `None`: still up.
    pub outcome: Option<CallOutcome>,
    pub answered_after_seconds: Option<i64>,
    /// From start to end.
    pub seconds: i64,
    pub dtmf: String,
    pub converted: bool,
    pub opted_out: bool,
}

impl Call {
    /// An ended call of `campaign` to `number`, started at `started_at` (RFC 3339).
    pub fn new(
        id: &str,
        campaign: i64,
        number: &str,
        started_at: &str,
        outcome: CallOutcome,
    ) -> Call {
        let answered = matches!(outcome, CallOutcome::Answered | CallOutcome::Voicemail);
        Call {
            id: id.to_owned(),
            campaign: Some(campaign),
            number: number.to_owned(),
            attempt: 1,
            started_at: at(started_at),
            outcome: Some(outcome),
            answered_after_seconds: answered.then_some(8),
            seconds: if answered { 48 } else { 30 },
            dtmf: String::new(),
            converted: false,
            opted_out: false,
        }
    }
}

/// An RFC 3339 instant.
pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// An .xlsx workbook of one sheet: the first row is the header; every cell is
/// text, as people type it.
pub fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *cell).unwrap();
        }
    }
    workbook.save_to_buffer().unwrap()
}

/// The files under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// Percent-encodes text for a query string.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A contact sheet as an office keeps it: Hebrew headers, numbers spelled every
/// local way, one number too short (sheet row 5) and one repeated (row 6 repeats
/// row 2). Four contacts import from it.
pub fn donors_xlsx() -> Vec<u8> {
    xlsx(&[
        &["שם", "טלפון", "עיר"],
        &["דנה כהן", "052-5551234", "תל אביב"],
        &["משה לוי", "03-6123456", "רמת גן"],
        &["רונית אברהם", "+972-54-7654321", "חיפה"],
        &["יוסי מזרחי", "0234", "ירושלים"],
        &["דנה כהן", "0525551234", "תל אביב"],
        &["אבי פרץ", "058-7123456", "באר שבע"],
    ])
}

/// A mono 16-bit WAV of a 440 Hz tone at half scale.
pub fn wav(sample_rate: u32, seconds: f64) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).unwrap();
    let samples = (f64::from(sample_rate) * seconds) as u32;
    for i in 0..samples {
        let t = f64::from(i) / f64::from(sample_rate);
        let value = (t * 440.0 * std::f64::consts::TAU).sin() * f64::from(i16::MAX) * 0.5;
        writer.write_sample(value as i16).unwrap();
    }
    writer.finalize().unwrap();
    out.into_inner()
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

    /// Asserts the status and returns the body as JSON (`null` when it is empty
    /// or not JSON: a download).
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text());
        let json = self
            .header(header::CONTENT_TYPE)
            .is_some_and(|t| t.starts_with("application/json"));
        if json { self.json() } else { Value::Null }
    }

    /// Asserts an error answer: its status, its `code`, and that both (and its
    /// `type`) are the error table's row for that code.
    #[track_caller]
    pub fn expect_error(&self, status: StatusCode, code: &str) {
        assert_eq!(
            (self.status, self.code().as_str()),
            (status, code),
            "unexpected answer: {}",
            self.text()
        );
        let (_, table_status, kind) = ErrorCode::TABLE
            .iter()
            .find(|(listed, _, _)| serde_json::to_value(listed).unwrap() == code)
            .unwrap_or_else(|| panic!("{code} is not in the error table"));
        assert_eq!(
            status.as_u16(),
            *table_status,
            "{code}'s status in the table"
        );
        assert_eq!(self.json()["error"]["type"], *kind, "{code}'s type");
        let message = self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            !message.is_empty(),
            "an error without a message: {}",
            self.text()
        );
    }

    /// The fields a validation failure names, in order.
    pub fn fields(&self) -> Vec<String> {
        self.json()["error"]["fields"]
            .as_array()
            .map(|fields| {
                fields
                    .iter()
                    .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts a 422 `validation_failed` that names exactly `fields`.
    #[track_caller]
    pub fn expect_fields(&self, fields: &[&str]) {
        self.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(self.fields(), fields, "{}", self.text());
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
