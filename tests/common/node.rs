//! Real Node processes for the capture tests: the leaky HTTP server of `tests/node/`, on a port
//! the kernel picks, and the small helpers around it.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server may take to listen (two shared cores, several Node processes at once).
pub const START_LIMIT: Duration = Duration::from_secs(60);

/// A file of `tests/node/`.
pub fn node_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/node")
        .join(name)
}

/// An empty scratch directory of this test binary's own, under `CARGO_TARGET_TMPDIR`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `s` quoted for `sh -c`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A port free a moment ago (for a URL that has to be known before its server starts).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A load command: `requests` sequential GETs of `url`, then exit.
pub fn load_command(url: &str, requests: u64) -> String {
    format!(
        "node {} {url} {requests}",
        shell_quote(&node_file("load.js").to_string_lossy())
    )
}

/// `tests/node/leaky-server.js`, started by the test; killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    /// `HOST:PORT` of its inspector when started with `--inspect`.
    pub inspector: Option<String>,
}

impl Server {
    /// `node NODE_ARGS leaky-server.js` with `env`; waits for its port (and its inspector's
    /// address when `wait_inspector`).
    pub fn start(node_args: &[&str], env: &[(&str, &str)], wait_inspector: bool) -> Server {
        let mut child = Command::new("node")
            .args(node_args)
            .arg(node_file("leaky-server.js"))
            .envs(env.iter().copied())
            .env_remove("NODE_OPTIONS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start node");
        let (tx, rx) = mpsc::channel::<(bool, String)>();
        for (is_err, stream) in [
            (
                false,
                Box::new(child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            ),
            (true, Box::new(child.stderr.take().expect("stderr"))),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send((is_err, line));
                }
            });
        }
        let started = Instant::now();
        let (mut port, mut inspector) = (None, None);
        while port.is_none() || (wait_inspector && inspector.is_none()) {
            let left = START_LIMIT.saturating_sub(started.elapsed());
            let (is_err, line) = rx.recv_timeout(left).expect("server started in time");
            if let Some(p) = line.strip_prefix("listening on ") {
                port = p.trim().parse().ok();
            }
            if is_err && let Some(url) = line.strip_prefix("Debugger listening on ws://") {
                inspector = url.split('/').next().map(str::to_string);
            }
        }
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        Server {
            child,
            port: port.expect("port"),
            inspector,
        }
    }

    /// A server with its inspector on a port the kernel picks.
    pub fn with_inspector(env: &[(&str, &str)]) -> Server {
        Server::start(&["--inspect=127.0.0.1:0"], env, true)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
