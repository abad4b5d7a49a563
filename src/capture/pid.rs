//! `--pid`: a running Node process's inspector, opened with SIGUSR1 and found where it
//! listens.

use std::time::Duration;

use super::CaptureError;
use super::inspector::Inspector;
use crate::task::Hooks;

/// How often the wait looks at the process's sockets, the cancel flag and its deadline.
#[cfg(target_os = "linux")]
const POLL: Duration = Duration::from_millis(200);

/// `--pid`: opens the inspector of a running Node process with SIGUSR1 (Node's documented way)
/// and finds where it listens.
///
/// Node listens on 127.0.0.1:9229 unless the process was started with `--inspect-port`; on
/// Linux the port is read from the process's own listening sockets instead (`/proc/PID/fd`
/// and `/proc/PID/net/tcp*`), so two processes woken at once never meet on 9229 and a
/// `--inspect-port=0` process is found too.
pub fn open_inspector_of(
    pid: u32,
    allow_remote: bool,
    timeout: Duration,
    hooks: Hooks,
) -> Result<Inspector, CaptureError> {
    imp::open(pid, allow_remote, timeout, hooks)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::collections::HashSet;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    use std::thread;
    use std::time::{Duration, Instant};

    use super::POLL;
    use crate::capture::CaptureError;
    use crate::capture::inspector::{Inspector, is_loopback};
    use crate::task::Hooks;

    /// After this long without a new listening socket, the ones the process had before the
    /// signal are tried too (its inspector may have been open already).
    const NEW_SOCKET_WAIT: Duration = Duration::from_secs(2);

    pub fn open(
        pid: u32,
        allow_remote: bool,
        timeout: Duration,
        hooks: Hooks,
    ) -> Result<Inspector, CaptureError> {
        let proc_dir = format!("/proc/{pid}");
        let status = std::fs::read_to_string(format!("{proc_dir}/status"))
            .map_err(|e| CaptureError::Process(format!("no process {pid}: {e}")))?;
        // SIGUSR1's default action ends a process; only one that catches it (Node installs a
        // handler unless started with --disable-sigusr1) is sent it.
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .unwrap_or(0);
        let usr1 = 1u64 << (libc::SIGUSR1 - 1);
        if caught & usr1 == 0 {
            return Err(CaptureError::Process(format!(
                "process {pid} does not handle SIGUSR1 (not Node, or started with \
                 --disable-sigusr1): the signal would end it, so it was not sent"
            )));
        }
        let before: HashSet<SocketAddr> = listening(pid, allow_remote).into_iter().collect();
        let pid_t =
            i32::try_from(pid).map_err(|_| CaptureError::Process(format!("no process {pid}")))?;
        if let Err(e) = crate::capture::signal::kill(pid_t, libc::SIGUSR1) {
            return Err(CaptureError::Process(format!(
                "cannot signal process {pid}: {e}"
            )));
        }
        let started = Instant::now();
        let mut tried: HashSet<SocketAddr> = HashSet::new();
        loop {
            if hooks.is_cancelled() {
                return Err(CaptureError::Cancelled);
            }
            hooks.report("waiting for the inspector", 0.0);
            let now = listening(pid, allow_remote);
            let old_too = started.elapsed() > NEW_SOCKET_WAIT;
            for addr in now {
                if tried.contains(&addr) || (before.contains(&addr) && !old_too) {
                    continue;
                }
                tried.insert(addr);
                let inspector = Inspector::at(addr);
                if inspector.targets().is_ok_and(|t| !t.is_empty()) {
                    return Ok(inspector);
                }
            }
            if crate::capture::signal::kill(pid_t, 0)
                .is_err_and(|e| e.raw_os_error() == Some(libc::ESRCH))
            {
                return Err(CaptureError::Process(format!(
                    "process {pid} exited before its inspector listened"
                )));
            }
            if started.elapsed() > timeout {
                return Err(CaptureError::Timeout {
                    what: format!(
                        "process {pid} opened no inspector on a loopback port after SIGUSR1 \
                         (port 9229 taken? Node says why on its own stderr)"
                    ),
                    after: timeout,
                });
            }
            thread::sleep(POLL);
        }
    }

    /// The TCP sockets `pid` listens on, as addresses to connect to (an unspecified bind
    /// through loopback), loopback only unless `allow_remote`.
    fn listening(pid: u32, allow_remote: bool) -> Vec<SocketAddr> {
        let inodes = socket_inodes(pid);
        if inodes.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (file, v6) in [("tcp", false), ("tcp6", true)] {
            let Ok(table) = std::fs::read_to_string(format!("/proc/{pid}/net/{file}")) else {
                continue;
            };
            for line in table.lines().skip(1) {
                if let Some((addr, inode)) = listening_entry(line, v6)
                    && inodes.contains(&inode)
                    && (allow_remote || is_loopback(addr.ip()))
                {
                    out.push(addr);
                }
            }
        }
        out
    }

    fn socket_inodes(pid: u32) -> HashSet<u64> {
        let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            return HashSet::new();
        };
        dir.flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .filter_map(|link| {
                let s = link.to_str()?;
                s.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
            })
            .collect()
    }

    /// One line of `/proc/net/tcp{,6}` in state LISTEN (0A): its address and inode. The kernel
    /// prints addresses as native-endian 32-bit words in hex, the port big-endian.
    pub(super) fn listening_entry(line: &str, v6: bool) -> Option<(SocketAddr, u64)> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 10 || fields[3] != "0A" {
            return None;
        }
        let (ip_hex, port_hex) = fields[1].split_once(':')?;
        let port = u16::from_str_radix(port_hex, 16).ok()?;
        let inode: u64 = fields[9].parse().ok()?;
        let ip = if v6 {
            if ip_hex.len() != 32 {
                return None;
            }
            let mut bytes = [0u8; 16];
            for (i, word) in bytes.chunks_mut(4).enumerate() {
                let w = u32::from_str_radix(ip_hex.get(i * 8..i * 8 + 8)?, 16).ok()?;
                word.copy_from_slice(&w.to_ne_bytes());
            }
            let ip = Ipv6Addr::from(bytes);
            if ip.is_unspecified() {
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            } else {
                IpAddr::V6(ip)
            }
        } else {
            let w = u32::from_str_radix(ip_hex, 16).ok()?;
            let ip = Ipv4Addr::from(w.to_ne_bytes());
            if ip.is_unspecified() {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                IpAddr::V4(ip)
            }
        };
        Some((SocketAddr::new(ip, port), inode))
    }
}

