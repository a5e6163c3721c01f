//! Compact JWS: Heimdall's own signing and verification (`src/crypto/jwt.rs`, on
//! aws-lc-rs) against the `jsonwebtoken` crate (10, also on aws-lc-rs), for the same
//! ES256, EdDSA and RS256 keys, claims and tokens.
//!
//! `cargo bench --bench jws` (release build). For each algorithm:
//! - **sign**: an end-user access token's claims under the app's key. Heimdall keeps
//!   the parsed private key and the encoded header (as `services::signing` does);
//!   jsonwebtoken gets an `EncodingKey` made once from the same PKCS#8 key.
//! - **verify**: the same Heimdall-signed token. Heimdall: the RFC 8725 header
//!   checks (`decode_unverified`), the signature under the key's own algorithm, and
//!   `exp`/`nbf`/`iat`. jsonwebtoken: `decode` with a `DecodingKey` made once from
//!   the published JWK and a `Validation` pinned to the algorithm (`exp` and `nbf`
//!   checked, no audience). A third figure is jsonwebtoken behind Heimdall's header
//!   checks, which is what moving to the crate would cost.
//!
//! Neither side's caches are involved (the service caches verified tokens by hash;
//! this measures the work on a miss). The machine's speed drifts and other work may
//! share it, so the cases compared take turns in short batches, round after round,
//! and the median of the rounds is printed.
//!
//! Environment: `BENCH_ROUNDS` (default 7), `BENCH_MILLIS` per algorithm,
//! operation and round (default 600, shared by the cases compared).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use heimdall::crypto::{
    jwt,
    keys::{self, PrivateKey, PublicKey, SigningAlg},
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, jwk::Jwk};
use serde_json::{Map, Value, json};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// PKCS#8 DER as a PEM block: jsonwebtoken takes PKCS#8 RSA keys only as PEM.
fn pem_of(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// Microseconds per call of each of `fs`, over at least `budget` in all. The cases
/// take turns in batches of about 5 ms each, so that other load on the machine
/// weighs on all of them alike.
fn per_op(budget: Duration, fs: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    // Warm up, and size each case's batch so that timing overhead does not count.
    let batches: Vec<u64> = fs
        .iter_mut()
        .map(|f| {
            let t = Instant::now();
            f();
            let one = t.elapsed().max(Duration::from_nanos(50));
            (Duration::from_millis(5).as_nanos() / one.as_nanos()).clamp(1, 10_000) as u64
        })
        .collect();
    let mut spent = vec![Duration::ZERO; fs.len()];
    let mut calls = vec![0u64; fs.len()];
    let start = Instant::now();
    while start.elapsed() < budget {
        for (i, f) in fs.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..batches[i] {
                f();
            }
            spent[i] += t.elapsed();
            calls[i] += batches[i];
        }
    }
    spent
        .iter()
        .zip(&calls)
        .map(|(d, n)| d.as_secs_f64() * 1e6 / *n as f64)
        .collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One algorithm's keys, prepared once for both libraries, and a token.
struct Case {
    alg: SigningAlg,
    header: String,
    private: PrivateKey,
    public: PublicKey,
    jwt_header: Header,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    token: String,
}

impl Case {
    fn new(alg: SigningAlg, claims: &Value) -> Self {
        let kid = format!("bench-{alg}");
        let generated = keys::generate(alg).unwrap();
        let private = PrivateKey::from_pkcs8(alg, &generated.pkcs8).unwrap();
        let public = PublicKey::from_jwk(alg, &generated.public_jwk).unwrap();
        let header = jwt::encoded_header(alg, &kid);
        let pem = pem_of(&generated.pkcs8);
        let (jwt_alg, encoding) = match alg {
            SigningAlg::RS256 => (
                Algorithm::RS256,
                EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
            ),
            SigningAlg::ES256 => (
                Algorithm::ES256,
                EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            ),
            SigningAlg::EdDSA => (
                Algorithm::EdDSA,
                EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
            ),
        };
        let published: Jwk =
            serde_json::from_value(keys::published_jwk(&kid, alg, &generated.public_jwk)).unwrap();
        let decoding = DecodingKey::from_jwk(&published).unwrap();
        let mut jwt_header = Header::new(jwt_alg);
        jwt_header.kid = Some(kid);
        let mut validation = Validation::new(jwt_alg);
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.leeway = 30;
        let token = jwt::sign(&header, &private, claims).unwrap();

        let case = Self {
            alg,
            header,
            private,
            public,
            jwt_header,
            encoding,
            decoding,
            validation,
            token,
        };
        // Same keys, same tokens: each library verifies what the other signed.
        let theirs = case.jwt_sign(claims);
        assert!(case.heimdall_verify(&theirs), "{alg}: jsonwebtoken's token");
        assert!(case.jwt_verify(&case.token), "{alg}: Heimdall's token");
        assert!(case.heimdall_verify(&case.token));
        case
    }

    fn heimdall_sign(&self, claims: &Value) -> String {
        jwt::sign(&self.header, &self.private, claims).unwrap()
    }

    fn jwt_sign(&self, claims: &Value) -> String {
        jsonwebtoken::encode(&self.jwt_header, claims, &self.encoding).unwrap()
    }

    fn heimdall_verify(&self, token: &str) -> bool {
        let now = chrono::Utc::now().timestamp();
        jwt::decode_unverified(token)
            .and_then(|u| u.verify(&self.public))
            .and_then(|claims| jwt::validate_times(&claims, now, 30))
            .is_ok()
    }

    fn jwt_verify(&self, token: &str) -> bool {
        jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &self.validation).is_ok()
    }

    /// jsonwebtoken with Heimdall's RFC 8725 header checks in front.
    fn jwt_verify_checked(&self, token: &str) -> bool {
        jwt::decode_unverified(token).is_ok() && self.jwt_verify(token)
    }
}

