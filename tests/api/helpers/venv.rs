//! Python virtual environments for the tests that drive independent implementations (authlib,
//! Django): made once per target directory from PyPI, and again when their requirements change.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The interpreter of `target/<name>`, a virtual environment with `requirements` installed.
pub fn python_venv(name: &str, requirements: &Path) -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(name);
    let python = venv.join("bin/python");
    let marker = venv.join("installed.txt");
    let wanted = std::fs::read_to_string(requirements).unwrap();
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted.as_str()) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status();
        assert!(made.is_ok_and(|s| s.success()), "python3 -m venv failed");
        let installed = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(requirements)
            .status();
        assert!(installed.is_ok_and(|s| s.success()), "pip install failed");
        std::fs::write(&marker, wanted).unwrap();
    }
    python
}
