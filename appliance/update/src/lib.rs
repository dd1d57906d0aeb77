//! Updates of the appliance image, as the supervisor sees them.
//!
//! The supervisor runs as user `shofar` and may neither write a disk nor reboot.
//! It hands work to the root-run installer (the image's `shofar-update.path` and
//! `/usr/lib/shofar/install-update`, which runs RAUC) through one folder,
//! `DATA/updates`:
//!
//! | file | written by | meaning |
//! | --- | --- | --- |
//! | `install.raucb` | [`Updates::submit`] | a bundle to check and install into the other slot |
//! | `reboot` | [`Updates::request_reboot`] | the admin confirmed: reboot into it |
//! | `status` | the installer | `KEY=value` lines: what happened last ([`LastUpdate`]) |
//!
//! **Guarantee:** a bundle appears under its final name only whole (written
//! beside it, synced, then renamed), so the installer never starts on a partial
//! file; a second submission while one waits replaces it, never mixes with it.
//! Nothing here decides whether a bundle is good: the installer checks its
//! signature, what it is for and its version, and says why it refused.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Where the image says an installer is present: RAUC's configuration.
const RAUC_SYSTEM_CONF: &str = "/etc/rauc/system.conf";
/// The image's release file (`SHOFAR_VERSION=…`, `SHOFAR_BUILT=…`).
const RELEASE_FILE: &str = "/usr/lib/shofar/release";

/// An update operation that could not be done.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// This machine has no installer: it is not the appliance image.
    #[error(
        "this machine does not run the appliance image (no {RAUC_SYSTEM_CONF}): \
         on a server, upgrade the package instead (apt install ./shofar_VERSION_amd64.deb)"
    )]
    NotAnAppliance,
    /// A reboot was asked for with nothing installed to reboot into.
    #[error("nothing is installed to reboot into: install an update first")]
    NothingInstalled,
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> UpdateError {
    let path = path.to_owned();
    move |source| UpdateError::Io {
        action,
        path,
        source,
    }
}

/// What the installer did last, from its `status` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastUpdate {
    pub state: UpdateState,
    /// In words, for the admin (English; the installer writes it).
    pub message: String,
    /// The bundle's version, when it was read.
    pub version: Option<String>,
    /// When, as the installer wrote it (UTC, RFC 3339).
    pub at: Option<String>,
}

/// Where an update is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateState {
    /// Submitted; the installer has not started on it yet.
    Waiting,
    /// Its signature and manifest are being checked.
    Checking,
    /// Being written into the other slot.
    Installing,
    /// In the other slot: a reboot starts it.
    Installed,
    /// Not installed: not trusted, for another box, or not newer.
    Refused,
    /// Not installed: RAUC failed while writing.
    Failed,
}

impl UpdateState {
    fn parse(text: &str) -> Option<UpdateState> {
        Some(match text {
            "checking" => UpdateState::Checking,
            "installing" => UpdateState::Installing,
            "installed" => UpdateState::Installed,
            "refused" => UpdateState::Refused,
            "failed" => UpdateState::Failed,
            _ => return None,
        })
    }

    /// Whether the installer is done with it (nothing more will change).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            UpdateState::Installed | UpdateState::Refused | UpdateState::Failed
        )
    }
}

/// What runs now: the image's version and the root slot it booted from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Running {
    /// The image's version (its package version), when the image says it.
    pub version: Option<String>,
    /// `A` or `B`, from the kernel's command line (`rauc.slot=`).
    pub slot: Option<String>,
}

/// The updates folder of a data directory.
#[derive(Debug, Clone)]
pub struct Updates {
    dir: PathBuf,
    system_conf: PathBuf,
}

impl Updates {
    /// The updates of the box whose data directory is `data_dir`.
    pub fn new(data_dir: &Path) -> Updates {
        Updates {
            dir: data_dir.join("updates"),
            system_conf: PathBuf::from(RAUC_SYSTEM_CONF),
        }
    }

    /// As [`Updates::new`], with RAUC's configuration elsewhere (tests).
    pub fn with_system_conf(data_dir: &Path, system_conf: &Path) -> Updates {
        Updates {
            dir: data_dir.join("updates"),
            system_conf: system_conf.to_owned(),
        }
    }

    /// Whether this machine can install updates (the appliance image).
    pub fn available(&self) -> bool {
        self.system_conf.exists()
    }

    fn require_installer(&self) -> Result<(), UpdateError> {
        if self.available() {
            Ok(())
        } else {
            Err(UpdateError::NotAnAppliance)
        }
    }

    /// Hands `bundle` to the installer (see the module doc). Returns its size.
    pub fn submit(&self, bundle: &mut dyn Read) -> Result<u64, UpdateError> {
        self.require_installer()?;
        std::fs::create_dir_all(&self.dir).map_err(io_error("cannot create", &self.dir))?;
        let partial = self.dir.join("install.raucb.partial");
        let target = self.dir.join("install.raucb");
        let mut file = File::create(&partial).map_err(io_error("cannot write", &partial))?;
        let bytes = io::copy(bundle, &mut file).map_err(io_error("cannot write", &partial))?;
        file.sync_all()
            .map_err(io_error("cannot write", &partial))?;
        drop(file);
        // Waiting from now on: an older status must not be read as this bundle's.
        self.write_waiting()?;
        std::fs::rename(&partial, &target).map_err(io_error("cannot hand over", &target))?;
        Ok(bytes)
    }

    fn write_waiting(&self) -> Result<(), UpdateError> {
        let status = self.dir.join("status");
        let temporary = self.dir.join("status.submitted");
        let mut file = File::create(&temporary).map_err(io_error("cannot write", &temporary))?;
        file.write_all(b"state=waiting\nmessage=waiting for the installer to start\n")
            .map_err(io_error("cannot write", &temporary))?;
        drop(file);
        std::fs::rename(&temporary, &status).map_err(io_error("cannot write", &status))
    }

