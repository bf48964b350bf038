//! Micro-benchmarks of the hot paths under a request: signing and verifying an access token for
//! each algorithm, the integration secret check, and the login throttle's counters on SQLite.
//! Run with `cargo bench --bench micro`; bench/README.md explains each benchmark and its figures.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use secrecy::SecretString;
use tokio::runtime::Runtime;

use porteiro::auth::keys::Keys;
use porteiro::auth::throttle::Throttle;
use porteiro::config::{Algorithm, LockoutSettings};
use porteiro::domain::SecretKey;
use porteiro::store::Store;
use porteiro::tokens::claims::random_id;
use porteiro::tokens::master::MasterKey;
use porteiro::tokens::{Claims, KeyRing, TokenType, Tokens};

const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::RS256,
    Algorithm::HS256,
];
const ISSUER: &str = "http://127.0.0.1:8080";
const ACCESS_LIFETIME: i64 = 3600;
const LEEWAY: i64 = 0;
/// Tokens verified by one verifier before a fresh one (with an empty cache) takes over.
const COLD_POOL: usize = 1_000;

/// A fresh SQLite database in a temporary directory, migrated as the server would.
struct Database {
    store: Store,
    _dir: tempfile::TempDir,
}

fn database(rt: &Runtime) -> Database {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}/porteiro.db", dir.path().display());
    let store = rt
        .block_on(Store::connect(
            &url,
            4,
            Duration::from_secs(5),
            Default::default(),
        ))
        .expect("the benchmark database opens");
    Database { store, _dir: dir }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// The master key the benchmark database's keys are sealed under.
fn bench_master_key() -> MasterKey {
    MasterKey::from_bytes([7; 32])
}

fn hs256_secret() -> SecretString {
    SecretString::from("a benchmark secret of more than thirty-two bytes".to_owned())
}

/// Signs and verifies as `Application::build` sets it up: a ring loaded from the store, with a
/// signing key created on first use. Each call returns a new `Tokens`, so a new, empty cache.
fn tokens(rt: &Runtime, store: &Store, algorithm: Algorithm, now: i64) -> Tokens {
    let secret = hs256_secret();
    let ring = KeyRing::new(
        algorithm,
        ACCESS_LIFETIME,
        Some(&secret),
        bench_master_key(),
    );
    rt.block_on(Keys::of_ring(store, &ring).ensure_signing_key(&ring, now))
        .expect("a signing key");
    Tokens::new(ring, algorithm, ISSUER.to_owned(), LEEWAY)
}

/// The claims of a user's access token, as `auth::issue` builds them, with a fresh `jti`.
fn access_claims(now: i64) -> Claims {
    Claims {
        token_type: TokenType::Access,
        exp: now + ACCESS_LIFETIME,
        iat: now,
        jti: random_id(),
        iss: ISSUER.to_owned(),
        sub: "42".to_owned(),
        sid: random_id(),
        org_id: 7,
        user_id: Some(42),
        client_id: None,
        id: None,
        scope: None,
        aud: None,
    }
}

fn signing_and_verification(c: &mut Criterion) {
    let rt = Runtime::new().expect("a tokio runtime");
    let db = database(&rt);
    let now = now();
    let signers: Vec<_> = ALGORITHMS
        .iter()
        .map(|&alg| (alg, tokens(&rt, &db.store, alg, now)))
        .collect();

    let mut sign = c.benchmark_group("sign");
    for (alg, tokens) in &signers {
        let claims = access_claims(now);
        sign.bench_function(alg.as_str(), |b| {
            b.iter(|| tokens.sign(black_box(&claims), now).expect("signs"));
        });
    }
    sign.finish();

    let mut verify = c.benchmark_group("verify");
    for (alg, tokens) in &signers {
        let token = tokens.sign(&access_claims(now), now).expect("signs");
        tokens.verify(&token, now).expect("verifies");
        verify.bench_function(format!("{}/cache_hit", alg.as_str()), |b| {
            b.iter(|| tokens.verify(black_box(&token), now).expect("verifies"));
        });

        // Distinct tokens, each verified once, by a verifier whose cache is empty when it starts:
        // the cost of a token's first presentation, including its insertion into the cache.
        let pool: Vec<String> = (0..COLD_POOL)
            .map(|_| tokens.sign(&access_claims(now), now).expect("signs"))
            .collect();
        verify.bench_function(format!("{}/cold_distinct_tokens", alg.as_str()), |b| {
            b.iter_custom(|iters| {
                let mut measured = Duration::ZERO;
                let mut left = iters as usize;
                while left > 0 {
                    // Built outside the timed part; it loads the same keys from the store.
                    let verifier = tokens_from_store(&rt, &db.store, *alg);
                    let batch = &pool[..left.min(pool.len())];
                    let start = Instant::now();
                    for token in batch {
                        black_box(verifier.verify(black_box(token), now).expect("verifies"));
                    }
                    measured += start.elapsed();
                    left -= batch.len();
                }
                measured
            });
        });
    }
    verify.finish();
}

