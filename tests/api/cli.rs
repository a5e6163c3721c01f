//! The real binary: first start on a fresh SQLite file, and `export-schema`.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

const BIN: &str = env!("CARGO_BIN_EXE_heimdall");

#[test]
fn export_schema_prints_the_committed_schema() {
    let output = Command::new(BIN).arg("export-schema").output().unwrap();
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), committed);
}

/// Starts `heimdall` (serve) and returns the printed root key (if any) and the port.
fn start(dir: &std::path::Path) -> (std::process::Child, Option<String>, u16) {
    start_with(dir, &[])
}

/// The same, with extra `HEIMDALL_*` variables.
pub fn start_with(
    dir: &std::path::Path,
    envs: &[(&str, &str)],
) -> (std::process::Child, Option<String>, u16) {
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .env_clear()
        .env("HEIMDALL_BIND", "127.0.0.1:0")
        .env("HEIMDALL_LOG", "info")
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let key_tx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(key) = line.trim().strip_prefix("hm_root_") {
                let _ = key_tx.send(Ok(format!("hm_root_{key}")));
            }
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("port=").nth(1) {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = tx.send(Err(port.parse::<u16>().unwrap()));
            }
        }
    });
    let mut key = None;
    loop {
        match rx
            .recv_timeout(Duration::from_secs(120))
            .expect("heimdall did not start")
        {
            Ok(k) => key = Some(k),
            Err(port) => {
                // The key is printed before the listening line; give stdout a moment.
                if key.is_none()
                    && let Ok(Ok(k)) = rx.recv_timeout(Duration::from_millis(500))
                {
                    key = Some(k);
                }
                return (child, key, port);
            }
        }
    }
}

#[test]
fn first_start_creates_the_database_and_prints_a_root_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, key, port) = start(dir.path());
    let key = key.expect("a root key on first start");
    assert!(dir.path().join("heimdall.db").exists());
    assert!(dir.path().join("heimdall.master.key").exists());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let resp = client
            .post(format!("http://127.0.0.1:{port}/v1/apps"))
            .bearer_auth(&key)
            .json(&serde_json::json!({"name": "acme"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    });
    child.kill().unwrap();
    child.wait().unwrap();

    // `migrate` on an up-to-date database is a no-op; `bootstrap` prints a new key.
    let migrate = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let bootstrap = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .arg("bootstrap")
        .output()
        .unwrap();
    assert!(bootstrap.status.success());
    let stdout = String::from_utf8(bootstrap.stdout).unwrap();
    let second = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("hm_root_"))
        .expect("bootstrap prints a key")
        .to_owned();
    assert_ne!(second, key);

    let (mut child, second_key, port) = start(dir.path());
    assert!(second_key.is_none(), "the root key is printed only once");
    runtime.block_on(async {
        for key in [&key, &second] {
            let resp = reqwest::Client::new()
                .get(format!("http://127.0.0.1:{port}/v1/apps/acme"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "data and keys survive a restart");
        }
    });
    // SIGTERM stops the server gracefully, with a success exit code.
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn migrate_creates_the_schema_and_bad_configuration_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("heimdall.db").exists());

    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("HEIMDALL_MASTER_KEY", "not-base64-32-bytes")
        .env("HEIMDALL_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HEIMDALL_MASTER_KEY"), "{stderr}");
    assert!(
        !stderr.contains("not-base64-32-bytes"),
        "the secret is not echoed"
    );
}
