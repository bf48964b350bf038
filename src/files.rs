//! Files that hold secrets — the SQLite database, its `-wal` and `-shm` files, the master key —
//! are readable by their owner only (mode 0600), whatever the umask.

use std::io::Write;
use std::path::Path;

/// Creates `path` empty with mode 0600 unless it exists. SQLite gives the `-wal`, `-shm` and
/// journal files it creates later the mode of the database file, so creating the database file
/// first is what keeps those private too.
pub fn create_private(path: &Path) -> std::io::Result<()> {
    match private_options().open(path) {
        Ok(_) => restrict(path),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes `contents` to a new file at `path` with mode 0600, all at once: readers never see it
/// partly written. `false` when `path` already exists, which is left as it was.
pub fn write_new_private(path: &Path, contents: &[u8]) -> std::io::Result<bool> {
    let mut suffix = [0u8; 8];
    aws_lc_rs::rand::fill(&mut suffix).map_err(|_| std::io::Error::other("no randomness"))?;
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.tmp", hex::encode(suffix)));
    let temporary = std::path::PathBuf::from(name);
    let written = (|| {
        let mut file = private_options().open(&temporary)?;
        restrict(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        // A link fails if `path` exists, where a rename would replace it.
        std::fs::hard_link(&temporary, path)
    })();
    let _ = std::fs::remove_file(&temporary);
    match written {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Takes the permissions of group and others away from `path` if it exists and has any: a file
/// an older version created with the umask's mode. A failure (a file owned by another account)
/// is logged, not fatal.
pub fn restrict_to_owner(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.permissions().mode() & 0o077 == 0 {
            return;
        }
        match restrict(path) {
            Ok(()) => {
                tracing::info!(file = %path.display(), "made the file readable by its owner only")
            }
            Err(e) => tracing::warn!(
                file = %path.display(),
                error = %e,
                "the file is readable by other users and its mode cannot be changed"
            ),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn private_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Sets mode 0600 exactly: the mode given at creation is still narrowed by the umask.
fn restrict(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_private_file_is_written_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        assert!(write_new_private(&path, b"one").unwrap());
        assert!(!write_new_private(&path, b"two").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_looser_file_is_restricted_to_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        restrict_to_owner(&path);
        assert_eq!(mode(&path), 0o600);
        create_private(&path).unwrap();
        let fresh = dir.path().join("fresh");
        create_private(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o600);
    }
}
