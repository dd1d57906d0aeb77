//! `shofar user`: the web UI's and API's users, from the shell on the box.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, bail};
use shofar_store::accounts::{NewToken, NewUser, Role, User, UserChange};
use shofar_web::auth::{
    TOKEN_PREFIX, hash_password, name_problems, password_problems, random_hex, secret_hash,
};

use crate::App;
use crate::cli::{LocaleArg, RoleArg, UserCommand};
use crate::output::print_json;

fn role(arg: RoleArg) -> Role {
    match arg {
        RoleArg::Admin => Role::Admin,
        RoleArg::Manager => Role::Manager,
        RoleArg::Analyst => Role::Analyst,
    }
}

pub fn locale(arg: LocaleArg) -> &'static str {
    match arg {
        LocaleArg::He => "he",
        LocaleArg::En => "en",
    }
}

/// The password: one line of standard input, or asked twice on the terminal.
fn read_password(name: &str, from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let first = rpassword::prompt_password(format!("password for {name}: ")).context(
            "cannot read a password from the terminal; pipe it in with --password-stdin",
        )?;
        let again = rpassword::prompt_password("again: ")
            .context("cannot read a password from the terminal")?;
        if first != again {
            bail!("the two passwords differ; nothing was changed");
        }
        first
    };
    let problems = password_problems(name, &password, "password");
    if let Some(problem) = problems.first() {
        bail!("the password is not acceptable: {}", problem.message);
    }
    Ok(password)
}

fn find(app: &App, name: &str) -> anyhow::Result<User> {
    app.store
        .users()?
        .into_iter()
        .find(|user| user.name == name)
        .with_context(|| format!("no user named {name:?}; list them with `shofar user list`"))
}

pub fn run(app: &mut App, command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add {
            name,
            role: role_arg,
            locale: locale_arg,
            password_stdin,
        } => {
            if let Some(problem) = name_problems(&name).first() {
                bail!("{name:?} is not a user name: {}", problem.message);
            }
            let password = read_password(&name, password_stdin)?;
            let hash = hash_password(&password).map_err(|error| anyhow::anyhow!(error.message))?;
            let user = app.store.user_insert(
                &NewUser {
                    name,
                    password_hash: hash,
                    role: role(role_arg),
                    locale: locale(locale_arg).to_owned(),
                },
                &app.actor,
            )?;
            crate::outln!(
                "added {} ({}); they log in at the box's address (shofar serve prints it)",
                user.name,
                user.role
            );
        }
        UserCommand::List { json } => {
            let users = app.store.users()?;
            if json {
                print_json(&users)?;
            } else if users.is_empty() {
                crate::outln!("no users yet: `shofar user add NAME --role admin`");
            } else {
                crate::outln!(
                    "{:<20} {:<8} {:<6} {:<9} last login",
                    "name",
                    "role",
                    "lang",
                    "state"
                );
                for user in users {
                    crate::outln!(
                        "{:<20} {:<8} {:<6} {:<9} {}",
                        user.name,
                        user.role.as_str(),
                        user.locale,
                        if user.disabled { "disabled" } else { "active" },
                        user.last_login_at
                            .map(|at| at.format("%d.%m.%Y %H:%M").to_string())
                            .unwrap_or_else(|| "never".to_owned())
                    );
                }
            }
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let user = find(app, &name)?;
            let password = read_password(&name, password_stdin)?;
            let hash = hash_password(&password).map_err(|error| anyhow::anyhow!(error.message))?;
            app.store
                .user_set_password(user.id, &hash, None, &app.actor)?;
            crate::outln!("password of {name} set; their sessions have ended");
        }
        UserCommand::Role {
            name,
            role: role_arg,
        } => {
            let user = find(app, &name)?;
            let change = UserChange {
                role: Some(role(role_arg)),
                ..UserChange::default()
            };
            let user = app.store.user_update(user.id, &change, &app.actor)?;
            crate::outln!("{name} is now {}", user.role);
        }
        UserCommand::Disable { name } => {
            let user = find(app, &name)?;
            let change = UserChange {
                disabled: Some(true),
                ..UserChange::default()
            };
            app.store.user_update(user.id, &change, &app.actor)?;
            crate::outln!(
                "{name} can no longer log in; their sessions ended and tokens were revoked"
            );
        }
        UserCommand::Enable { name } => {
            let user = find(app, &name)?;
            let change = UserChange {
                disabled: Some(false),
                ..UserChange::default()
            };
            app.store.user_update(user.id, &change, &app.actor)?;
            crate::outln!("{name} may log in again (with new tokens: the old ones stay revoked)");
        }
        UserCommand::Remove { name } => {
            let user = find(app, &name)?;
            app.store.user_delete(user.id, &app.actor)?;
            crate::outln!("removed {name}");
        }
        UserCommand::Token {
            name,
            label,
            role: role_arg,
            expires_in_days,
        } => {
            let user = find(app, &name)?;
            let token_role = role_arg.map(role).unwrap_or(user.role);
            if !user.role.allows(token_role) {
                bail!(
                    "{name} is {}: a token cannot do more than its user",
                    user.role
                );
            }
            if expires_in_days.is_some_and(|days| !(1..=3650).contains(&days)) {
                bail!("--expires-in-days must be 1 to 3650");
            }
            let secret = format!("{TOKEN_PREFIX}{}", random_hex(20));
            let token = app.store.token_insert(
                &NewToken {
                    user_id: user.id,
                    name: label,
                    token_hash: secret_hash(&secret),
                    prefix: secret.chars().take(TOKEN_PREFIX.len() + 6).collect(),
                    role: token_role,
                    expires_at: expires_in_days
                        .map(|days| chrono::Utc::now() + chrono::Duration::days(i64::from(days))),
                },
                &app.actor,
            )?;
            eprintln!(
                "token {} for {name} ({}); send it as `Authorization: Bearer TOKEN`. It is shown \
                 only now:",
                token.id, token.role
            );
            crate::outln!("{secret}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
