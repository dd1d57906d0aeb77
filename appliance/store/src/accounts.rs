//! Accounts: users and their roles, browser sessions, API tokens and the one-time
//! setup link.
//!
//! The store keeps only what it is given: password hashes (argon2id PHC strings)
//! and the SHA-256 of session cookies and tokens. Hashing and checking passwords is
//! the web layer's; nothing here ever sees a password or a secret in clear.
//!
//! Invariants: the last enabled admin can be neither removed, disabled nor demoted
//! (the box would have nobody to manage users); disabling a user deletes their
//! sessions and revokes their tokens in the same transaction, so enabling them
//! again brings neither back; every change is audited.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::{Result, Store, StoreError, audit, format_time, parse_time};

/// What a user may do. Each role may do everything the roles below it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read-only: dashboards, call records and reports.
    Analyst,
    /// Runs campaigns: campaigns, contacts, the do-not-call list, audio, flows.
    Manager,
    /// Everything, including users and the box's settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Analyst];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Analyst => "analyst",
        }
    }

    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(text: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| format!("unknown role {text:?}: use admin, manager or analyst"))
    }
}

/// A user as the API shows it (never the hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// `he` or `en`: the language the UI opens in.
    pub locale: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub disabled: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub password_changed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub locale: String,
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub locale: Option<String>,
    pub disabled: Option<bool>,
}

/// A session to open.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub csrf_token: String,
    pub user_id: i64,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// An open session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An API token as listed (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    pub id: i64,
    pub user_id: i64,
    pub user_name: String,
    pub name: String,
    /// The first characters of the secret, to tell tokens apart.
    pub prefix: String,
    /// What the token may do; never more than its user may.
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub user_id: i64,
    pub name: String,
    pub token_hash: String,
    pub prefix: String,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
}

const USER_COLUMNS: &str = "id, name, role, locale, created_at, created_by, disabled_at, \
                            last_login_at, password_changed_at";

fn time_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    Ok(row
        .get::<_, Option<String>>(index)?
        .as_deref()
        .and_then(parse_time))
}

fn role_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Role> {
    let text: String = row.get(index)?;
    text.parse().map_err(|detail: String| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, detail.into())
    })
}

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        role: role_at(row, 2)?,
        locale: row.get(3)?,
        created_at: time_at(row, 4)?.unwrap_or_default(),
        created_by: row.get(5)?,
        disabled: row.get::<_, Option<String>>(6)?.is_some(),
        last_login_at: time_at(row, 7)?,
        password_changed_at: time_at(row, 8)?,
    })
}

const TOKEN_COLUMNS: &str = "t.id, t.user_id, u.name, t.name, t.prefix, t.role, t.created_at, \
                             t.last_used_at, t.expires_at, t.revoked_at";

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<Token> {
    Ok(Token {
        id: row.get(0)?,
        user_id: row.get(1)?,
        user_name: row.get(2)?,
        name: row.get(3)?,
        prefix: row.get(4)?,
        role: role_at(row, 5)?,
        created_at: time_at(row, 6)?.unwrap_or_default(),
        last_used_at: time_at(row, 7)?,
        expires_at: time_at(row, 8)?,
        revoked_at: time_at(row, 9)?,
    })
}

/// Enabled admins other than `except`.
fn other_admins(conn: &rusqlite::Connection, except: i64) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id != ?1",
        [except],
        |row| row.get(0),
    )?)
}

/// Revokes every token of `user` still in force, each audited as a
/// `token.revoke` with `because`; returns their ids.
fn revoke_user_tokens(
    conn: &rusqlite::Connection,
    user: &User,
    because: &str,
    actor: &str,
) -> Result<Vec<i64>> {
    let ids = conn
        .prepare(
            "UPDATE api_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL
             RETURNING id",
        )?
        .query_map(params![user.id, format_time(crate::now())], |row| {
            row.get::<_, i64>(0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for id in &ids {
        audit::record(
            conn,
            actor,
            "token.revoke",
            Some(("token", &id.to_string())),
            &serde_json::json!({ "because": because, "user": user.name }),
        )?;
    }
    Ok(ids)
}

fn insert_user(conn: &rusqlite::Connection, new: &NewUser, actor: &str) -> Result<i64> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE name = ?1)",
        [&new.name],
        |row| row.get(0),
    )?;
    if exists {
        return Err(StoreError::UserExists(new.name.clone()));
    }
    let now = format_time(crate::now());
    conn.execute(
        "INSERT INTO users (name, password_hash, role, locale, created_at, created_by,
                            password_changed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5)",
        params![
            new.name,
            new.password_hash,
            new.role.as_str(),
            new.locale,
            now,
            actor
        ],
    )?;
    let id = conn.last_insert_rowid();
    audit::record(
        conn,
        actor,
        "user.create",
        Some(("user", &new.name)),
        &serde_json::json!({ "role": new.role.as_str() }),
    )?;
    Ok(id)
}

