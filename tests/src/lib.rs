//! Harness for whole-system tests: the real `hub` and `checkpoint` binaries in their
//! own processes, on temp dirs and free ports, driven and inspected from outside.
//!
//! - [`hub`]: a hub set up with its own command line (a user, a checkpoint and its
//!   token), serving on a real port; stopped with SIGTERM, its store read afterwards.
//! - [`node`]: a checkpoint node from a written TOML config, read through its
//!   `/metrics`; killed with SIGKILL or stopped with SIGTERM, its store read afterwards.
//! - [`fault`]: a proxy between node and hub that answers 500 / 429, or swallows the
//!   hub's answer after the hub has stored the request.
//! - [`clip`]: the sample gantry clip, whole or as a folder of stills.

pub mod clip;
pub mod fault;
pub mod hub;
pub mod node;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A binary of this workspace, built in the same profile as the running test.
pub fn binary(name: &str) -> PathBuf {
    // target/<profile>/deps/system-<hash> → target/<profile>/<name>
    let exe = std::env::current_exe().expect("the test knows its own path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("test binaries live in target/<profile>/deps");
    let bin = dir.join(name);
    assert!(
        bin.is_file(),
        "{} is missing: build the binaries first with `cargo build --workspace` (`make test` does)",
        bin.display()
    );
    bin
}

/// A port nothing listens on right now (for a hub that comes up later).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// Polls `ok` every 200 ms until it holds; panics naming `what` after `timeout`.
pub async fn until(what: &str, timeout: Duration, mut ok: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        if ok().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts one of the workspace's binaries with its output appended to `log`, and
/// waits until it answers `GET {url}/healthz`.
pub async fn start_serving(
    binary_name: &str,
    args: &[&str],
    env: &[(&str, &str)],
    log: &Path,
    url: &str,
) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file opens");
    let child = Command::new(binary(binary_name))
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("{binary_name} does not start: {e}"));
    let health = format!("{url}/healthz");
    until(
        &format!("{binary_name} to answer {health}"),
        Duration::from_secs(60),
        async || {
            reqwest::get(&health)
                .await
                .is_ok_and(|r| r.status().is_success())
        },
    )
    .await;
    child
}

/// A child process that is killed if the test lets go of it (a failing assertion
/// must not leave servers behind).
pub struct Running {
    child: Child,
    what: &'static str,
}

impl Running {
    pub fn new(child: Child, what: &'static str) -> Running {
        Running { child, what }
    }

    /// Still running?
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL: no chance to flush or say goodbye.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL sent");
        self.child.wait().expect("the killed process is reaped");
    }

    /// SIGTERM, then waits up to 30 s for a graceful exit (both binaries flush their
    /// store on the way out).
    pub fn stop(mut self) {
        let id = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &id]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {id} failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{} did not stop on SIGTERM", self.what);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
