//! The packaging files: the example configuration parses and names every setting;
//! the container, compose and unit files hold what the production chapter says.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fields of `Config` (and of its nested tables), read from its source.
fn config_fields() -> Vec<String> {
    let source = read("src/config.rs");
    let mut fields = Vec::new();
    let mut inside = false;
    for line in source.lines() {
        if line.starts_with("pub struct Config {")
            || line.starts_with("pub struct PasswordHashConfig {")
        {
            inside = true;
        } else if line.starts_with('}') {
            inside = false;
        } else if inside
            && let Some(rest) = line.trim().strip_prefix("pub ")
            && let Some((name, _)) = rest.split_once(':')
        {
            fields.push(name.to_owned());
        }
    }
    fields
}

#[test]
fn the_example_configuration_parses_and_lists_every_setting() {
    let text = read("deploy/heimdall.example.toml");
    let fields = config_fields();
    assert!(fields.len() > 25, "{fields:?}");
    let missing: Vec<&String> = fields
        .iter()
        .filter(|field| *field != "password_hash")
        .filter(|field| {
            !text.lines().any(|line| {
                let line = line.trim_start_matches(['#', ' ']);
                line.starts_with(&format!("{field} ="))
            })
        })
        .collect();
    assert!(
        missing.is_empty(),
        "settings missing from deploy/heimdall.example.toml: {missing:?}"
    );
    assert!(text.contains("[password_hash]"));
    // It parses as Heimdall's configuration, and the values it sets are the defaults.
    let parsed: heimdall::config::Config = figment::Figment::new()
        .merge(<figment::providers::Toml as figment::providers::Format>::string(&text))
        .extract()
        .unwrap();
    let default = heimdall::config::Config::default();
    assert_eq!(parsed.database_url, default.database_url);
    assert_eq!(parsed.bind, default.bind);
    assert_eq!(parsed.password_hash, default.password_hash);
    assert_eq!(
        parsed.console_session_lifetime,
        default.console_session_lifetime
    );
    assert_eq!(parsed.body_limit, default.body_limit);
}

#[test]
fn container_compose_and_unit_files_hold_what_the_chapter_promises() {
    let dockerfile = read("Dockerfile");
    for needle in [
        "FROM rust:",
        "cargo build --release --locked",
        "USER 10001",
        "HEIMDALL_BIND=0.0.0.0:8080",
        "HEALTHCHECK",
        "/healthz",
    ] {
        assert!(dockerfile.contains(needle), "Dockerfile lacks {needle}");
    }
    let compose = read("compose.yaml");
    for needle in [
        "postgres:",
        "HEIMDALL_DATABASE_URL: postgres://",
        "HEIMDALL_MASTER_KEY",
        "read_only: true",
        "service_healthy",
    ] {
        assert!(compose.contains(needle), "compose.yaml lacks {needle}");
    }
    let unit = read("deploy/heimdall.service");
    for needle in [
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "StateDirectory=heimdall",
        "ExecStart=/usr/local/bin/heimdall --config /etc/heimdall/heimdall.toml serve",
    ] {
        assert!(unit.contains(needle), "heimdall.service lacks {needle}");
    }
    let manifest = read("Cargo.toml");
    let release = manifest
        .split("[profile.release]")
        .nth(1)
        .expect("a release profile");
    for needle in ["lto = ", "codegen-units = 1", "strip = "] {
        assert!(release.contains(needle), "release profile lacks {needle}");
    }
}