impl Store {
    /// Adds a user; `actor` is who did it, for the audit log.
    pub fn user_insert(&mut self, new: &NewUser, actor: &str) -> Result<User> {
        let tx = self.tx()?;
        let id = insert_user(&tx, new, actor)?;
        tx.commit()?;
        self.user(id)?.ok_or(StoreError::NoSuchUser(id.to_string()))
    }

    pub fn user(&self, id: i64) -> Result<Option<User>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
                [id],
                user_from_row,
            )
            .optional()?)
    }

    /// A user and their password hash, by name: what logging in checks.
    pub fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE name = ?1"),
                [name],
                |row| Ok((user_from_row(row)?, row.get(9)?)),
            )
            .optional()?)
    }

    pub fn user_password_hash(&self, id: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT password_hash FROM users WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .optional()?)
    }

    pub fn users(&self) -> Result<Vec<User>> {
        let mut statement = self
            .conn
            .prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"))?;
        let rows = statement.query_map([], user_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn user_count(&self) -> Result<u64> {
        let count: i64 = self
            .conn
            .query_row("SELECT count(*) FROM users", [], |row| row.get(0))?;
        Ok(count as u64)
    }

    /// Changes a user's role, language or whether they may log in. Disabling ends
    /// their sessions and revokes their tokens. The last enabled admin keeps their
    /// role and access.
    pub fn user_update(&mut self, id: i64, change: &UserChange, actor: &str) -> Result<User> {
        let tx = self.tx()?;
        let before = tx
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
                [id],
                user_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NoSuchUser(id.to_string()))?;
        let demoted = change.role.is_some_and(|role| role != Role::Admin);
        let disabling = change.disabled == Some(true);
        if before.role == Role::Admin
            && !before.disabled
            && (demoted || disabling)
            && other_admins(&tx, id)? == 0
        {
            return Err(StoreError::LastAdmin(before.name));
        }
        if let Some(role) = change.role {
            tx.execute(
                "UPDATE users SET role = ?2 WHERE id = ?1",
                params![id, role.as_str()],
            )?;
            // A token never does more than its user may.
            tx.execute(
                "UPDATE api_tokens SET role = ?2
                 WHERE user_id = ?1 AND (role = 'admin' OR (role = 'manager' AND ?2 = 'analyst'))",
                params![id, role.as_str()],
            )?;
        }
        if let Some(locale) = &change.locale {
            tx.execute(
                "UPDATE users SET locale = ?2 WHERE id = ?1",
                params![id, locale],
            )?;
        }
        let mut tokens_revoked = Vec::new();
        if let Some(disabled) = change.disabled {
            let at = disabled.then(|| format_time(crate::now()));
            tx.execute(
                "UPDATE users SET disabled_at = ?2 WHERE id = ?1",
                params![id, at],
            )?;
            if disabled {
                tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
            }
            // Disabling revokes the user's tokens, so enabling them again never
            // brings one back; enabling revokes any a box disabled them with
            // before that rule (a disabled user cannot have made one since).
            if disabled || before.disabled {
                let because = if disabled {
                    "user.disable"
                } else {
                    "user.enable"
                };
                tokens_revoked = revoke_user_tokens(&tx, &before, because, actor)?;
            }
        }
        audit::record(
            &tx,
            actor,
            "user.update",
            Some(("user", &before.name)),
            &serde_json::json!({
                "role": change.role.map(Role::as_str),
                "locale": change.locale,
                "disabled": change.disabled,
                "tokens_revoked": tokens_revoked,
            }),
        )?;
        tx.commit()?;
        self.user(id)?
            .ok_or_else(|| StoreError::NoSuchUser(id.to_string()))
    }

    /// Sets a new password hash and ends every session of the user but `keep`
    /// (the one that changed it, if any).
    pub fn user_set_password(
        &mut self,
        id: i64,
        password_hash: &str,
        keep: Option<i64>,
        actor: &str,
    ) -> Result<()> {
        let tx = self.tx()?;
        let name: String = tx
            .query_row("SELECT name FROM users WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .optional()?
            .ok_or_else(|| StoreError::NoSuchUser(id.to_string()))?;
        tx.execute(
            "UPDATE users SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
            params![id, password_hash, format_time(crate::now())],
        )?;
        tx.execute(
            "DELETE FROM sessions WHERE user_id = ?1 AND id IS NOT ?2",
            params![id, keep],
        )?;
        audit::record(
            &tx,
            actor,
            "user.password",
            Some(("user", &name)),
            &serde_json::json!({}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a user with their sessions and tokens. Their audit entries stay.
    pub fn user_delete(&mut self, id: i64, actor: &str) -> Result<()> {
        let tx = self.tx()?;
        let user = tx
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
                [id],
                user_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NoSuchUser(id.to_string()))?;
        if user.role == Role::Admin && !user.disabled && other_admins(&tx, id)? == 0 {
            return Err(StoreError::LastAdmin(user.name));
        }
        tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
        audit::record(
            &tx,
            actor,
            "user.delete",
            Some(("user", &user.name)),
            &serde_json::json!({ "role": user.role.as_str() }),
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn user_logged_in(&mut self, id: i64, at: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE users SET last_login_at = ?2 WHERE id = ?1",
            params![id, format_time(at)],
        )?;
        Ok(())
    }

    pub fn session_create(&mut self, new: &NewSession) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO sessions (token_hash, csrf_token, user_id, created_at, last_seen_at,
                                   expires_at, address, user_agent)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
            params![
                new.token_hash,
                new.csrf_token,
                new.user_id,
                format_time(new.now),
                format_time(new.expires_at),
                new.address,
                new.user_agent
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The live session with this cookie hash, and its user, if the session has not
    /// expired at `now` and the user may still log in.
    pub fn session_lookup(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(Session, User)>> {
        let columns: String = USER_COLUMNS
            .split(", ")
            .map(|column| format!("u.{}", column.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let found = self
            .conn
            .prepare_cached(&format!(
                "SELECT s.id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, {columns}
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled_at IS NULL"
            ))?
            .query_row(params![token_hash, format_time(now)], |row| {
                let session = Session {
                    id: row.get(0)?,
                    csrf_token: row.get(1)?,
                    created_at: time_at(row, 2)?.unwrap_or_default(),
                    last_seen_at: time_at(row, 3)?.unwrap_or_default(),
                    expires_at: time_at(row, 4)?.unwrap_or_default(),
                };
                let user = User {
                    id: row.get(5)?,
                    name: row.get(6)?,
                    role: role_at(row, 7)?,
                    locale: row.get(8)?,
                    created_at: time_at(row, 9)?.unwrap_or_default(),
                    created_by: row.get(10)?,
                    disabled: row.get::<_, Option<String>>(11)?.is_some(),
                    last_login_at: time_at(row, 12)?,
                    password_changed_at: time_at(row, 13)?,
                };
                Ok((session, user))
            })
            .optional()?;
        Ok(found)
    }

    /// Marks a session used at `now`, pushing its idle expiry to `expires_at`.
    pub fn session_touch(
        &mut self,
        id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE sessions SET last_seen_at = ?2, expires_at = ?3 WHERE id = ?1")?
            .execute(params![id, format_time(now), format_time(expires_at)])?;
        Ok(())
    }

    /// Whether a session still lets its user in at `now` (not logged out, not
    /// expired, its user not disabled): what a long-lived connection re-checks.
    pub fn session_alive(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
                            WHERE s.id = ?1 AND s.expires_at > ?2 AND u.disabled_at IS NULL)",
            params![id, format_time(now)],
            |row| row.get(0),
        )?)
    }

    /// Whether a token still works at `now` (not revoked or expired, its user not
    /// disabled).
    pub fn token_alive(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM api_tokens t JOIN users u ON u.id = t.user_id
                            WHERE t.id = ?1 AND t.revoked_at IS NULL
                              AND (t.expires_at IS NULL OR t.expires_at > ?2)
                              AND u.disabled_at IS NULL)",
            params![id, format_time(now)],
            |row| row.get(0),
        )?)
    }

    /// Ends a session (logout). Returns whether it existed.
    pub fn session_delete(&mut self, id: i64) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM sessions WHERE id = ?1", [id])?
            > 0)
    }

    /// Forgets sessions that expired before `now`; returns how many.
    pub fn sessions_purge(&mut self, now: DateTime<Utc>) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM sessions WHERE expires_at <= ?1",
            [format_time(now)],
        )?)
    }

    pub fn token_insert(&mut self, new: &NewToken, actor: &str) -> Result<Token> {
        let tx = self.tx()?;
        tx.execute(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, role, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                new.user_id,
                new.name,
                new.token_hash,
                new.prefix,
                new.role.as_str(),
                format_time(crate::now()),
                new.expires_at.map(format_time)
            ],
        )?;
        let id = tx.last_insert_rowid();
        audit::record(
            &tx,
            actor,
            "token.create",
            Some(("token", &id.to_string())),
            &serde_json::json!({ "name": new.name, "role": new.role.as_str(), "user_id": new.user_id }),
        )?;
        tx.commit()?;
        self.token(id)?.ok_or_else(|| StoreError::NoSuchToken(id))
    }

    pub fn token(&self, id: i64) -> Result<Option<Token>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
                     WHERE t.id = ?1"
                ),
                [id],
                token_from_row,
            )
            .optional()?)
    }

    /// Tokens, newest first: one user's, or everybody's.
    pub fn tokens(&self, user_id: Option<i64>) -> Result<Vec<Token>> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE ?1 IS NULL OR t.user_id = ?1 ORDER BY t.id DESC"
        ))?;
        let rows = statement.query_map([user_id], token_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The usable token with this hash and its user: not revoked, not expired, and
    /// its user enabled. Records the use.
    pub fn token_lookup(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(Token, User)>> {
        let found = self
            .conn
            .prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
                 WHERE t.token_hash = ?1 AND t.revoked_at IS NULL
                   AND (t.expires_at IS NULL OR t.expires_at > ?2) AND u.disabled_at IS NULL"
            ))?
            .query_row(params![token_hash, format_time(now)], token_from_row)
            .optional()?;
        let Some(token) = found else {
            return Ok(None);
        };
        // Recording every use would make each API call a write; once a minute is
        // enough to tell a token in use from a forgotten one.
        if token
            .last_used_at
            .is_none_or(|at| now - at > chrono::Duration::minutes(1))
        {
            self.conn
                .prepare_cached("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")?
                .execute(params![token.id, format_time(now)])?;
        }
        let user = self
            .user(token.user_id)?
            .ok_or_else(|| StoreError::NoSuchUser(token.user_id.to_string()))?;
        Ok(Some((token, user)))
    }

    /// Revokes a token. Returns false when it was revoked already.
    pub fn token_revoke(&mut self, id: i64, actor: &str) -> Result<bool> {
        let tx = self.tx()?;
        let changed = tx.execute(
            "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, format_time(crate::now())],
        )?;
        if changed > 0 {
            audit::record(
                &tx,
                actor,
                "token.revoke",
                Some(("token", &id.to_string())),
                &serde_json::json!({}),
            )?;
        }
        tx.commit()?;
        Ok(changed > 0)
    }

    /// Keeps a one-time setup secret's hash, usable until `expires_at`, replacing
    /// any earlier unused one.
    pub fn setup_token_create(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.tx()?;
        tx.execute("DELETE FROM setup_tokens WHERE used_at IS NULL", [])?;
        tx.execute(
            "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES (?1, ?2, ?3)",
            params![token_hash, format_time(now), format_time(expires_at)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Creates the first admin with a setup secret: in one transaction, the secret
    /// must be unused and unexpired and the box must have no user yet.
    pub fn setup_complete(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
        admin: &NewUser,
    ) -> Result<User> {
        let tx = self.tx()?;
        let users: i64 = tx.query_row("SELECT count(*) FROM users", [], |row| row.get(0))?;
        if users > 0 {
            return Err(StoreError::SetupDone);
        }
        let used = tx.execute(
            "UPDATE setup_tokens SET used_at = ?2
             WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
            params![token_hash, format_time(now)],
        )?;
        if used == 0 {
            return Err(StoreError::SetupTokenInvalid);
        }
        let id = insert_user(&tx, admin, "setup")?;
        tx.commit()?;
        self.user(id)?
            .ok_or_else(|| StoreError::NoSuchUser(id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin(name: &str) -> NewUser {
        NewUser {
            name: name.to_owned(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
            role: Role::Admin,
            locale: "he".to_owned(),
        }
    }

    /// An admin token of `user` with the hash `h`, never expiring.
    fn automation_token(store: &mut Store, user: i64) -> Token {
        store
            .token_insert(
                &NewToken {
                    user_id: user,
                    name: "automation".into(),
                    token_hash: "h".into(),
                    prefix: "p".into(),
                    role: Role::Admin,
                    expires_at: None,
                },
                "test",
            )
            .unwrap()
    }

    #[test]
    fn roles_are_ordered_by_what_they_may_do() {
        assert!(Role::Admin.allows(Role::Manager));
        assert!(Role::Manager.allows(Role::Analyst));
        assert!(!Role::Analyst.allows(Role::Manager));
        assert!(!Role::Manager.allows(Role::Admin));
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert!(role.allows(role));
        }
    }

    #[test]
    fn the_last_admin_cannot_be_demoted_disabled_or_removed() {
        let mut store = Store::open_in_memory().unwrap();
        let first = store.user_insert(&admin("dana"), "test").unwrap();
        let demote = UserChange {
            role: Some(Role::Manager),
            ..UserChange::default()
        };
        assert!(matches!(
            store.user_update(first.id, &demote, "test"),
            Err(StoreError::LastAdmin(_))
        ));
        let disable = UserChange {
            disabled: Some(true),
            ..UserChange::default()
        };
        assert!(matches!(
            store.user_update(first.id, &disable, "test"),
            Err(StoreError::LastAdmin(_))
        ));
        assert!(matches!(
            store.user_delete(first.id, "test"),
            Err(StoreError::LastAdmin(_))
        ));
        // With a second admin, the first may go.
        store.user_insert(&admin("yossi"), "test").unwrap();
        store.user_update(first.id, &demote, "test").unwrap();
        assert_eq!(store.user(first.id).unwrap().unwrap().role, Role::Manager);
    }

    #[test]
    fn a_session_ends_on_logout_expiry_password_change_and_disabling() {
        let mut store = Store::open_in_memory().unwrap();
        let user = store.user_insert(&admin("dana"), "test").unwrap();
        store.user_insert(&admin("yossi"), "test").unwrap();
        let now = crate::now();
        let open = |store: &mut Store, hash: &str| {
            store
                .session_create(&NewSession {
                    token_hash: hash.to_owned(),
                    csrf_token: "csrf".to_owned(),
                    user_id: user.id,
                    now,
                    expires_at: now + chrono::Duration::hours(1),
                    address: None,
                    user_agent: None,
                })
                .unwrap()
        };
        let a = open(&mut store, "a");
        assert!(store.session_lookup("a", now).unwrap().is_some());
        // Expired.
        assert!(
            store
                .session_lookup("a", now + chrono::Duration::hours(2))
                .unwrap()
                .is_none()
        );
        // Logout.
        assert!(store.session_delete(a).unwrap());
        assert!(store.session_lookup("a", now).unwrap().is_none());
        // A password change keeps only the session that made it.
        let b = open(&mut store, "b");
        open(&mut store, "c");
        store
            .user_set_password(user.id, "new", Some(b), "test")
            .unwrap();
        assert!(store.session_lookup("b", now).unwrap().is_some());
        assert!(store.session_lookup("c", now).unwrap().is_none());
        // Disabling ends them all.
        let disable = UserChange {
            disabled: Some(true),
            ..UserChange::default()
        };
        store.user_update(user.id, &disable, "test").unwrap();
        assert!(store.session_lookup("b", now).unwrap().is_none());
    }

    #[test]
    fn tokens_stop_working_when_revoked_expired_or_their_user_is_disabled() {
        let mut store = Store::open_in_memory().unwrap();
        let user = store.user_insert(&admin("dana"), "test").unwrap();
        store.user_insert(&admin("yossi"), "test").unwrap();
        let now = crate::now();
        let token = store
            .token_insert(
                &NewToken {
                    user_id: user.id,
                    name: "reports".into(),
                    token_hash: "h1".into(),
                    prefix: "shofar_ab".into(),
                    role: Role::Analyst,
                    expires_at: Some(now + chrono::Duration::days(1)),
                },
                "test",
            )
            .unwrap();
        let (found, owner) = store.token_lookup("h1", now).unwrap().unwrap();
        assert_eq!((found.role, owner.id), (Role::Analyst, user.id));
        assert!(
            store
                .token_lookup("h1", now + chrono::Duration::days(2))
                .unwrap()
                .is_none()
        );
        assert!(store.token_revoke(token.id, "test").unwrap());
        assert!(!store.token_revoke(token.id, "test").unwrap());
        assert!(store.token_lookup("h1", now).unwrap().is_none());
    }

    /// Security probe: re-enabling a disabled user revived their old tokens.
    /// Disabling revokes them (audited), and enabling brings none back.
    #[test]
    fn disabling_a_user_revokes_their_tokens_for_good() {
        let mut store = Store::open_in_memory().unwrap();
        store.user_insert(&admin("dana"), "test").unwrap();
        let user = store.user_insert(&admin("yossi"), "test").unwrap();
        let token = automation_token(&mut store, user.id);
        let now = crate::now();
        assert!(store.token_lookup("h", now).unwrap().is_some());
        for disabled in [true, false] {
            let change = UserChange {
                disabled: Some(disabled),
                ..UserChange::default()
            };
            store.user_update(user.id, &change, "web:dana").unwrap();
            assert!(store.token_lookup("h", now).unwrap().is_none());
            assert!(!store.token_alive(token.id, now).unwrap());
        }
        assert!(store.token(token.id).unwrap().unwrap().revoked_at.is_some());
        let revocations: Vec<_> = store
            .audit_log(100)
            .unwrap()
            .into_iter()
            .filter(|entry| entry.action == "token.revoke")
            .collect();
        assert_eq!(revocations.len(), 1, "{revocations:?}");
        assert_eq!(revocations[0].actor, "web:dana");
        assert_eq!(revocations[0].subject_id, Some(token.id.to_string()));
        assert_eq!(revocations[0].details["because"], "user.disable");

        // A box that disabled a user before this rule left their tokens in
        // force: enabling the user revokes them.
        let disable = UserChange {
            disabled: Some(true),
            ..UserChange::default()
        };
        store.user_update(user.id, &disable, "test").unwrap();
        store
            .conn
            .execute("UPDATE api_tokens SET revoked_at = NULL", [])
            .unwrap();
        let enable = UserChange {
            disabled: Some(false),
            ..UserChange::default()
        };
        store.user_update(user.id, &enable, "test").unwrap();
        assert!(store.token_lookup("h", now).unwrap().is_none());
        assert_eq!(
            store.audit_log(1).unwrap()[0].details["tokens_revoked"],
            serde_json::json!([token.id])
        );
    }

    #[test]
    fn demoting_a_user_demotes_their_tokens() {
        let mut store = Store::open_in_memory().unwrap();
        store.user_insert(&admin("dana"), "test").unwrap();
        let user = store.user_insert(&admin("yossi"), "test").unwrap();
        automation_token(&mut store, user.id);
        let change = UserChange {
            role: Some(Role::Analyst),
            ..UserChange::default()
        };
        store.user_update(user.id, &change, "test").unwrap();
        let (token, _) = store.token_lookup("h", crate::now()).unwrap().unwrap();
        assert_eq!(token.role, Role::Analyst);
    }

    #[test]
    fn setup_works_once_with_a_valid_secret() {
        let mut store = Store::open_in_memory().unwrap();
        let now = crate::now();
        store
            .setup_token_create("s", now, now + chrono::Duration::hours(1))
            .unwrap();
        assert!(matches!(
            store.setup_complete("wrong", now, &admin("dana")),
            Err(StoreError::SetupTokenInvalid)
        ));
        let user = store.setup_complete("s", now, &admin("dana")).unwrap();
        assert_eq!(user.role, Role::Admin);
        assert!(matches!(
            store.setup_complete("s", now, &admin("eve")),
            Err(StoreError::SetupDone)
        ));
    }
}
