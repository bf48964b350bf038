//! Password hashing: argon2id on a fixed set of worker threads, one per core, each hash in argon2
//! memory reused from the hash before (and freed a second or two after the last login),
//! behind a bounded queue. A flood of logins waits in the queue — or is turned away at once when
//! it is full — and never occupies the async workers that serve refreshes and bearer checks;
//! memory stays at (threads × the argon2 memory) however many logins arrive, instead of one
//! fresh allocation per hash that the allocator may keep.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Argon2, Block, Params};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{mpsc, oneshot};

use super::AuthError;
use crate::config::Argon2Settings;

/// How many logins may wait for a hashing thread before new ones get a quick 503.
const MAX_WAITING: usize = 64;
/// How often idle argon2 memory is looked for: memory unused through one whole period is freed,
/// so an idle server stays small, and a login after a quiet spell pays for one fresh allocation.
const RELEASE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);
/// The length of the hash output, argon2's default.
const OUTPUT_LEN: usize = 32;
/// Argon2 memory is allocated at least this large, of which only what the parameters need is
/// ever touched (and resident). glibc gives an allocation above its largest mmap threshold
/// (32 MiB) a mapping of its own and returns it to the system when it is freed. A 19 MiB block
/// would instead come from a thread's heap once the first one had been freed (glibc raises its
/// threshold then), and that memory would stay with the process: 31 MiB idle after one login
/// instead of 12. (The `porteiro` binary allocates with jemalloc, which serves any allocation
/// above 8 MiB from an arena of its own and returns it as promptly; this is for glibc, which
/// the library's other users, the tests among them, allocate with.)
const MIN_ALLOCATION: usize = 33 << 20;

fn params(settings: Argon2Settings) -> Params {
    Params::new(
        settings.memory_kib,
        settings.iterations,
        settings.parallelism,
        Some(OUTPUT_LEN),
    )
    .expect("argon2 parameters are checked when settings are resolved")
}

fn argon2id(params: Params) -> Argon2<'static> {
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Runs argon2id into `out` in `memory`, grown to the size the parameters need and kept for the
/// next hash: allocated at the first login, not at start, so an idle server stays small.
fn compute(
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> anyhow::Result<()> {
    let needed = params.block_count();
    if memory.len() < needed {
        let blocks = needed.max(MIN_ALLOCATION / size_of::<Block>());
        memory.reserve_exact(blocks - memory.len());
        memory.resize(needed, Block::default());
    }
    argon2id(params)
        .hash_password_into_with_memory(password, salt, out, &mut memory[..needed])
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), using `memory`.
fn hash_with(
    password: &SecretString,
    settings: Argon2Settings,
    memory: &mut Vec<Block>,
) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| anyhow::anyhow!("no randomness"))?;
    let params = params(settings);
    let mut out = [0u8; OUTPUT_LEN];
    compute(
        params.clone(),
        password.expose_secret().as_bytes(),
        &salt,
        &mut out,
        memory,
    )?;
    phc_string(&params, &salt, &out)
}

/// A PHC string at `settings` whose salt and output are random: checking any password against it
/// costs a full hash and never matches. Made without hashing, so that starting costs neither the
/// time nor the argon2 memory of a hash.
fn dummy_hash(settings: Argon2Settings) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    let mut out = [0u8; OUTPUT_LEN];
    let none = |_| anyhow::anyhow!("no randomness");
    aws_lc_rs::rand::fill(&mut salt).map_err(none)?;
    aws_lc_rs::rand::fill(&mut out).map_err(none)?;
    phc_string(&params(settings), &salt, &out)
}

/// `$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
fn phc_string(params: &Params, salt: &[u8], out: &[u8]) -> anyhow::Result<String> {
    let err = |e: argon2::password_hash::Error| anyhow::anyhow!("{e}");
    let salt = SaltString::encode_b64(salt).map_err(err)?;
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(argon2::Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(err)?,
        salt: Some(Salt::from(&salt)),
        hash: Some(Output::new(out).map_err(err)?),
    };
    Ok(hash.to_string())
}

/// Hashes a password on the current thread: for the command line.
pub fn hash_password(password: &SecretString, settings: Argon2Settings) -> anyhow::Result<String> {
    hash_with(password, settings, &mut Vec::new())
}

/// Whether `password` matches the PHC string `stored`; the comparison is constant-time.
fn verify_with(
    password: &SecretString,
    stored: &PasswordHash<'_>,
    memory: &mut Vec<Block>,
) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return false;
    };
    if stored.algorithm != argon2::ARGON2ID_IDENT {
        return false;
    }
    let Ok(params) = Params::try_from(stored) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if compute(
        params,
        password.expose_secret().as_bytes(),
        salt,
        &mut out,
        memory,
    )
    .is_err()
    {
        return false;
    }
    Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// How much the hashing threads step back when the cores are contended, as a nice value: with