fn main() {
    let rounds = env_or("BENCH_ROUNDS", 7).max(1) as usize;
    let budget = Duration::from_millis(env_or("BENCH_MILLIS", 600));
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "JWS sign/verify: Heimdall (src/crypto/jwt.rs) vs jsonwebtoken 10, both on aws-lc-rs; \
         one thread ({cores} cores), {rounds} rounds of {} ms per operation, medians",
        budget.as_millis()
    );

    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": "0192f0c4-5b7e-7c3a-9d21-6f0e8a4b2c11",
        "aid": "0192f0c4-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
        "sid": "0192f0c4-9f8e-7d6c-8b5a-4c3d2e1f0a9b",
        "role": "member",
        "type": "end_user",
        "iat": now,
        "exp": now + 3600,
        "iss": "https://auth.example.com/acme",
        "jti": "0192f0c4-0000-7000-8000-000000000001",
    });
    let cases: Vec<Case> = SigningAlg::ALL
        .into_iter()
        .map(|alg| Case::new(alg, &claims))
        .collect();

    // [case][measurement][round]: measurements are Heimdall sign, jsonwebtoken sign,
    // Heimdall verify, jsonwebtoken verify, jsonwebtoken verify behind the checks.
    let mut figures = vec![vec![Vec::<f64>::new(); 5]; cases.len()];
    for round in 0..rounds {
        for (c, case) in cases.iter().enumerate() {
            let sign = per_op(
                budget,
                &mut [
                    &mut || {
                        black_box(case.heimdall_sign(black_box(&claims)));
                    },
                    &mut || {
                        black_box(case.jwt_sign(black_box(&claims)));
                    },
                ],
            );
            let verify = per_op(
                budget,
                &mut [
                    &mut || assert!(case.heimdall_verify(black_box(&case.token))),
                    &mut || assert!(case.jwt_verify(black_box(&case.token))),
                    &mut || assert!(case.jwt_verify_checked(black_box(&case.token))),
                ],
            );
            let measured = sign.into_iter().chain(verify);
            for (m, value) in measured.into_iter().enumerate() {
                figures[c][m].push(value);
            }
        }
        eprintln!("  round {}/{rounds} done", round + 1);
    }

    println!();
    println!("| alg | operation | Heimdall µs/op | jsonwebtoken µs/op | jsonwebtoken / Heimdall |");
    println!("|---|---|---|---|---|");
    for (case, figures) in cases.iter().zip(figures.iter_mut()) {
        let [hs, js, hv, jv, jc] = [0, 1, 2, 3, 4].map(|m| median(&mut figures[m]));
        let alg = case.alg;
        println!("| {alg} | sign | {hs:.1} | {js:.1} | {:.2}× |", js / hs);
        println!("| {alg} | verify | {hv:.1} | {jv:.1} | {:.2}× |", jv / hv);
        println!(
            "| {alg} | verify, jsonwebtoken behind the RFC 8725 header checks | {hv:.1} | {jc:.1} | {:.2}× |",
            jc / hv
        );
    }
}
