//! [`Served`]: `querent serve` in a child process, for what only a real process shows — its
//! command line and log output, signals, being killed, several processes on one store.

use std::process::{Command, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use querent_test_support::Client;

/// `querent serve` in a child process whose log lines (JSON) are collected; killed when
/// dropped.
pub struct Served {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Served {
    /// Starts `querent --data-dir DATA serve --bind 127.0.0.1:0` with the embedded store,
    /// no demo and JSON logs, under `env` on top; returns once it printed where it listens.
    pub fn start(data_dir: &std::path::Path, env: &[(&str, &str)]) -> Served {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_querent"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env_remove("QUERENT_DATABASE_URL")
            .env_remove("QUERENT_MASTER_KEY")
            .env_remove("QUERENT_LOG_LEVEL")
            .env_remove("RUST_LOG")
            .env("QUERENT_DEMO", "false")
            .env("QUERENT_LOG_FORMAT", "json")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn querent serve");
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = tx.send(rest.trim().to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server prints where it listens");
        Served { child, base, lines }
    }

    /// An anonymous client of this server.
    pub fn client(&self) -> Client {
        Client::new(self.base.clone())
    }

    /// Every line it printed so far.
    pub fn output(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Log lines at INFO so far.
    pub fn info_lines(&self) -> usize {
        self.output()
            .iter()
            .filter(|l| l.contains(r#""level":"INFO""#))
            .count()
    }

    /// Sends a signal (`TERM`, `INT`…) to the process.
    pub fn signal(&self, name: &str) {
        // The shell's own `kill`: present wherever `sh` is, unlike a kill binary.
        let ok = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{name} {}", self.child.id()))
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -{name} failed");
    }

    /// Kills the process at once (SIGKILL: no shutdown of any kind) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits up to `limit` for the process to exit; its status, or `None` while it runs.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}
