//! `heimdall backup` and `heimdall restore`: a backup taken from a live server under
//! writes restores into a fresh directory, where every row committed before it and
//! every key still work (tokens issued before the backup verify after the restore).
//! On PostgreSQL both commands explain pg_dump / pg_restore and change nothing.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use serde_json::json;

use crate::{
    admin_cli::heimdall,
    helpers::{TestDb, spawn_app},
    signing_keys::verify_with_jwks,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_writes_restores_into_a_fresh_directory_with_every_key_working() {
    let mut app = spawn_app().await;
    if TestDb::postgres_configured() {
        let out = heimdall(&app, &["backup", "/tmp/never-written.db"], None);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("pg_dump --format=custom"), "{stderr}");
        assert!(stderr.contains("Nothing was changed"), "{stderr}");
        assert!(!std::path::Path::new("/tmp/never-written.db").exists());
        let out = heimdall(&app, &["restore", "/tmp/never-written.db"], None);
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_restore"));
        return;
    }
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    let tokens = app
        .signup("acme", "before@example.com", "correct horse 1")
        .await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    // Writers keep signing users up while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let committed = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let writer = {
        let (client, url) = (app.client.clone(), app.url("/acme/v1/auth/signup"));
        let (stop, committed) = (stop.clone(), committed.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let email = format!("writer{n}@example.com");
                let resp = client
                    .post(&url)
                    .json(&json!({"email": email, "password": "correct horse 1"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 201);
                committed.lock().unwrap().push(email);
            }
        })
    };
    while committed.lock().unwrap().len() < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let before_backup = committed.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("heimdall-backup.db");
    let out = {
        let (app_ref, file) = (&app, file.to_str().unwrap());
        let args = ["--json", "backup", file];
        tokio::task::block_in_place(|| heimdall(app_ref, &args, None))
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["data"]["bytes"].as_u64().unwrap() > 10_000,
        "{report}"
    );
    assert_eq!(report["data"]["missing_master_key_ids"], json!([]));
    assert_eq!(
        report["data"]["master_key_ids"].as_array().unwrap().len(),
        1
    );
    // Writes went on during the backup.
    while committed.lock().unwrap().len() < before_backup.len() + 5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let written = committed.lock().unwrap().len();

    // A backup never overwrites.
    let again = heimdall(&app, &["backup", file.to_str().unwrap()], None);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));

    // Restore into a fresh directory, and serve from there (same master key and
    // public URL, so the issuer is the same).
    let fresh = tempfile::tempdir().unwrap();
    let fresh_url = format!(
        "sqlite://{}/restored/heimdall.db?mode=rwc",
        fresh.path().display()
    );
    let restore = |force: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_heimdall"));
        cmd.current_dir(fresh.path())
            .env_clear()
            .env("HEIMDALL_DATABASE_URL", &fresh_url)
            .env(
                "HEIMDALL_MASTER_KEY",
                app.config.master_key.as_ref().unwrap().expose(),
            )
            .args(["restore", file.to_str().unwrap()]);
        if force {
            cmd.arg("--force");
        }
        cmd.output().unwrap()
    };
    let out = restore(false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("restored"));
    let out = restore(false);
    assert!(!out.status.success(), "an existing database is kept");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert!(restore(true).status.success());

    app.config.database_url = fresh_url;
    app.restart().await;

    // Every row committed before the backup started is there; later ones may be.
    let mut emails = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get(
                &format!("/v1/apps/acme/users?limit=200&cursor={cursor}"),
                Some(&pak),
            )
            .await;
        assert_eq!(page.status, 200, "the app key works: {}", page.text);
        for user in page.body["data"].as_array().unwrap() {
            emails.push(user["email"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    for email in before_backup
        .iter()
        .chain([&"before@example.com".to_owned()])
    {
        assert!(emails.contains(email), "{email} missing after restore");
    }
    assert!(emails.len() <= written + 1);

    // Keys work: the token issued before the backup verifies (JWKS and /verify),
    // its refresh token rotates, passwords sign in, new tokens are signed.
    let claims = verify_with_jwks(&app, "acme", &access).await.unwrap();
    assert_eq!(claims["type"], "end_user");
    let verified = app.post("/acme/v1/verify", Some(&access), json!({})).await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.body["valid"], true);
    let refreshed = app
        .post(
            "/acme/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let signed_in = app
        .signin("acme", &before_backup[0], "correct horse 1")
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    let new_token = signed_in.body["access_token"].as_str().unwrap();
    verify_with_jwks(&app, "acme", new_token).await.unwrap();
}

// The command runs as a blocking child process while the server under test keeps
// running on another worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_what_is_not_a_heimdall_backup() {
    let app = spawn_app().await;
    if TestDb::postgres_configured() {
        return; // Covered above: both commands refuse on PostgreSQL.
    }
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let out = heimdall(&app, &["restore", junk.to_str().unwrap(), "--force"], None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("junk.db"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let missing = dir.path().join("missing.db");
    let out = heimdall(&app, &["restore", missing.to_str().unwrap()], None);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no backup at"));
    // The live database was not touched.
    assert_eq!(app.get("/healthz", None).await.status, 200);
    app.create_app("still-here").await;
}