/// every core hashing during a login flood, a bearer check or a refresh still gets a core at once
/// (the scheduler weighs a nice-10 thread at a tenth of a normal one), while logins keep the
/// cores whenever nothing else wants them. Logins wait in the queue; the requests that take
/// microseconds do not wait behind a hash that takes tens of milliseconds.
const HASHING_NICENESS: i32 = 10;

/// Lowers the calling thread's scheduling priority; Linux keeps a nice value per thread.
fn yield_to_requests() {
    #[cfg(target_os = "linux")]
    {
        let thread = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(thread), HASHING_NICENESS) {
            tracing::debug!(error = %e, "could not lower the hashing thread's priority");
        }
    }
}

/// The result of checking a password against a stored hash.
#[derive(Debug)]
pub struct Checked {
    pub matches: bool,
    /// A fresh hash at the current parameters, when the password matched a hash made with any
    /// other ones (see [`needs_rehash`]).
    pub rehash: Option<String>,
}

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

pub struct PasswordHasher {
    settings: Argon2Settings,
    jobs: mpsc::Sender<Job>,
    in_flight: Arc<AtomicUsize>,
    /// A hash of a random password at the current parameters: unknown users are checked against
    /// it, so they cost the same time as known ones.
    dummy: Arc<str>,
}

/// Counts a job from the moment it is queued until it is done (or dropped unrun).
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Argon2 memory blocks not in use by a hash.
type Pool = Mutex<Vec<Vec<Block>>>;
type Buffers = Arc<Pool>;

fn lock(buffers: &Pool) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
    buffers.lock().unwrap_or_else(|e| e.into_inner())
}

/// Frees the unused argon2 memory once no hash has started or finished for [`RELEASE_AFTER`];
/// stops when the hasher is dropped.
async fn release_when_idle(
    buffers: std::sync::Weak<Pool>,
    hashed: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
) {
    let mut last = hashed.load(Ordering::Relaxed);
    loop {
        tokio::time::sleep(RELEASE_AFTER).await;
        let Some(buffers) = buffers.upgrade() else {
            return;
        };
        let now = hashed.load(Ordering::Relaxed);
        if now == last && in_flight.load(Ordering::Relaxed) == 0 {
            lock(&buffers).clear();
        }
        last = now;
    }
}

impl PasswordHasher {
    /// Starts `threads` hashing threads.
    pub fn new(settings: Argon2Settings, threads: usize) -> anyhow::Result<Self> {
        let (jobs, receiver) = mpsc::channel::<Job>(MAX_WAITING);
        let receiver = Arc::new(Mutex::new(receiver));
        // The argon2 memory of the hashing threads: at most one block per thread, reused while
        // logins keep coming, freed by `release_when_idle` once they stop.
        let buffers: Buffers = Arc::default();
        let hashed = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            let buffers = buffers.clone();
            let hashed = hashed.clone();
            std::thread::Builder::new()
                .name(format!("porteiro-hash-{i}"))
                .spawn(move || {
                    yield_to_requests();
                    loop {
                        // One thread waits for the next job; the others wait for the lock.
                        let job = receiver
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .blocking_recv();
                        let Some(job) = job else { break };
                        let mut memory = lock(&buffers).pop().unwrap_or_default();
                        job(&mut memory);
                        lock(&buffers).push(memory);
                        hashed.fetch_add(1, Ordering::Relaxed);
                    }
                })?;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(release_when_idle(
                Arc::downgrade(&buffers),
                hashed,
                in_flight.clone(),
            ));
        }
        let dummy = dummy_hash(settings)?;
        Ok(Self {
            settings,
            jobs,
            in_flight,
            dummy: dummy.into(),
        })
    }

    /// A place in the queue, or `Busy` at once when it is full. Taken before anything else is
    /// done for a login, so that a flood beyond the hashing capacity is turned away without
    /// touching the database.
    pub fn reserve(&self) -> Result<Slot<'_>, AuthError> {
        let permit = self.jobs.try_reserve().map_err(|_| AuthError::Busy)?;
        Ok(Slot {
            permit,
            hasher: self,
        })
    }

    /// Logins hashing now or waiting for a thread.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no account.
    pub async fn check(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<Checked, AuthError> {
        self.reserve()?.check(password, stored).await
    }

    /// Hashes a new password on the pool.
    pub async fn hash(&self, password: SecretString) -> Result<String, AuthError> {
        self.reserve()?.hash(password).await
    }
}

/// A reserved place in the hashing queue, for one job.
pub struct Slot<'a> {
    permit: mpsc::Permit<'a, Job>,
    hasher: &'a PasswordHasher,
}

