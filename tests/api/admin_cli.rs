//! The admin command line (`heimdall apps|root-keys|users|signing-keys`, `migrate
//! --dry-run`), run as the real binary against a running server's database: what it
//! changes, the server sees; its audit entries name the actor `cli`.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_heimdall");

/// Runs `heimdall ARGS` on the test app's database and master key, with `stdin`.
pub fn heimdall(app: &TestApp, args: &[&str], stdin: Option<&str>) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(BIN);
    command
        .current_dir(dir.path())
        .env_clear()
        .env("HEIMDALL_DATABASE_URL", &app.config.database_url)
        .env(
            "HEIMDALL_MASTER_KEY",
            app.config.master_key.as_ref().unwrap().expose(),
        )
        .envs(
            app.config
                .master_key_previous
                .as_ref()
                .map(|previous| ("HEIMDALL_MASTER_KEY_PREVIOUS", previous.expose())),
        )
        .env("HEIMDALL_PASSWORD_HASH__MEMORY_KIB", "256")
        .env("HEIMDALL_PASSWORD_HASH__ITERATIONS", "1")
        .env("HEIMDALL_LOG", "warn")
        .env("USER", "operator")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// `heimdall --json ARGS`, which must succeed; its JSON document.
pub fn heimdall_json(app: &TestApp, args: &[&str], stdin: Option<&str>) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = heimdall(app, &all, stdin);
    assert!(
        out.status.success(),
        "heimdall {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "heimdall {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn fails_with(out: &Output, expected: &str) {
    assert!(!out.status.success(), "expected a failure");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(expected), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

// The commands run as blocking child processes: the server under test keeps running
// on another worker meanwhile (on one thread it could not finish a write it began,
// and the command would wait on SQLite's lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_root_keys_and_users_are_administered_from_the_command_line() {
    let app = spawn_app().await;

    // Apps.
    let created = heimdall_json(
        &app,
        &["apps", "create", "acme", "--display-name", "Acme"],
        None,
    );
    assert_eq!(created["data"]["name"], "acme");
    assert_eq!(created["data"]["display_name"], "Acme");
    let resp = app.get("/v1/apps/acme", Some(&app.root_key)).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let listed = heimdall_json(&app, &["apps", "list"], None);
    let names: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme"]);
    let text = heimdall(&app, &["apps", "list"], None);
    assert!(String::from_utf8_lossy(&text.stdout).contains("\tacme\tAcme"));
    fails_with(
        &heimdall(&app, &["apps", "create", "Not A Slug"], None),
        "name",
    );
    fails_with(
        &heimdall(&app, &["apps", "create", "acme"], None),
        "already exists",
    );

    // Root keys: created, listed (without the secret), working, revoked.
    let key = heimdall_json(&app, &["root-keys", "create", "--name", "ops"], None);
    let secret = key["data"]["key"].as_str().unwrap().to_owned();
    let key_id = key["data"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("hm_root_"));
    let listed = heimdall_json(&app, &["root-keys", "list"], None);
    let entry = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == key_id.as_str())
        .expect("the new key is listed")
        .clone();
    assert_eq!(entry["name"], "ops");
    assert!(!listed.to_string().contains(&secret), "no secret in a list");
    assert_eq!(app.get("/v1/apps", Some(&secret)).await.status, 200);
    heimdall_json(&app, &["root-keys", "revoke", &key_id], None);
    app.get("/v1/apps", Some(&secret))
        .await
        .error(401, "unauthenticated");
    fails_with(
        &heimdall(&app, &["root-keys", "revoke", &key_id], None),
        "not found",
    );
    fails_with(
        &heimdall(&app, &["root-keys", "revoke", "not-a-uuid"], None),
        "invalid value",
    );

    // Users: the password comes from standard input, never an argument.
    let user = heimdall_json(
        &app,
        &[
            "users",
            "create",
            "acme",
            "Ada@Example.com",
            "--password-stdin",
        ],
        Some("first password 1\n"),
    );
    assert_eq!(user["data"]["email"], "ada@example.com");
    assert_eq!(
        app.signin("acme", "ada@example.com", "first password 1")
            .await
            .status,
        200
    );
    fails_with(
        &heimdall(&app, &["users", "create", "acme", "ada@example.com"], None),
        "already exists",
    );
    fails_with(
        &heimdall(&app, &["users", "create", "nope", "x@example.com"], None),
        "not found",
    );
    fails_with(
        &heimdall(
            &app,
            &["users", "set-password", "acme", "ada@example.com"],
            Some("short\n"),
        ),
        "password",
    );
    heimdall_json(
        &app,
        &["users", "set-password", "acme", "ada@example.com"],
        Some("second password 2\n"),
    );
    assert_eq!(
        app.signin("acme", "ada@example.com", "first password 1")
            .await
            .status,
        401
    );
    assert_eq!(
        app.signin("acme", "ada@example.com", "second password 2")
            .await
            .status,
        200
    );
    let deactivated = heimdall_json(
        &app,
        &["users", "deactivate", "acme", "ada@example.com"],
        None,
    );
    assert_eq!(deactivated["data"]["status"], "deactivated");
    app.signin("acme", "ada@example.com", "second password 2")
        .await
        .error(403, "account_deactivated");
    fails_with(
        &heimdall(
            &app,
            &["users", "deactivate", "acme", "ghost@example.com"],
            None,
        ),
        "no user",
    );

    // Signing keys: the new key is published and signs.
    let before = app.get("/acme/v1/.well-known/jwks.json", None).await.body;
    let rotated = heimdall_json(&app, &["signing-keys", "rotate", "acme"], None);
    let kid = rotated["data"]["kid"].as_str().unwrap();
    assert!(!before.to_string().contains(kid));
    app.state.signing.flush(); // SQLite has no cross-process invalidation.
    let jwks = app.get("/acme/v1/.well-known/jwks.json", None).await.body;
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid),
        "{jwks}"
    );

    // The audit log names the actor `cli` (with the operator's login name).
    let log = app
        .get("/v1/apps/acme/audit-log?limit=200", Some(&app.root_key))
        .await;
    assert_eq!(log.status, 200, "{}", log.text);
    let entries = log.body["data"].as_array().unwrap();
    for action in [
        "app.created",
        "user.created",
        "user.updated",
        "user.deactivated",
        "signing_key.rotated",
    ] {
        let entry = entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} entry: {}", log.text));
        assert_eq!(
            entry["actor"],
            json!({"type": "cli", "id": "operator"}),
            "{action}"
        );
    }
    assert!(!log.text.contains("second password"));

    // Deleting the app.
    heimdall_json(&app, &["apps", "delete", "acme"], None);
    app.state.apps.flush();
    app.get("/v1/apps/acme", Some(&app.root_key))
        .await
        .error(404, "not_found");
}

// The commands run as blocking child processes: the server under test keeps running
// on another worker meanwhile (on one thread it could not finish a write it began,
// and the command would wait on SQLite's lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_dry_run_lists_pending_migrations_and_applies_none() {
    let app = spawn_app().await;
    let up_to_date = heimdall_json(&app, &["migrate", "--dry-run"], None);
    assert_eq!(up_to_date, json!({"pending": []}));

    // A fresh SQLite database: every migration is pending, and stays so.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/fresh.db?mode=rwc", dir.path().display());
    let run = || {
        Command::new(BIN)
            .current_dir(dir.path())
            .env_clear()
            .env("HEIMDALL_DATABASE_URL", &url)
            .args(["--json", "migrate", "--dry-run"])
            .output()
            .unwrap()
    };
    for _ in 0..2 {
        let out = run();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pending: Value = serde_json::from_slice(&out.stdout).unwrap();
        let names = pending["pending"].as_array().unwrap();
        assert!(names.len() > 5, "{pending}");
        assert!(names[0].as_str().unwrap().starts_with("m2026"), "{pending}");
    }
    let text = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("HEIMDALL_DATABASE_URL", &url)
        .args(["migrate", "--dry-run"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("m20260101_000001_foundation"));
}
