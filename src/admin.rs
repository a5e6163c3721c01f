//! The admin command line (`heimdall apps …`, `root-keys …`, `users …`,
//! `signing-keys …`): the same services the APIs call, without an HTTP round trip,
//! with the operator at the machine as the actor (`cli` in audit entries). Output is
//! text for people or, with `--json`, one JSON document for scripts
//! (docs/src/production.md#the-admin-command-line).

use std::io::BufRead;

use clap::Subcommand;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    error::Error,
    request::RequestMeta,
    services::{self, guard},
    state::AppState,
};

#[derive(Subcommand, Debug)]
pub enum AppsCommand {
    /// List every app.
    List,
    /// Create an app (and its first signing key and system roles).
    Create {
        /// The slug: `^[a-z0-9][a-z0-9-]{1,62}$`.
        name: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Delete an app and everything in it.
    Delete {
        /// The app's id or slug.
        app: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum RootKeysCommand {
    /// List the stored root keys (never their secrets).
    List,
    /// Create a root key and print it once.
    Create {
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Revoke a stored root key by id.
    Revoke { id: Uuid },
}

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Create a user. With `--password-stdin` the password is read from the first
    /// line of standard input (never from an argument, which `ps` would show).
    Create {
        /// The app's id or slug.
        app: String,
        email: String,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        role: Option<String>,
        /// Mark the email address as verified.
        #[arg(long)]
        email_verified: bool,
    },
    /// Set a user's password, read from the first line of standard input; every
    /// session of the user ends.
    SetPassword { app: String, email: String },
    /// Deactivate a user; every session of the user ends.
    Deactivate { app: String, email: String },
}

#[derive(Subcommand, Debug)]
pub enum SigningKeysCommand {
    /// Rotate the app's signing key; the previous key stays published for its overlap.
    Rotate { app: String },
}

/// A command's answer: text for people and the same facts as JSON.
struct Output {
    text: String,
    json: Value,
}

fn print(output: Output, as_json: bool) {
    if as_json {
        println!("{}", output.json);
    } else if !output.text.is_empty() {
        println!("{}", output.text.trim_end());
    }
}

/// What the command line reports for a domain error: the same message the APIs give.
/// Internal causes are printed too: the operator at the console is who needs them.
fn failed(error: Error) -> anyhow::Error {
    match error {
        Error::InvalidRequest {
            message,
            details: Some(details),
        } => anyhow::anyhow!("{message} ({details})"),
        Error::Internal(cause) => anyhow::anyhow!("internal error: {cause}"),
        other => anyhow::anyhow!("{other}"),
    }
}

fn meta() -> RequestMeta {
    RequestMeta {
        ip: None,
        user_agent: Some(format!("heimdall-cli/{}", env!("CARGO_PKG_VERSION"))),
    }
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        anyhow::bail!(
            "no password on standard input (pipe it in: `printf %s \"$PW\" | heimdall …`)"
        );
    }
    Ok(password)
}

fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn app_json(app: &entity::app::Model) -> Value {
    json!({
        "id": app.id,
        "name": app.name,
        "display_name": app.display_name,
        "created_at": time(&app.created_at),
    })
}

fn user_json(user: &entity::user::Model) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "status": user.status,
        "email_verified": user.email_verified,
    })
}

pub async fn apps(state: &AppState, command: AppsCommand, as_json: bool) -> anyhow::Result<()> {
    let root = guard::cli_root();
    let output = match command {
        AppsCommand::List => {
            let mut all = Vec::new();
            let mut page = crate::db::PageRequest {
                limit: crate::db::MAX_LIMIT,
                after: None,
            };
            loop {
                let found = services::apps::list_all(state, &root, page)
                    .await
                    .map_err(failed)?;
                all.extend(found.items);
                match found.next_cursor {
                    Some(next) => {
                        page.after = Some(crate::db::decode_cursor(&next).map_err(failed)?)
                    }
                    None => break,
                }
            }
            let text = all
                .iter()
                .map(|a| format!("{}\t{}\t{}", a.id, a.name, a.display_name))
                .collect::<Vec<_>>()
                .join("\n");
            Output {
                text,
                json: json!({ "data": all.iter().map(app_json).collect::<Vec<_>>() }),
            }
        }
        AppsCommand::Create { name, display_name } => {
            let app = services::apps::create(
                state,
                &root,
                services::apps::NewApp {
                    name,
                    display_name,
                    settings: None,
                },
                &meta(),
            )
            .await
            .map_err(failed)?;
            Output {
                text: format!("created app {} ({})", app.name, app.id),
                json: json!({ "data": app_json(&app) }),
            }
        }
        AppsCommand::Delete { app } => {
            let found = guard::find_app(state, guard::Lane::Admin, &app)
                .await
                .map_err(failed)?;
            services::apps::delete(state, &root, &found)
                .await
                .map_err(failed)?;
            Output {
                text: format!("deleted app {} ({})", found.name, found.id),
                json: json!({ "deleted": { "id": found.id, "name": found.name } }),
            }
        }
    };
    print(output, as_json);
    Ok(())
}

