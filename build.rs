//! Finds the external tools some integration tests run (Node.js for the webhook
//! chapter's Node snippet). A test whose tool is missing is compiled as ignored, so that
//! `cargo test` reports it as skipped rather than passed; under `CI=true` a missing
//! tool fails the build instead, since CI must run every check.

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(heimdall_has_node)");
    println!("cargo::rerun-if-changed=build.rs");
    // The embedded admin console: rebuild when its committed assets change.
    println!("cargo::rerun-if-changed=console/dist");
    println!("cargo::rerun-if-env-changed=CI");
    // Watch the `node` found, not all of PATH: wrappers such as pyenv's rewrite PATH
    // for every child (the bench scripts run cargo from Python), and a PATH trigger
    // then rebuilt the release binary from scratch on each run. Without a `node`,
    // installing one changes PATH or a directory on it, so PATH is watched then.
    let node = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("node"))
            .find(|candidate| candidate.is_file())
    });
    match &node {
        Some(found) => println!("cargo::rerun-if-changed={}", found.display()),
        None => println!("cargo::rerun-if-env-changed=PATH"),
    }
    let has_node = node.is_some_and(|found| {
        Command::new(found)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    });
    if has_node {
        println!("cargo::rustc-cfg=heimdall_has_node");
    } else if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        println!(
            "cargo::error=CI=true but Node.js (`node`) is not on PATH: the webhook chapter's \
             snippet test needs it (.ci/run installs it)"
        );
    }
}
