//! Who is calling, and may they: passwords, sessions, API tokens, CSRF, roles and
//! login throttling.
//!
//! Every route that needs a user takes a [`Caller<R>`] as its first argument; the
//! extractor authenticates (a session cookie, or `Authorization: Bearer` with an
//! API token), checks the CSRF header on every state-changing request made with a
//! cookie, and checks the role `R` — so authorization is visible in each handler's
//! signature and cannot be forgotten in its body. Unauthenticated is 401, a role
//! that may not is 403, before any other part of the request is looked at.
//!
//! Secrets (session cookies, API tokens, the setup secret) are random and stored
//! only as their SHA-256; passwords only as argon2id hashes.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use parking_lot::Mutex;
use rand::RngCore;
use sha2::{Digest, Sha256};
use shofar_store::accounts::{Role, Session, Token, User};

use crate::error::{ApiError, ErrorCode, FieldProblem};
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "shofar_session";
/// The header that carries the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// What API tokens start with, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "shofar_";

/// `n` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    hex(&buffer)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the store keeps of a secret.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Compares without returning early, so the time taken says nothing of where two
/// secrets differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// An argon2id hash (PHC string) of a password, with a fresh salt. Slow on
/// purpose: call it on the blocking pool.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| ApiError::internal(format!("cannot make a salt: {error}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| ApiError::internal(format!("cannot hash the password: {error}")))
}

/// [`hash_password`] on the blocking pool, for handlers.
pub async fn hash_password_off_runtime(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|error| ApiError::internal(format!("password hashing failed: {error}")))?
}

/// Whether `password` matches the stored hash. Slow on purpose.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash verified when the user does not exist, so that a wrong name takes as
/// long as a wrong password. Made once, of a random password nobody knows.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_hex(16)).unwrap_or_default())
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_CHARS: usize = 256;

/// What a new password must be: long enough, not the user's name, not one
/// character repeated.
pub fn password_problems(user_name: &str, password: &str, field: &str) -> Vec<FieldProblem> {
    let chars = password.chars().count();
    let mut problems = Vec::new();
    let mut problem = |message: String| {
        problems.push(FieldProblem {
            field: field.to_owned(),
            message,
        })
    };
    if chars < MIN_PASSWORD_CHARS {
        problem(format!(
            "at least {MIN_PASSWORD_CHARS} characters (a few words make a good one)"
        ));
    } else if chars > MAX_PASSWORD_CHARS {
        problem(format!("at most {MAX_PASSWORD_CHARS} characters"));
    } else if password.trim().to_lowercase() == user_name.trim().to_lowercase() {
        problem("must not be the user name".to_owned());
    } else if password.chars().all(|c| password.starts_with(c)) {
        problem("must not be one character repeated".to_owned());
    }
    problems
}

/// A user name: what people type to log in.
pub fn name_problems(name: &str) -> Vec<FieldProblem> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name.trim() == name
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Vec::new()
    } else {
        vec![FieldProblem {
            field: "name".to_owned(),
            message: "1 to 64 letters, digits, '.', '-', '_' or '@', no spaces".to_owned(),
        }]
    }
}

/// Role markers for [`Caller`]: the least role a route needs.
pub trait Need: Send + Sync + 'static {
    const ROLE: Role;
    /// For messages: what this role may do.
    const DOES: &'static str;
}

/// Any logged-in user (analysts read dashboards, records and reports).
pub struct Analyst;
/// Runs campaigns, contacts, the do-not-call list, audio and flows.
pub struct Manager;
/// Manages users and the box's settings.
pub struct Admin;

impl Need for Analyst {
    const ROLE: Role = Role::Analyst;
    const DOES: &'static str = "reading";
}
impl Need for Manager {
    const ROLE: Role = Role::Manager;
    const DOES: &'static str = "running campaigns, contacts and the do-not-call list";
}
impl Need for Admin {
    const ROLE: Role = Role::Admin;
    const DOES: &'static str = "managing users and the box's settings";
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    Session(Session),
    Token(Token),
}

/// An authenticated caller whose role allows at least `R`.
#[derive(Debug, Clone)]
pub struct Caller<R = Analyst> {
    pub user: User,
    /// What this request may do: the user's role, or the token's (never more).
    pub role: Role,
    pub credential: Credential,
    need: PhantomData<fn() -> R>,
}