pub async fn root_keys(
    state: &AppState,
    command: RootKeysCommand,
    as_json: bool,
) -> anyhow::Result<()> {
    let root = guard::cli_root();
    let output = match command {
        RootKeysCommand::List => {
            let keys = services::keys::list_root_keys(state, &root)
                .await
                .map_err(failed)?;
            let text = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}\t{}\t{}\t{}",
                        k.id,
                        k.name,
                        time(&k.created_at),
                        k.last_used_at
                            .as_ref()
                            .map(time)
                            .unwrap_or_else(|| "never".into())
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let data: Vec<Value> = keys
                .iter()
                .map(|k| {
                    json!({
                        "id": k.id,
                        "name": k.name,
                        "created_at": time(&k.created_at),
                        "last_used_at": k.last_used_at.as_ref().map(time),
                    })
                })
                .collect();
            Output {
                text,
                json: json!({ "data": data }),
            }
        }
        RootKeysCommand::Create { name } => {
            let (id, secret) = services::keys::create_root_key_as(state, &root, &name)
                .await
                .map_err(failed)?;
            Output {
                text: format!("created root key {id}; it is shown only this once:\n{secret}"),
                json: json!({ "data": { "id": id, "name": name, "key": secret } }),
            }
        }
        RootKeysCommand::Revoke { id } => {
            services::keys::revoke_root_key(state, &root, id)
                .await
                .map_err(failed)?;
            Output {
                text: format!("revoked root key {id}"),
                json: json!({ "revoked": { "id": id } }),
            }
        }
    };
    print(output, as_json);
    Ok(())
}

async fn user_by_email(
    state: &AppState,
    admin: &crate::access::AppAdmin,
    email: &str,
) -> anyhow::Result<entity::user::Model> {
    let normalised = services::validate::email("email", email).map_err(failed)?;
    services::users::find_by_email(&*state.db, admin.app().id, &normalised)
        .await
        .map_err(failed)?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no user with email '{normalised}' in app '{}'",
                admin.app().name
            )
        })
}

pub async fn users(state: &AppState, command: UsersCommand, as_json: bool) -> anyhow::Result<()> {
    let output = match command {
        UsersCommand::Create {
            app,
            email,
            password_stdin,
            display_name,
            role,
            email_verified,
        } => {
            let admin = guard::cli_app_admin(state, &app).await.map_err(failed)?;
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let user = services::users::create(
                state,
                &admin.access(),
                services::users::NewUser {
                    email,
                    password,
                    display_name,
                    role,
                    email_verified,
                },
                &meta(),
            )
            .await
            .map_err(failed)?;
            Output {
                text: format!("created user {} ({})", user.email, user.id),
                json: json!({ "data": user_json(&user) }),
            }
        }
        UsersCommand::SetPassword { app, email } => {
            let admin = guard::cli_app_admin(state, &app).await.map_err(failed)?;
            let user = user_by_email(state, &admin, &email).await?;
            let password = read_password()?;
            let user = services::users::update(
                state,
                &admin.access(),
                user.id,
                services::users::UserPatch {
                    password: Some(password),
                    ..Default::default()
                },
                &meta(),
            )
            .await
            .map_err(failed)?;
            Output {
                text: format!(
                    "password set for {} ({}); their sessions ended",
                    user.email, user.id
                ),
                json: json!({ "data": user_json(&user) }),
            }
        }
        UsersCommand::Deactivate { app, email } => {
            let admin = guard::cli_app_admin(state, &app).await.map_err(failed)?;
            let user = user_by_email(state, &admin, &email).await?;
            let user = services::users::set_active(state, &admin.access(), user.id, false, &meta())
                .await
                .map_err(failed)?;
            Output {
                text: format!(
                    "deactivated {} ({}); their sessions ended",
                    user.email, user.id
                ),
                json: json!({ "data": user_json(&user) }),
            }
        }
    };
    print(output, as_json);
    Ok(())
}

pub async fn signing_keys(
    state: &AppState,
    command: SigningKeysCommand,
    as_json: bool,
) -> anyhow::Result<()> {
    let SigningKeysCommand::Rotate { app } = command;
    let admin = guard::cli_app_admin(state, &app).await.map_err(failed)?;
    let key = services::keys::rotate_signing_key(state, &admin, None, &meta())
        .await
        .map_err(failed)?;
    print(
        Output {
            text: format!("rotated: {} now signs ({})", key.id, key.alg),
            json: json!({ "data": {
                "kid": key.id,
                "alg": key.alg,
                "status": key.status,
                "created_at": time(&key.created_at),
            } }),
        },
        as_json,
    );
    Ok(())
}