#[cfg(all(unix, not(target_os = "linux")))]
mod imp {
    use std::thread;
    use std::time::{Duration, Instant};

    use crate::capture::CaptureError;
    use crate::capture::inspector::Inspector;
    use crate::task::Hooks;

    /// Without /proc: SIGUSR1, then Node's default address.
    pub fn open(
        pid: u32,
        allow_remote: bool,
        timeout: Duration,
        hooks: Hooks,
    ) -> Result<Inspector, CaptureError> {
        let pid_t =
            i32::try_from(pid).map_err(|_| CaptureError::Process(format!("no process {pid}")))?;
        if let Err(e) = crate::capture::signal::kill(pid_t, libc::SIGUSR1) {
            return Err(CaptureError::Process(format!(
                "cannot signal process {pid}: {e}"
            )));
        }
        let inspector = Inspector::resolve("127.0.0.1:9229", allow_remote)?;
        let started = Instant::now();
        loop {
            if hooks.is_cancelled() {
                return Err(CaptureError::Cancelled);
            }
            match inspector.targets() {
                Ok(_) => return Ok(inspector),
                Err(e) if started.elapsed() > timeout => return Err(e),
                Err(_) => thread::sleep(Duration::from_millis(200)),
            }
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use std::time::Duration;

    use crate::capture::CaptureError;
    use crate::capture::inspector::Inspector;
    use crate::task::Hooks;

    pub fn open(
        pid: u32,
        _allow_remote: bool,
        _timeout: Duration,
        _hooks: Hooks,
    ) -> Result<Inspector, CaptureError> {
        Err(CaptureError::Process(format!(
            "--pid {pid}: signals are not available on this system; start the process with \
             --inspect and use --inspect HOST:PORT"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn proc_net_tcp_lines() {
        let v4 = "   1: 0100007F:9E67 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 53516 1 000000000c38ff49 100 0 0 10 0";
        let (addr, inode) = imp::listening_entry(v4, false).unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(addr, "127.0.0.1:40551".parse().unwrap());
        }
        assert_eq!(inode, 53516);
        let established = v4.replace(" 0A ", " 01 ");
        assert!(imp::listening_entry(&established, false).is_none());
        let v6 = "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0";
        let (addr, inode) = imp::listening_entry(v6, true).unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(addr, "[::1]:8080".parse().unwrap());
        }
        assert_eq!(inode, 777);
    }
}