impl<R> Caller<R> {
    /// Who acted, for the audit log: `web:dana`, or `api:dana/nightly-export`.
    pub fn actor(&self) -> String {
        match &self.credential {
            Credential::Session(_) => format!("web:{}", self.user.name),
            Credential::Token(token) => format!("api:{}/{}", self.user.name, token.name),
        }
    }

    pub fn session(&self) -> Option<&Session> {
        match &self.credential {
            Credential::Session(session) => Some(session),
            Credential::Token(_) => None,
        }
    }
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, message)
}

/// Authenticates a request without checking a role.
pub async fn identify(parts: &Parts, state: &AppState) -> Result<Caller<Analyst>, ApiError> {
    let now = Utc::now();
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                unauthenticated("send the API token as Authorization: Bearer shofar_…")
            })?;
        let hash = secret_hash(token);
        let found = state
            .pool
            .run(move |store| Ok(store.token_lookup(&hash, now)?))
            .await?;
        let (token, user) = found.ok_or_else(|| {
            unauthenticated(
                "the API token is unknown, revoked or expired, or its user is disabled; \
                 make a new one (POST /api/v1/tokens)",
            )
        })?;
        return Ok(Caller {
            role: token.role.min(user.role),
            user,
            credential: Credential::Token(token),
            need: PhantomData,
        });
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let cookie = jar.get(SESSION_COOKIE).ok_or_else(|| {
        unauthenticated("log in first (POST /api/v1/session), or send an API token")
    })?;
    let hash = secret_hash(cookie.value());
    let policy = state.config.sessions;
    let found = state
        .pool
        .run(move |store| {
            let Some((session, user)) = store.session_lookup(&hash, now)? else {
                return Ok(None);
            };
            // Touch at most once a minute: a write per request would contend with
            // the dialer for nothing.
            if now - session.last_seen_at > chrono::Duration::minutes(1) {
                let expires = (now + policy.idle).min(session.created_at + policy.absolute);
                store.session_touch(session.id, now, expires)?;
            }
            Ok(Some((session, user)))
        })
        .await?;
    let (session, user) = found.ok_or_else(|| {
        unauthenticated(
            "your session has ended (logged out, idle too long, or the password changed); \
             log in again",
        )
    })?;
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !same_secret(sent, &session.csrf_token) {
            return Err(ApiError::new(
                ErrorCode::CsrfFailed,
                "send the session's csrf_token (from the login answer or GET /api/v1/session) \
                 in the X-CSRF-Token header",
            ));
        }
    }
    Ok(Caller {
        role: user.role,
        user,
        credential: Credential::Session(session),
        need: PhantomData,
    })
}

impl<R: Need> FromRequestParts<AppState> for Caller<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = identify(parts, state).await?;
        if !caller.role.allows(R::ROLE) {
            return Err(ApiError::forbidden(format!(
                "{} may not do this: it needs the {} role ({}); ask an admin",
                match &caller.credential {
                    Credential::Token(_) => format!("this token ({})", caller.role),
                    Credential::Session(_) => format!("your role ({})", caller.role),
                },
                R::ROLE,
                R::DOES
            )));
        }
        Ok(Caller {
            user: caller.user,
            role: caller.role,
            credential: caller.credential,
            need: PhantomData,
        })
    }
}

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Ended after this long unused.
    pub idle: chrono::Duration,
    /// Ended this long after login, used or not.
    pub absolute: chrono::Duration,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy {
            idle: chrono::Duration::hours(12),
            absolute: chrono::Duration::days(7),
        }
    }
}

