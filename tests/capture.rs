//! `heapdiff capture` against real Node processes: the three ways to reach a heap, the planted
//! leak found at the top of the findings, private snapshot files, and every failure a clear
//! line with exit 2 and no half file left behind.
//!
//! Each test starts its own server (`tests/node/leaky-server.js`) on ports the kernel picks, so
//! the tests run side by side; every wait is bounded.

#![cfg(unix)]

mod common;

use common::node::{self, Server, free_port, node_file, shell_quote};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Requests the load sends: each leaves one `LeakedRequest` behind.
const REQUESTS: u64 = 150;
/// Generous: two shared cores, a debug build, several Node processes at once.
const RUN_LIMIT: Duration = Duration::from_secs(240);

fn scratch(name: &str) -> std::path::PathBuf {
    node::scratch(&format!("capture-{name}"))
}

/// A `--load` command: REQUESTS sequential GETs, then exit.
fn load_command(url: &str) -> String {
    node::load_command(url, REQUESTS)
}

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Starts heapdiff with no terminal anywhere (stdin closed), output to files in `scratch`.
fn spawn_heapdiff(args: &[String], env: &[(&str, &str)], scratch: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_heapdiff"))
        .args(args)
        .envs(env.iter().copied())
        .env_remove("NODE_OPTIONS")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(scratch.join("heapdiff.stdout")).expect("stdout file"))
        .stderr(std::fs::File::create(scratch.join("heapdiff.stderr")).expect("stderr file"))
        .spawn()
        .expect("run heapdiff")
}

/// Waits for a run started by [`spawn_heapdiff`], killing it if it outlives RUN_LIMIT.
fn finish(mut child: Child, scratch: &Path, started: Instant) -> Run {
    let err_path = scratch.join("heapdiff.stderr");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "heapdiff still running after {RUN_LIMIT:?}; stderr:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        status,
        stdout: std::fs::read_to_string(scratch.join("heapdiff.stdout")).expect("stdout"),
        stderr: std::fs::read_to_string(&err_path).expect("stderr"),
        elapsed: started.elapsed(),
    }
}

fn heapdiff(args: &[String], env: &[(&str, &str)], scratch: &Path) -> Run {
    let started = Instant::now();
    finish(spawn_heapdiff(args, env, scratch), scratch, started)
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Names of the files in `dir` (sorted), the heapdiff logs left out.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("heapdiff."))
        .collect();
    names.sort();
    names
}

/// The contract every successful capture meets: exit 0, the snapshots (and only they) in the
/// folder, owner-only, and `LeakedRequest` leading the suspects with every leaked object new.
fn assert_found_the_leak(run: &Run, out: &Path, with_final: bool) -> serde_json::Value {
    assert_eq!(
        run.status.code(),
        Some(0),
        "stderr:\n{}\nstdout:\n{}",
        run.stderr,
        run.stdout
    );
    let mut expected = vec!["after.heapsnapshot", "before.heapsnapshot"];
    if with_final {
        expected.push("final.heapsnapshot");
    }
    assert_eq!(files_in(out), expected, "no .part left, nothing else");
    for name in expected {
        let meta = std::fs::metadata(out.join(name)).expect("snapshot");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
        assert!(meta.len() > 100_000, "{name}: {} bytes", meta.len());
    }
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).expect("findings JSON");
    let suspects = findings["suspects"].as_array().expect("suspects");
    assert_eq!(
        suspects.first().map(|s| &s["name"]),
        Some(&serde_json::json!("LeakedRequest")),
        "suspects: {:?}",
        suspects.iter().map(|s| &s["name"]).collect::<Vec<_>>()
    );
    assert_eq!(suspects[0]["added_count"], REQUESTS);
    let row = findings["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .find(|c| c["name"] == "LeakedRequest")
        .expect("a LeakedRequest row");
    assert_eq!(row["added_count"], REQUESTS);
    assert_eq!(row["removed_count"], 0);
    assert_eq!(row["count_delta"], REQUESTS);
    // The leak group: the requests kept by the server's global array, first and likely.
    let leak = &findings["leaks"][0];
    assert_eq!(leak["likely"], true, "{leak}");
    let leaked = leak["composition"]
        .as_array()
        .expect("composition")
        .iter()
        .find(|p| p["name"] == "LeakedRequest")
        .expect("LeakedRequest in the first leak");
    assert_eq!(leaked["count"], REQUESTS);
    assert_eq!(leak["expression"], "leakedRequests", "{leak}");
    let script = leaked["location"]["script"]
        .as_str()
        .expect("a located class");
    assert!(script.ends_with("leaky-server.js"), "{script}");
    findings
}