/// A verifier over the keys already in the store, with an empty cache.
fn tokens_from_store(rt: &Runtime, store: &Store, algorithm: Algorithm) -> Tokens {
    let secret = hs256_secret();
    let ring = KeyRing::new(
        algorithm,
        ACCESS_LIFETIME,
        Some(&secret),
        bench_master_key(),
    );
    rt.block_on(Keys::of_ring(store, &ring).reload(&ring))
        .expect("the keys load");
    Tokens::new(ring, algorithm, ISSUER.to_owned(), LEEWAY)
}

fn secret_check(c: &mut Criterion) {
    let secret = SecretKey::generate();
    let stored = secret.digest();
    let other = SecretKey::generate();
    let mut group = c.benchmark_group("secret");
    group.bench_function("matches", |b| {
        b.iter(|| assert!(black_box(&secret).matches(black_box(&stored))));
    });
    group.bench_function("does_not_match", |b| {
        b.iter(|| assert!(!black_box(&other).matches(black_box(&stored))));
    });
    group.finish();
}

fn throttle_check(c: &mut Criterion) {
    let rt = Runtime::new().expect("a tokio runtime");
    let db = database(&rt);
    let throttle = Throttle::new(
        db.store.clone(),
        // The defaults of CONTRACT §5.
        LockoutSettings {
            account_failures: 5,
            account_backstop: 100,
            address_failures: 50,
            window: Duration::from_secs(15 * 60),
            duration: Duration::from_secs(15 * 60),
        },
        [7; 32],
    );
    let now = now();
    let address = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    // The peek path is the integrations' (see `Throttle::peek`).
    let clean = throttle.integration_keys("clean", address);
    let failed_once = throttle.integration_keys("failed", IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
    rt.block_on(throttle.failed(&failed_once, now))
        .expect("counts");
    // References, so that each iteration's future can own a copy.
    let (throttle, clean, failed_once) = (&throttle, &clean, &failed_once);

    let mut group = c.benchmark_group("throttle");
    // A pair never seen before: the counters are read from the database (nothing is memoized
    // for it yet), and find nothing.
    let mut fresh: u32 = 0;
    group.bench_function("peek/new_clear_pair", |b| {
        b.to_async(&rt).iter_batched(
            || {
                fresh += 1;
                throttle.integration_keys(&format!("peek{fresh}"), address)
            },
            |keys| async move {
                let peek = throttle.peek(&keys, now).await.expect("peeks");
                assert!(peek.locked.is_none() && !peek.account_failed);
            },
            BatchSize::SmallInput,
        );
    });
    // The same clear pair again, as a client that succeeds keeps asking: whatever `peek` does
    // for a repeat within the same second (a database read, or a remembered answer).
    group.bench_function("peek/same_clear_pair", |b| {
        b.to_async(&rt).iter(|| async move {
            let peek = throttle.peek(black_box(clean), now).await.expect("peeks");
            assert!(peek.locked.is_none() && !peek.account_failed);
        });
    });
    group.bench_function("peek/account_with_a_failure", |b| {
        b.to_async(&rt).iter(|| async move {
            let peek = throttle
                .peek(black_box(failed_once), now)
                .await
                .expect("peeks");
            assert!(peek.locked.is_none() && peek.account_failed);
        });
    });
    // Each failure on an account and an address not seen before: two counter inserts, in one
    // statement.
    let mut n: u32 = 0;
    group.bench_function("failed/new_counters", |b| {
        b.to_async(&rt).iter_batched(
            || {
                n += 1;
                throttle.integration_keys(&format!("client{n}"), IpAddr::V4(Ipv4Addr::from(n)))
            },
            |keys| async move { throttle.failed(&keys, now).await.expect("counts") },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(
    benches,
    signing_and_verification,
    secret_check,
    throttle_check
);
criterion_main!(benches);