impl Slot<'_> {
    /// Queues `work` for a hashing thread and waits for its result.
    async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let (sender, receiver) = oneshot::channel();
        let in_flight = &self.hasher.in_flight;
        in_flight.fetch_add(1, Ordering::Relaxed);
        let counted = InFlight(in_flight.clone());
        self.permit.send(Box::new(move |memory| {
            let _counted = counted;
            let _ = sender.send(work(memory));
        }));
        receiver
            .await
            .map_err(|_| AuthError::Internal(anyhow::anyhow!("a hashing thread stopped")))
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no account.
    pub async fn check(
        self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<Checked, AuthError> {
        let settings = self.hasher.settings;
        let known = stored.is_some();
        let hash: String = stored.unwrap_or_else(|| self.hasher.dummy.to_string());
        self.run(move |memory| {
            let Ok(parsed) = PasswordHash::new(&hash) else {
                return Checked {
                    matches: false,
                    rehash: None,
                };
            };
            // An unknown account is checked against the dummy too: the same work, never a match.
            let matches = verify_with(&password, &parsed, memory) && known;
            let rehash = (matches && needs_rehash(&parsed, settings))
                .then(|| hash_with(&password, settings, memory).ok())
                .flatten();
            Checked { matches, rehash }
        })
        .await
    }

    /// Hashes a new password.
    pub async fn hash(self, password: SecretString) -> Result<String, AuthError> {
        let settings = self.hasher.settings;
        self.run(move |memory| hash_with(&password, settings, memory))
            .await?
            .map_err(AuthError::Internal)
    }
}

/// Whether a stored hash was made otherwise than a new one would be: another algorithm or
/// version, or other cost parameters — weaker ones, which an attacker would crack faster, but
/// also stronger ones: unknown users are checked against a dummy hash at the current parameters,
/// so a real user whose hash costs more (or less) than that could be told apart by timing. Each
/// user's hash is brought to the current parameters at their next successful login.
fn needs_rehash(hash: &PasswordHash<'_>, settings: Argon2Settings) -> bool {
    let Ok(params) = Params::try_from(hash) else {
        return true;
    };
    hash.algorithm != argon2::ARGON2ID_IDENT
        || hash.version != Some(argon2::Version::V0x13.into())
        || hash.hash.is_none_or(|h| h.len() != OUTPUT_LEN)
        || params.m_cost() != settings.memory_kib
        || params.t_cost() != settings.iterations
        || params.p_cost() != settings.parallelism
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Argon2Settings = Argon2Settings {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hasher = PasswordHasher::new(CHEAP, 2).unwrap();
        let hash = hasher
            .hash(SecretString::from("correct horse"))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        let ok = hasher
            .check(SecretString::from("correct horse"), Some(hash.clone()))
            .await
            .unwrap();
        assert!(ok.matches && ok.rehash.is_none());
        let bad = hasher
            .check(SecretString::from("correct horse "), Some(hash))
            .await
            .unwrap();
        assert!(!bad.matches);
    }

    #[tokio::test]
    async fn an_unknown_account_never_matches_even_the_dummy_password() {
        let hasher = PasswordHasher::new(CHEAP, 1).unwrap();
        let checked = hasher
            .check(SecretString::from("anything"), None)
            .await
            .unwrap();
        assert!(!checked.matches);
    }

    #[test]
    fn hashes_interoperate_with_the_argon2_crates_own_verifier() {
        use argon2::password_hash::PasswordVerifier;
        let hash = hash_password(&SecretString::from("interop-123"), CHEAP).unwrap();
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"interop-123", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"interop-124", &parsed)
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_hash_with_weaker_parameters_is_rehashed_on_success() {
        let old = hash_password(&SecretString::from("pw-123456"), CHEAP).unwrap();
        let stronger = Argon2Settings {
            memory_kib: 2048,
            ..CHEAP
        };
        let hasher = PasswordHasher::new(stronger, 1).unwrap();
        let checked = hasher
            .check(SecretString::from("pw-123456"), Some(old))
            .await
            .unwrap();
        assert!(checked.matches);
        assert!(checked.rehash.unwrap().contains("m=2048"));
    }

    #[tokio::test]
    async fn a_hash_with_stronger_parameters_is_rehashed_on_success_too() {
        let stronger = Argon2Settings {
            memory_kib: 2048,
            iterations: 2,
            ..CHEAP
        };
        let old = hash_password(&SecretString::from("pw-123456"), stronger).unwrap();
        let hasher = PasswordHasher::new(CHEAP, 1).unwrap();
        let checked = hasher
            .check(SecretString::from("pw-123456"), Some(old))
            .await
            .unwrap();
        assert!(checked.matches);
        assert!(checked.rehash.unwrap().contains("m=1024,t=1,p=1"));
    }
}