#[test]
fn capture_inspect_finds_the_planted_leak() {
    let dir = scratch("inspect");
    let out = dir.join("snaps");
    let server = Server::start(&["--inspect=127.0.0.1:0"], &[], true);
    let inspector = server.inspector.clone().expect("inspector address");
    let run = heapdiff(
        &args(&[
            "capture",
            "--inspect",
            &inspector,
            "--out",
            &out.to_string_lossy(),
            "--load",
            &load_command(&server.url()),
            "--format",
            "json",
        ]),
        &[],
        &dir,
    );
    assert_found_the_leak(&run, &out, false);
    assert!(
        run.stderr.contains(&format!("load: {REQUESTS} requests")),
        "the load's output is shown: {}",
        run.stderr
    );
    assert!(run.stderr.contains("exit status: 0"), "{}", run.stderr);
}

#[test]
fn capture_pid_finds_the_planted_leak() {
    let dir = scratch("pid");
    let out = dir.join("snaps");
    // Port 0 for the inspector SIGUSR1 opens: tests running at once never meet on 9229, and
    // heapdiff has to find the port from the process itself.
    let server = Server::start(&["--inspect-port=127.0.0.1:0"], &[], false);
    let pid = server.child.id().to_string();
    let run = heapdiff(
        &args(&[
            "capture",
            "--pid",
            &pid,
            "--out",
            &out.to_string_lossy(),
            "--load",
            &load_command(&server.url()),
            "--format",
            "json",
        ]),
        &[],
        &dir,
    );
    assert_found_the_leak(&run, &out, false);
}

#[test]
fn capture_command_with_ready_and_final_finds_the_planted_leak_and_stops_the_server() {
    let dir = scratch("command");
    let out = dir.join("snaps");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let port_text = port.to_string();
    let server_js = node_file("leaky-server.js");
    let run = heapdiff(
        &args(&[
            "capture",
            "--out",
            &out.to_string_lossy(),
            "--ready",
            &url,
            "--load",
            &load_command(&url),
            "--final",
            "--format",
            "json",
            "--",
            "node",
            &server_js.to_string_lossy(),
        ]),
        &[("PORT", &port_text)],
        &dir,
    );
    let findings = assert_found_the_leak(&run, &out, true);
    assert!(findings["final"]["file"].is_string(), "three-snapshot mode");
    assert!(
        run.stderr.contains(&format!("[node] listening on {port}")),
        "the server's output passes through, prefixed: {}",
        run.stderr
    );
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the server heapdiff started is stopped"
    );
}

#[test]
fn track_allocations_gives_snapshots_with_allocation_stacks() {
    let dir = scratch("track");
    let out = dir.join("snaps");
    let server = Server::start(&["--inspect=127.0.0.1:0"], &[], true);
    let inspector = server.inspector.clone().expect("inspector address");
    let run = heapdiff(
        &args(&[
            "capture",
            "--inspect",
            &inspector,
            "--out",
            &out.to_string_lossy(),
            "--load",
            &load_command(&server.url()),
            "--track-allocations",
            "--gc-rounds",
            "1",
            "--format",
            "json",
        ]),
        &[],
        &dir,
    );
    assert_found_the_leak(&run, &out, false);
    let after = std::fs::read_to_string(out.join("after.heapsnapshot")).expect("after");
    for section in ["\"trace_function_infos\":[", "\"trace_tree\":["] {
        let at = after.find(section).expect(section) + section.len();
        assert!(
            after[at..].starts_with(|c: char| c.is_ascii_digit()),
            "{section} is not empty"
        );
    }
    assert!(
        after.contains("\"LeakedRequest\""),
        "the leak's constructor is named"
    );
}

