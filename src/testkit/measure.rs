//! What the benchmarks and timing tests measure: CPU time (of the process, or of one thread —
//! what a busy machine's scheduler cannot inflate), peak memory (`VmHWM`, or a child's from
//! `wait4`). One copy of the few libc calls, each with its SAFETY comment.

use std::process::Command;
use std::time::Duration;

/// User + system CPU time of this process so far, all threads.
#[allow(unsafe_code)] // getrusage through libc
pub fn process_cpu_seconds() -> f64 {
    // SAFETY: a zeroed rusage is a valid value for getrusage to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: usage points to a live local.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// CPU time of the calling thread.
#[allow(unsafe_code)] // clock_gettime through libc
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts points to a live local for clock_gettime to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A size line of /proc/self/status in bytes (`VmHWM:` is the peak resident set, `VmRSS:` the
/// current one); 0 when unknown.
pub fn status_bytes(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Runs a child to its end and returns its stdout and its peak RSS in bytes (from wait4's
/// rusage, so the peak is the child's alone).
#[allow(clippy::zombie_processes)] // reaped by wait4, which clippy does not see
#[allow(unsafe_code)] // wait4 through libc
pub fn run_measured(cmd: &mut Command) -> std::io::Result<(String, u64)> {
    let child = cmd.stdout(std::process::Stdio::piped()).spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout {
        std::io::Read::read_to_string(&mut stdout, &mut out)?;
    }
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, status and usage point to live locals.
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    Ok((out, usage.ru_maxrss as u64 * 1024))
}