    /// What the installer did last; `None` when nothing was ever submitted.
    pub fn last(&self) -> Result<Option<LastUpdate>, UpdateError> {
        let path = self.dir.join("status");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io_error("cannot read", &path)(error)),
        };
        Ok(Some(parse_status(&text)))
    }

    /// Asks the installer to reboot into the installed slot.
    pub fn request_reboot(&self) -> Result<(), UpdateError> {
        self.require_installer()?;
        match self.last()? {
            Some(last) if last.state == UpdateState::Installed => {}
            _ => return Err(UpdateError::NothingInstalled),
        }
        let path = self.dir.join("reboot");
        File::create(&path).map_err(io_error("cannot write", &path))?;
        Ok(())
    }
}

/// The installer's `status` file. An unknown or missing state reads as
/// `waiting` (a file being written), never as done.
fn parse_status(text: &str) -> LastUpdate {
    let value = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_owned)
            .filter(|value| !value.is_empty())
    };
    LastUpdate {
        state: value("state")
            .and_then(|state| UpdateState::parse(&state))
            .unwrap_or(UpdateState::Waiting),
        message: value("message").unwrap_or_default(),
        version: value("version"),
        at: value("at"),
    }
}

/// What runs now (see [`Running`]).
pub fn running() -> Running {
    running_from(
        &std::fs::read_to_string("/proc/cmdline").unwrap_or_default(),
        &std::fs::read_to_string(RELEASE_FILE).unwrap_or_default(),
    )
}

fn running_from(cmdline: &str, release: &str) -> Running {
    Running {
        version: release
            .lines()
            .find_map(|line| line.strip_prefix("SHOFAR_VERSION="))
            .map(str::to_owned),
        slot: cmdline
            .split_whitespace()
            .find_map(|word| word.strip_prefix("rauc.slot="))
            .map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn box_with_installer() -> (tempfile::TempDir, Updates) {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("system.conf");
        std::fs::write(&conf, "[system]\ncompatible=shofar-x86_64\n").unwrap();
        let updates = Updates::with_system_conf(&dir.path().join("data"), &conf);
        (dir, updates)
    }

    #[test]
    fn a_bundle_appears_whole_and_the_state_is_waiting() {
        let (_dir, updates) = box_with_installer();
        let bytes = updates.submit(&mut &b"bundle bytes"[..]).unwrap();
        assert_eq!(bytes, 12);
        assert_eq!(
            std::fs::read(updates.dir.join("install.raucb")).unwrap(),
            b"bundle bytes"
        );
        assert!(!updates.dir.join("install.raucb.partial").exists());
        assert_eq!(updates.last().unwrap().unwrap().state, UpdateState::Waiting);
    }

    #[test]
    fn without_an_installer_nothing_is_written_and_the_error_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let updates = Updates::with_system_conf(dir.path(), &dir.path().join("none.conf"));
        let error = updates.submit(&mut &b"x"[..]).unwrap_err();
        assert!(matches!(error, UpdateError::NotAnAppliance));
        assert!(error.to_string().contains("apt install"), "{error}");
        assert!(!dir.path().join("updates").exists());
        assert!(!updates.available());
    }

    #[test]
    fn the_installers_status_is_read_back() {
        let (_dir, updates) = box_with_installer();
        assert_eq!(updates.last().unwrap(), None);
        std::fs::create_dir_all(&updates.dir).unwrap();
        std::fs::write(
            updates.dir.join("status"),
            "state=refused\nmessage=not installed: the bundle is for other-box, this box is shofar-x86_64\n\
             version=0.2.0+7\nat=2026-12-07T10:00:00Z\n",
        )
        .unwrap();
        let last = updates.last().unwrap().unwrap();
        assert_eq!(last.state, UpdateState::Refused);
        assert!(last.state.is_final());
        assert_eq!(last.version.as_deref(), Some("0.2.0+7"));
        assert!(last.message.contains("other-box"));
    }

    #[test]
    fn an_unknown_or_missing_state_is_not_taken_as_done() {
        for text in [
            "",
            "state=\n",
            "state=exploded\nmessage=x\n",
            "message=half written",
        ] {
            let last = parse_status(text);
            assert_eq!(last.state, UpdateState::Waiting, "{text:?}");
            assert!(!last.state.is_final());
        }
    }

    #[test]
    fn a_reboot_is_asked_for_only_when_an_update_is_installed() {
        let (_dir, updates) = box_with_installer();
        assert!(matches!(
            updates.request_reboot(),
            Err(UpdateError::NothingInstalled)
        ));
        updates.submit(&mut &b"b"[..]).unwrap();
        assert!(matches!(
            updates.request_reboot(),
            Err(UpdateError::NothingInstalled)
        ));
        std::fs::write(updates.dir.join("status"), "state=installed\nmessage=ok\n").unwrap();
        updates.request_reboot().unwrap();
        assert!(updates.dir.join("reboot").exists());
    }

    #[test]
    fn the_running_slot_and_version_come_from_the_kernel_and_the_image() {
        let running = running_from(
            "BOOT_IMAGE=/vmlinuz root=PARTLABEL=rootfs-b ro rauc.slot=B console=ttyS0",
            "SHOFAR_VERSION=0.1.0+150\nSHOFAR_BUILT=2026-12-07T12:00:00Z\n",
        );
        assert_eq!(running.slot.as_deref(), Some("B"));
        assert_eq!(running.version.as_deref(), Some("0.1.0+150"));
        assert_eq!(
            running_from("ro quiet", ""),
            Running {
                version: None,
                slot: None
            }
        );
    }
}