#[test]
fn target_exiting_mid_snapshot_exits_2_and_leaves_no_file() {
    let dir = scratch("exits");
    let out = dir.join("snaps");
    // A heap big enough that the snapshot is still streaming when the server is killed.
    let mut server = Server::start(&["--inspect=127.0.0.1:0"], &[("BALLAST", "600000")], true);
    let inspector = server.inspector.clone().expect("inspector address");
    let part = out.join("before.heapsnapshot.part");
    let pid = server.child.id();
    let killer = std::thread::spawn(move || {
        let started = Instant::now();
        while started.elapsed() < RUN_LIMIT {
            if std::fs::metadata(&part).is_ok_and(|m| m.len() > 0) {
                let _ = heapdiff::capture::signal::kill(pid as i32, libc::SIGKILL);
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    });
    let run = heapdiff(
        &args(&[
            "capture",
            "--inspect",
            &inspector,
            "--out",
            &out.to_string_lossy(),
            "--load",
            "true",
            "--gc-rounds",
            "0",
        ]),
        &[],
        &dir,
    );
    assert!(killer.join().expect("killer"), "the snapshot never started");
    let _ = server.child.wait();
    assert_eq!(run.status.code(), Some(2), "stderr: {}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().filter(|l| !l.is_empty()).collect();
    let last = lines.last().copied().unwrap_or_default();
    assert!(
        last.starts_with("heapdiff: the target at ")
            && last.contains("went away mid-snapshot")
            && last.contains("the partial file was removed"),
        "{last}"
    );
    assert_eq!(
        files_in(&out),
        Vec::<String>::new(),
        "no snapshot, no .part"
    );
}

#[test]
fn failing_load_exits_2_and_keeps_the_finished_snapshot() {
    let dir = scratch("failing-load");
    let out = dir.join("snaps");
    let server = Server::start(&["--inspect=127.0.0.1:0"], &[], true);
    let inspector = server.inspector.clone().expect("inspector address");
    let run = heapdiff(
        &args(&[
            "capture",
            "--inspect",
            &inspector,
            "--out",
            &out.to_string_lossy(),
            "--load",
            "echo overloaded >&2; exit 3",
            "--gc-rounds",
            "0",
        ]),
        &[],
        &dir,
    );
    assert_eq!(run.status.code(), Some(2), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("[load] overloaded"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the load command \"echo overloaded >&2; exit 3\" failed (exit status: 3)"),
        "{}",
        run.stderr
    );
    assert_eq!(files_in(&out), vec!["before.heapsnapshot"]);
}

#[test]
fn no_terminal_and_no_load_exits_2_at_once() {
    let dir = scratch("no-terminal");
    let run = heapdiff(
        &args(&[
            "capture",
            "--inspect",
            "127.0.0.1:9",
            "--out",
            &dir.join("snaps").to_string_lossy(),
        ]),
        &[],
        &dir,
    );
    assert_eq!(run.status.code(), Some(2), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("--load"), "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(20), "{:?}", run.elapsed);
    assert!(!dir.join("snaps").exists(), "nothing done before the check");
}

#[test]
fn non_loopback_addresses_are_refused_without_allow_remote() {
    let dir = scratch("remote");
    // 192.0.2.0/24 is reserved for documentation: nothing would answer, and nothing is sent,
    // since the address is refused before any connection.
    for extra in [
        vec!["--inspect", "192.0.2.1:9229"],
        vec!["--inspect", "[2001:db8::1]:9229"],
        vec![
            "--inspect",
            "127.0.0.1:9",
            "--ready",
            "http://192.0.2.1:3000/",
        ],
    ] {
        let mut list = vec!["capture", "--load", "true", "--out"];
        let out = dir.join("snaps").to_string_lossy().into_owned();
        list.push(&out);
        list.extend(extra.iter().copied());
        let run = heapdiff(&args(&list), &[], &dir);
        assert_eq!(run.status.code(), Some(2), "{extra:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("is not a loopback address")
                && run.stderr.contains("--allow-remote"),
            "{extra:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn no_inspector_garbage_and_bad_targets_are_one_line_errors() {
    let dir = scratch("no-inspector");
    let out = dir.join("snaps").to_string_lossy().into_owned();
    let capture = |address: &str, extra: &[&str]| {
        let mut list = vec![
            "capture",
            "--inspect",
            address,
            "--load",
            "true",
            "--out",
            &out,
        ];
        list.extend(extra);
        heapdiff(&args(&list), &[], &dir)
    };

    // A port nothing listens on.
    let closed = free_port();
    let run = capture(&format!("127.0.0.1:{closed}"), &[]);
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("heapdiff: no inspector at 127.0.0.1:{closed}: ")),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    // A peer that answers /json/list with something that is not a target list.
    let peer = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = peer.local_addr().expect("addr").to_string();
    let answer = std::thread::spawn(move || {
        let (mut s, _) = peer.accept().expect("accept");
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"oops\":1",
        );
    });
    let run = capture(&address, &[]);
    answer.join().expect("peer");
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "heapdiff: the inspector at {address} sent garbage: "
        )),
        "{}",
        run.stderr
    );

    // A real inspector without the target asked for.
    let server = Server::start(&["--inspect=127.0.0.1:0"], &[], true);
    let inspector = server.inspector.clone().expect("inspector address");
    let run = capture(&inspector, &["--target", "no-such-target"]);
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("no target at") && run.stderr.contains("it lists: "),
        "{}",
        run.stderr
    );
    assert!(
        !dir.join("snaps").exists(),
        "nothing is written before a session is open"
    );
}

