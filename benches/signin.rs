//! Sign-in throughput and latency against the argon2 ceiling of this machine.
//!
//! `cargo bench --bench signin` (release build). Starts Heimdall in-process on a
//! temporary SQLite database with the production (OWASP) argon2 parameters, then:
//! 1. the ceiling: argon2id verifications per second with every core busy, through
//!    the same hashing pool the server uses, without HTTP;
//! 2. sign-ins per second through HTTP with N concurrent clients, and p50/p99;
//! 3. latency of failed sign-ins for an unknown email vs a wrong password.
//!
//! Environment: `BENCH_SECONDS` (default 10), `BENCH_CLIENTS` (default 16).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::SaltString,
};
use heimdall::{
    config::{Config, PasswordHashConfig, Secret},
    crypto::{self, prefix, vault::MasterKey},
    services::passwords::Passwords,
    startup::Application,
};
use serde_json::json;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// argon2id verifications per second through Heimdall's hashing pool with every
/// core busy and no HTTP: the most this machine can do.
async fn pool_ceiling(passwords: &Passwords, hash: &str, seconds: u64) -> (u64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (p, h, stop, count) = (
                passwords.clone(),
                hash.to_owned(),
                stop.clone(),
                count.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    assert!(p.verify("correct horse battery", Some(&h)).await.unwrap());
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    (count.load(Ordering::Relaxed), start.elapsed().as_secs_f64())
}

/// The argon2 crate used naively (fresh memory per hash), one thread per core.
fn naive_ceiling(seconds: u64) -> f64 {
    let d = PasswordHashConfig::default();
    let params = Params::new(d.memory_kib, d.iterations, d.parallelism, None).unwrap();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(b"benchmark-salt!!").unwrap();
    let hash = argon
        .hash_password(b"correct horse battery", &salt)
        .unwrap()
        .to_string();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            let (stop, count, argon, hash) =
                (stop.clone(), count.clone(), argon.clone(), hash.clone());
            std::thread::spawn(move || {
                let parsed = PasswordHash::new(&hash).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    argon
                        .verify_password(b"correct horse battery", &parsed)
                        .unwrap();
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let seconds = env_or("BENCH_SECONDS", 10);
    let clients = env_or("BENCH_CLIENTS", 16) as usize;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    println!("heimdall sign-in benchmark: {cores} cores, {clients} clients, {seconds} s per phase");

    let rounds = env_or("BENCH_ROUNDS", 3);
    let naive = naive_ceiling(seconds.min(5));
    println!(
        "argon2 crate, fresh memory per hash, one thread per core: {naive:.1} verifications/s"
    );

    let dir = tempfile::tempdir().unwrap();
    let root = crypto::generate_secret(prefix::ROOT_KEY).unwrap();
    let config = Config {
        database_url: format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()),
        bind: "127.0.0.1:0".into(),
        root_key: Some(Secret::new(root.clone())),
        master_key: Some(Secret::new(MasterKey::new([7u8; 32]).to_base64())),
        data_dir: dir.path().to_path_buf(),
        // Failed sign-ins below come from many addresses, as from many users.
        trust_proxy: true,
        log: "warn".into(),
        ..Config::default()
    };
    let app = Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let resp = client
        .post(format!("{base}/v1/apps"))
        .bearer_auth(&root)
        .json(&json!({"name": "bench", "settings": {"signing_alg": std::env::var("BENCH_ALG").unwrap_or("RS256".into())}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let users = 50;
    for i in 0..users {
        let resp = client
            .post(format!("{base}/bench/v1/auth/signup"))
            .json(&json!({"email": format!("user{i}@example.com"), "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }

    // Rounds of (ceiling, sign-ins), so that drift in the machine's speed affects
    // both sides alike.
    let passwords = Passwords::new(&PasswordHashConfig::default()).unwrap();
    let reference = passwords.hash("correct horse battery").await.unwrap();
    let (mut ceiling_count, mut ceiling_secs) = (0u64, 0f64);
    let (mut signin_secs, mut errors) = (0f64, 0u64);
    let mut latencies = Vec::new();
    for round in 0..rounds {
        let (count, ceiling_round_secs) = pool_ceiling(&passwords, &reference, seconds).await;
        ceiling_count += count;
        ceiling_secs += ceiling_round_secs;
        let (round_latencies, round_errors, secs) =
            signin_phase(&client, &base, clients, users, seconds).await;
        println!(
            "  round {}: ceiling {:.1}/s, sign-in {:.1}/s",
            round + 1,
            count as f64 / ceiling_round_secs,
            round_latencies.len() as f64 / secs
        );
        latencies.extend(round_latencies);
        errors += round_errors;
        signin_secs += secs;
    }
    let ceiling = ceiling_count as f64 / ceiling_secs;
    latencies.sort();
    let rate = latencies.len() as f64 / signin_secs;
    println!(
        "argon2id ceiling through the hashing pool (m=19456 KiB, t=2, p=1, no HTTP): {ceiling:.1} verifications/s"
    );
    println!(
        "sign-in: {rate:.1}/s ({:.0}% of the argon2 ceiling), p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, errors {errors}",
        100.0 * rate / ceiling,
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap_or(&Duration::ZERO)),
    );

    // Failed sign-ins: unknown email vs wrong password, interleaved, one at a time.
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    for i in 0..60 {
        for (email, bucket) in [
            (format!("nobody{i}@example.com"), &mut unknown),
            (format!("user{}@example.com", i % users), &mut wrong),
        ] {
            let t = Instant::now();
            let resp = client
                .post(format!("{base}/bench/v1/auth/signin"))
                .header("x-forwarded-for", format!("10.0.{}.{}", i / 200, i % 200))
                .json(&json!({"email": email, "password": "not the password"}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 401);
            bucket.push(t.elapsed());
        }
    }
    unknown.sort();
    wrong.sort();
    println!(
        "failed sign-in p50: unknown email {:.1} ms, wrong password {:.1} ms (p90 {:.1} / {:.1} ms)",
        ms(percentile(&unknown, 0.5)),
        ms(percentile(&wrong, 0.5)),
        ms(percentile(&unknown, 0.9)),
        ms(percentile(&wrong, 0.9)),
    );
}

/// Sign-ins with `clients` concurrent clients for `seconds`.
async fn signin_phase(
    client: &reqwest::Client,
    base: &str,
    clients: usize,
    users: usize,
    seconds: u64,
) -> (Vec<Duration>, u64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (client, base, stop) = (client.clone(), base.to_owned(), stop.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut i = c;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let resp = client
                        .post(format!("{base}/bench/v1/auth/signin"))
                        .json(&json!({"email": format!("user{}@example.com", i % users), "password": "correct horse battery"}))
                        .send()
                        .await;
                    match resp {
                        Ok(r) if r.status() == 200 => {
                            let _ = r.bytes().await;
                            latencies.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                    i += clients;
                }
                (latencies, errors)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    (latencies, errors, start.elapsed().as_secs_f64())
}
