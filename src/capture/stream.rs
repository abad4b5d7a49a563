//! A snapshot streamed to disk as it arrives: `DIR/NAME.heapsnapshot.part`, readable by its
//! owner only (a heap holds tokens, passwords, customer data), renamed to `NAME.heapsnapshot`
//! once complete and on disk, removed on any error. Memory stays at one chunk and one write
//! buffer whatever the snapshot's size.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{CaptureError, Session};
use crate::format;
use crate::task::Hooks;

/// Large writes without holding much: the chunks are about 1 MB each anyway.
const WRITE_BUFFER: usize = 1 << 20;

/// A snapshot being written.
pub struct SnapshotFile {
    path: PathBuf,
    part: PathBuf,
    file: Option<BufWriter<File>>,
    bytes: u64,
    finished: bool,
}

/// A snapshot written completely.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedSnapshot {
    pub path: PathBuf,
    pub bytes: u64,
    pub elapsed: Duration,
}

impl SnapshotFile {
    /// Starts `DIR/NAME.heapsnapshot.part` (a stale one from an interrupted run is replaced).
    pub fn create(dir: &Path, name: &str) -> Result<SnapshotFile, CaptureError> {
        let path = dir.join(format!("{name}.heapsnapshot"));
        let part = dir.join(format!("{name}.heapsnapshot.part"));
        let err = |what, source| CaptureError::File {
            path: part.clone(),
            what,
            source,
        };
        match fs::remove_file(&part) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(err("cannot replace a stale partial file", e));
            }
            _ => {}
        }
        let mut options = OpenOptions::new();
        // create_new: O_EXCL, so a symlink planted under the name is never followed.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&part).map_err(|e| err("cannot create", e))?;
        Ok(SnapshotFile {
            path,
            part,
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            bytes: 0,
            finished: false,
        })
    }

    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn write(&mut self, chunk: &str) -> Result<(), CaptureError> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.write_all(chunk.as_bytes())
            .map_err(|e| CaptureError::File {
                path: self.part.clone(),
                what: "cannot write",
                source: e,
            })?;
        self.bytes += chunk.len() as u64;
        Ok(())
    }

    /// Flushes and syncs (a full disk may only say so here), then renames to the final name.
    pub fn finish(mut self) -> Result<PathBuf, CaptureError> {
        let err = |what, source| CaptureError::File {
            path: self.part.clone(),
            what,
            source,
        };
        let Some(file) = self.file.take() else {
            return Ok(self.path.clone());
        };
        let file = file
            .into_inner()
            .map_err(|e| err("cannot write", e.into_error()))?;
        file.sync_all().map_err(|e| err("cannot write", e))?;
        drop(file);
        fs::rename(&self.part, &self.path).map_err(|e| err("cannot rename", e))?;
        if let Some(dir) = self.path.parent()
            && let Ok(d) = File::open(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            })
        {
            // The rename itself survives a crash only once the directory is synced.
            let _ = d.sync_all();
        }
        self.finished = true;
        Ok(self.path.clone())
    }
}

impl Drop for SnapshotFile {
    fn drop(&mut self) {
        // Not finished: never leave half a snapshot behind.
        if !self.finished {
            drop(self.file.take());
            let _ = fs::remove_file(&self.part);
        }
    }
}

/// How a snapshot in progress can be stopped.
#[derive(Clone, Copy)]
pub enum Stop<'a> {
    /// The hooks' cancel flag ends the session's request at once (the command line: Ctrl-C
    /// ends everything anyway).
    Abort,
    /// `discard()` turning true removes the partial file at once, then reads the rest of the
    /// chunks and throws them away: V8 cannot stop a snapshot part-way, and the session stays
    /// usable for the next one (the window's Cancel). The hooks' cancel flag still aborts.
    Discard(&'a dyn Fn() -> bool),
}

/// Takes a heap snapshot into `DIR/NAME.heapsnapshot`: `written` hears the bytes on disk so
/// far after each chunk. The file is created at the first chunk (V8 builds the whole snapshot
/// before it sends any, so a stop during the build leaves nothing to remove).
pub fn save_snapshot(
    session: &mut Session,
    dir: &Path,
    name: &str,
    hooks: Hooks,
    stop: Stop,
    written: &dyn Fn(u64),
) -> Result<SavedSnapshot, CaptureError> {
    let started = Instant::now();
    let mut file: Option<SnapshotFile> = None;
    let mut bytes = 0u64;
    let mut discarded = false;
    let result = session.take_heap_snapshot(
        &mut |chunk| {
            if let Stop::Discard(discard) = stop
                && (discarded || discard())
            {
                // Dropping the file removes the .part now.
                file = None;
                discarded = true;
                return Ok(());
            }
            let f = match &mut file {
                Some(f) => f,
                None => file.insert(SnapshotFile::create(dir, name)?),
            };
            f.write(chunk)?;
            bytes = f.bytes();
            written(bytes);
            Ok(())
        },
        hooks,
    );
    if let Err(e) = result {
        // Dropped before the error travels on, so the message can say the file is gone.
        drop(file);
        return Err(e.during(format!(
            " mid-snapshot ({} of {name}.heapsnapshot received; the partial file was removed)",
            format::bytes(bytes)
        )));
    }
    if discarded {
        return Err(CaptureError::Cancelled);
    }
    let Some(file) = file.filter(|_| bytes > 0) else {
        return Err(CaptureError::Garbage {
            address: session.address().to_string(),
            what: format!("an empty snapshot for {name}.heapsnapshot"),
        });
    };
    let path = file.finish()?;
    Ok(SavedSnapshot {
        path,
        bytes,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("heapdiff-stream-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_finished_file_is_renamed_and_private() {
        let dir = scratch("finished");
        let mut f = SnapshotFile::create(&dir, "before").unwrap();
        assert!(dir.join("before.heapsnapshot.part").exists());
        f.write("{\"snapshot\":").unwrap();
        f.write("{}}").unwrap();
        let path = f.finish().unwrap();
        assert_eq!(path, dir.join("before.heapsnapshot"));
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"snapshot\":{}}");
        assert!(!dir.join("before.heapsnapshot.part").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_abandoned_file_is_removed() {
        let dir = scratch("abandoned");
        let mut f = SnapshotFile::create(&dir, "after").unwrap();
        f.write("{\"snap").unwrap();
        drop(f);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A full disk: the error names the partial file and the cause, and nothing is left.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_is_an_error_naming_the_file() {
        let dir = scratch("full");
        let part = dir.join("before.heapsnapshot.part");
        let mut f = SnapshotFile {
            path: dir.join("before.heapsnapshot"),
            part: part.clone(),
            file: Some(BufWriter::with_capacity(
                WRITE_BUFFER,
                OpenOptions::new().write(true).open("/dev/full").unwrap(),
            )),
            bytes: 0,
            finished: false,
        };
        let chunk = "1,".repeat(1 << 19);
        let written = (0..4).try_for_each(|_| f.write(&chunk));
        let err = match written {
            Err(e) => e,
            Ok(()) => f.finish().unwrap_err(),
        };
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("{}: cannot write: ", part.display()))
                && message.contains("No space left on device"),
            "{message}"
        );
        assert!(!dir.join("before.heapsnapshot").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_not_followed() {
        let dir = scratch("symlink");
        let victim = dir.join("victim");
        fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("before.heapsnapshot.part")).unwrap();
        let mut f = SnapshotFile::create(&dir, "before").unwrap();
        f.write("x").unwrap();
        f.finish().unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        fs::remove_dir_all(&dir).unwrap();
    }
}