#[test]
fn process_exiting_before_it_is_ready_exits_2() {
    let dir = scratch("early-exit");
    let port = free_port();
    let run = heapdiff(
        &args(&[
            "capture",
            "--out",
            &dir.join("snaps").to_string_lossy(),
            "--ready",
            &format!("http://127.0.0.1:{port}/"),
            "--load",
            "true",
            "--",
            "node",
            "-e",
            "setTimeout(() => process.exit(3), 300)",
        ]),
        &[],
        &dir,
    );
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    let last = run.stderr.lines().last().unwrap_or_default().to_string();
    assert!(
        last.starts_with("heapdiff: `node -e ") && last.contains("exited (exit status: 3) before"),
        "{last}"
    );
}

/// What a fake inspector does once a session connects.
#[derive(Clone, Copy)]
enum Hostile {
    Silent,
    Huge,
    Garbage,
}

/// A fake inspector on a kernel-picked port: it lists one Node target and misbehaves on its
/// WebSocket. Runs until the test process ends.
fn fake_inspector(mode: Hostile) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("addr").to_string();
    let ws_url = format!("ws://{address}/fake");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let ws_url = ws_url.clone();
            std::thread::spawn(move || {
                let mut head = [0u8; 32];
                let n = stream.peek(&mut head).unwrap_or(0);
                if head[..n].starts_with(b"GET /json/list") {
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf);
                    let body = format!(
                        "[{{\"id\":\"fake\",\"type\":\"node\",\"title\":\"fake\",\"url\":\"file:///fake.js\",\"webSocketDebuggerUrl\":\"{ws_url}\"}}]"
                    );
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    return;
                }
                let Ok(mut ws) = tungstenite::accept(stream) else {
                    return;
                };
                match mode {
                    Hostile::Silent => {}
                    Hostile::Huge => {
                        let _ = ws.send(tungstenite::Message::text("x".repeat(40 << 20)));
                    }
                    Hostile::Garbage => {
                        let _ = ws.send(tungstenite::Message::text("{not json"));
                    }
                }
                // Keep the connection open, reading whatever comes, until heapdiff hangs up.
                while ws.read().is_ok() {}
            });
        }
    });
    address
}

