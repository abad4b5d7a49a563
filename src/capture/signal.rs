//! Signals to other processes: the one place `heapdiff capture` calls into libc, so the rest of
//! `capture` stays safe code.

use std::io;

/// `kill(pid, sig)`: `sig` 0 only checks that the process exists.
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill takes plain integers and touches no memory of ours.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `killpg(pgid, sig)`: the signal to a whole process group (a started server and its
/// children).
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn killpg(pgid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: killpg takes plain integers and touches no memory of ours.
    if unsafe { libc::killpg(pgid, sig) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
