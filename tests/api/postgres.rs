//! A PostgreSQL cluster of a test's own, for tests that stop and start the database. Made with
//! `initdb` and `pg_ctl` in a temporary directory, on a free port, and stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

const PGBIN: &str = "/usr/lib/postgresql/15/bin";

pub struct PgCluster {
    dir: tempfile::TempDir,
    port: u16,
}

/// Whether PostgreSQL tests can run here. Without the binaries they are skipped with a note —
/// except under CI, where that is a failure.
pub fn available() -> bool {
    if Path::new(PGBIN).join("initdb").exists() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but there are no PostgreSQL binaries in {PGBIN}"
    );
    eprintln!("skipped: no PostgreSQL binaries in {PGBIN}");
    false
}

fn as_owner(program: &str) -> Command {
    let path: PathBuf = Path::new(PGBIN).join(program);
    // initdb refuses to run as root; the Debian package brings a postgres user.
    if Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
    {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(path);
        command
    } else {
        Command::new(path)
    }
}

impl PgCluster {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let _ = Command::new("chmod").arg("755").arg(dir.path()).status();
        let _ = Command::new("chown")
            .arg("postgres")
            .arg(dir.path())
            .status();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let status = as_owner("initdb")
            .arg("-D")
            .arg(dir.path().join("data"))
            .args(["-U", "porteiro", "--auth=trust", "-E", "UTF8"])
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let cluster = Self { dir, port };
        cluster.resume();
        cluster
    }

    pub fn url(&self) -> String {
        format!("postgres://porteiro@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> bool {
        as_owner("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(args)
            .output()
            .unwrap()
            .status
            .success()
    }

    /// Stops the server at once, as a crash or a lost network would.
    pub fn halt(&self) {
        assert!(
            self.pg_ctl(&["-m", "immediate", "-w", "stop"]),
            "pg_ctl stop failed"
        );
    }

    /// Starts the server on the same port and data.
    pub fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        let log = log.to_str().unwrap();
        assert!(
            self.pg_ctl(&["-l", log, "-w", "-t", "60", "-o", &options, "start"]),
            "pg_ctl start failed"
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.pg_ctl(&["-m", "immediate", "stop"]);
    }
}