#[test]
fn hostile_inspectors_are_bounded_in_time_and_size() {
    let dir = scratch("hostile");
    let out = dir.join("snaps").to_string_lossy().into_owned();
    for (mode, expected) in [
        (Hostile::Silent, "nothing heard for 2 s"),
        (
            Hostile::Huge,
            "sent garbage: a message over the 32 MiB limit",
        ),
        (Hostile::Garbage, "sent garbage: not a protocol message"),
    ] {
        let address = fake_inspector(mode);
        let run = heapdiff(
            &args(&[
                "capture",
                "--inspect",
                &address,
                "--load",
                "true",
                "--timeout",
                "2",
                "--out",
                &out,
            ]),
            &[],
            &dir,
        );
        assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
        assert!(run.elapsed < Duration::from_secs(60), "{:?}", run.elapsed);
    }
}

#[test]
fn ctrl_c_during_the_load_stops_the_load_and_the_server_and_exits_130() {
    let dir = scratch("interrupt");
    let out = dir.join("snaps");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let pid_file = dir.join("load.pid");
    let load = format!(
        "echo $$ > {}; exec sleep 120",
        shell_quote(&pid_file.to_string_lossy())
    );
    let port_text = port.to_string();
    let started = Instant::now();
    let child = spawn_heapdiff(
        &args(&[
            "capture",
            "--out",
            &out.to_string_lossy(),
            "--ready",
            &url,
            "--load",
            &load,
            "--",
            "node",
            &node_file("leaky-server.js").to_string_lossy(),
        ]),
        &[("PORT", &port_text)],
        &dir,
    );
    let load_pid: i32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            break pid;
        }
        assert!(started.elapsed() < RUN_LIMIT, "the load never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = heapdiff::capture::signal::kill(child.id() as i32, libc::SIGINT);
    let run = finish(child, &dir, started);
    assert_eq!(run.status.code(), Some(130), "{}", run.stderr);
    assert!(run.stderr.contains("heapdiff: cancelled"), "{}", run.stderr);
    assert!(
        !Path::new(&format!("/proc/{load_pid}")).exists(),
        "the load command is stopped"
    );
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the server heapdiff started is stopped"
    );
    assert_eq!(files_in(&out), vec!["before.heapsnapshot"]);
}

#[test]
fn without_load_a_terminal_user_presses_enter_between_snapshots() {
    let dir = scratch("enter");
    let out = dir.join("snaps");
    let json = dir.join("findings.json");
    let server = Server::start(&["--inspect=127.0.0.1:0"], &[], true);
    let inspector = server.inspector.clone().expect("inspector address");
    let command = [
        env!("CARGO_BIN_EXE_heapdiff"),
        "capture",
        "--inspect",
        &inspector,
        "--out",
        &out.to_string_lossy(),
        "--gc-rounds",
        "1",
        "--format",
        "json",
        "-o",
        &json.to_string_lossy(),
    ]
    .map(shell_quote)
    .join(" ");
    // util-linux `script` gives heapdiff a terminal (its stdin, and its stderr for the bar).
    let mut script = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("SHELL", "/bin/sh")
        .env_remove("NODE_OPTIONS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script");
    let mut terminal_out = script.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = terminal_out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut screen = String::new();
    while !screen.contains("exercise the app now, then press Enter") {
        let left = RUN_LIMIT.saturating_sub(started.elapsed());
        let bytes = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no prompt: {screen}"));
        screen.push_str(&String::from_utf8_lossy(&bytes));
    }
    let load = Command::new("node")
        .arg(node_file("load.js"))
        .arg(server.url())
        .arg(REQUESTS.to_string())
        .env_remove("NODE_OPTIONS")
        .output()
        .expect("load");
    assert!(load.status.success());
    let mut stdin = script.stdin.take().expect("stdin");
    stdin.write_all(b"\n").expect("Enter");
    let status = loop {
        if let Some(status) = script.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < RUN_LIMIT,
            "heapdiff did not finish: {screen}"
        );
        while let Ok(bytes) = rx.try_recv() {
            screen.push_str(&String::from_utf8_lossy(&bytes));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    assert_eq!(status.code(), Some(0), "{screen}");
    let findings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("findings")).expect("JSON");
    assert_eq!(findings["suspects"][0]["name"], "LeakedRequest");
    assert_eq!(
        files_in(&out),
        vec!["after.heapsnapshot", "before.heapsnapshot"]
    );
}