/// Failed logins, counted per user name and per address over a sliding window;
/// past the limit, logins are refused (even with the right password) until the
/// oldest counted failure leaves the window.
#[derive(Debug)]
pub struct LoginThrottle {
    pub window: Duration,
    pub per_user: usize,
    pub per_address: usize,
    /// Failure times per key. A `std`-style mutex: held for a few map operations,
    /// never across an `.await`.
    failures: Mutex<HashMap<ThrottleKey, Vec<Instant>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ThrottleKey {
    User(String),
    Address(IpAddr),
}

impl Default for LoginThrottle {
    fn default() -> LoginThrottle {
        LoginThrottle::new(Duration::from_secs(15 * 60), 5, 20)
    }
}

impl LoginThrottle {
    pub fn new(window: Duration, per_user: usize, per_address: usize) -> LoginThrottle {
        LoginThrottle {
            window,
            per_user,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(user: &str, address: Option<IpAddr>) -> Vec<(ThrottleKey, bool)> {
        let mut keys = vec![(ThrottleKey::User(user.trim().to_lowercase()), true)];
        if let Some(address) = address {
            keys.push((ThrottleKey::Address(address), false));
        }
        keys
    }

    /// `Err(seconds)` when a login for `user` from `address` must wait.
    pub fn check(&self, user: &str, address: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let mut failures = self.failures.lock();
        let mut wait = Duration::ZERO;
        for (key, is_user) in Self::keys(user, address) {
            let limit = if is_user {
                self.per_user
            } else {
                self.per_address
            };
            if let Some(times) = failures.get_mut(&key) {
                times.retain(|at| now.duration_since(*at) < self.window);
                if times.len() >= limit {
                    let oldest = times[times.len() - limit];
                    wait = wait.max(self.window.saturating_sub(now.duration_since(oldest)));
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(wait.as_secs().max(1))
        }
    }

    pub fn failed(&self, user: &str, address: Option<IpAddr>, now: Instant) {
        let mut failures = self.failures.lock();
        // Bounded: a flood of made-up names cannot grow the map without end.
        if failures.len() > 10_000 {
            let window = self.window;
            failures.retain(|_, times| {
                times.retain(|at| now.duration_since(*at) < window);
                !times.is_empty()
            });
        }
        for (key, _) in Self::keys(user, address) {
            failures.entry(key).or_default().push(now);
        }
    }

    /// A successful login clears the user's failures (not the address's).
    pub fn succeeded(&self, user: &str) {
        self.failures
            .lock()
            .remove(&ThrottleKey::User(user.trim().to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_hash_verifies_only_its_password() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterY"));
        assert!(!verify_password(dummy_hash(), "anything at all"));
        assert!(dummy_hash().starts_with("$argon2id$"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        let check = |name: &str, password: &str| password_problems(name, password, "password");
        assert_eq!(check("dana", "short").len(), 1);
        assert_eq!(check("dana.cohen1", "Dana.Cohen1").len(), 1);
        assert_eq!(check("dana", "aaaaaaaaaaaa").len(), 1);
        assert!(check("dana", "שלום עולם ומלואו").is_empty());
        assert!(check("dana", "correct horse").is_empty());
    }

    #[test]
    fn the_throttle_locks_a_user_after_five_failures_and_releases_after_the_window() {
        let throttle = LoginThrottle::new(Duration::from_secs(900), 5, 20);
        let start = Instant::now();
        let address: Option<IpAddr> = Some("192.168.1.20".parse().unwrap());
        for i in 0..5 {
            assert!(
                throttle.check("dana", address, start).is_ok(),
                "attempt {i}"
            );
            throttle.failed("dana", address, start + Duration::from_secs(i));
        }
        let wait = throttle
            .check("Dana", address, start + Duration::from_secs(10))
            .unwrap_err();
        assert!(wait > 800 && wait <= 900, "{wait}");
        // Another user from the same address is not locked yet.
        assert!(throttle.check("yossi", address, start).is_ok());
        // The window passes.
        assert!(
            throttle
                .check("dana", address, start + Duration::from_secs(905))
                .is_ok()
        );
    }

    #[test]
    fn the_throttle_locks_an_address_that_tries_many_names() {
        let throttle = LoginThrottle::new(Duration::from_secs(900), 5, 20);
        let now = Instant::now();
        let address: Option<IpAddr> = Some("10.0.0.7".parse().unwrap());
        for i in 0..20 {
            throttle.failed(&format!("user{i}"), address, now);
        }
        assert!(throttle.check("someone-new", address, now).is_err());
        assert!(throttle.check("someone-new", None, now).is_ok());
    }

    #[test]
    fn secrets_compare_only_equal_when_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert_eq!(random_hex(20).len(), 40);
        assert_ne!(random_hex(20), random_hex(20));
    }
}
