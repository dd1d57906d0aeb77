//! What the binary's end-to-end tests share: a box in a temporary folder with
//! its `shofar.toml`, `shofar` run against it, and `shofar serve` running on it.
#![allow(dead_code)] // Each test file uses a part.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

/// A box on the simulator, calls of a second or two, on a free port.
pub const SIMULATED: &str = r#"
[dialer]
backend = "simulator"
cps = 20
max_channels = 40
grace_seconds = 5

[simulator]
time_scale = 20.0

[http]
listen = "127.0.0.1:0"
"#;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestBox {
    pub dir: tempfile::TempDir,
}

impl TestBox {
    pub fn new(config: &str) -> TestBox {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("shofar.toml"), config).unwrap();
        TestBox { dir }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `name` in the box's folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::cargo_bin("shofar").unwrap();
        command
            .env_remove("SHOFAR_DATA_DIR")
            .env("SHOFAR_CONFIG", self.dir.path().join("shofar.toml"))
            .env("RUST_LOG", "warn")
            .arg("--data-dir")
            .arg(self.data())
            .args(args);
        command
    }

    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// `shofar live --json` against the box at `address`: `count` snapshots, a
    /// line each.
    pub fn live_json(&self, address: &str, token: &str, count: u32) -> String {
        let count = count.to_string();
        self.ok(
            &[
                "live", "--url", address, "--token", token, "--count", &count, "--json",
            ],
            "",
        )
    }

    /// Creates an informational campaign whose windows are open around the clock
    /// (`head`: its name and other top-level keys) and imports `contacts` (CSV).
    pub fn campaign_around_the_clock(&self, head: &str, contacts: &str) {
        let campaign = self.dir.path().join("campaign.toml");
        let windows: String = [
            "sunday",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
        ]
        .iter()
        .map(|day| format!("{day} = \"00:00-24:00\"\n"))
        .collect();
        std::fs::write(
            &campaign,
            format!(
                "{head}purpose = \"informational\"\n\n[windows]\n{windows}\n\
                 [quiet]\nshabbat = false\nholidays = false\n"
            ),
        )
        .unwrap();
        let file = self.dir.path().join("contacts.csv");
        std::fs::write(&file, contacts).unwrap();
        self.ok(
            &["campaign", "create", "--file", campaign.to_str().unwrap()],
            "",
        );
        let name = head
            .lines()
            .find_map(|line| line.strip_prefix("name = "))
            .map(|quoted| quoted.trim_matches('"').to_owned())
            .expect("head names the campaign");
        self.ok(&["import", file.to_str().unwrap(), "--campaign", &name], "");
    }

    /// An analyst, `ana`, and an API token of theirs.
    pub fn analyst_token(&self) -> String {
        self.user_token("ana", "analyst")
    }

    /// A user `name` with `role`, and an API token of theirs.
    pub fn user_token(&self, name: &str, role: &str) -> String {
        self.ok(
            &["user", "add", name, "--role", role, "--password-stdin"],
            &format!("{PASSWORD}\n"),
        );
        self.ok(&["user", "token", name], "").trim().to_owned()
    }

    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let output = self.run(args, stdin);
        assert!(
            output.status.success(),
            "shofar {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

/// A CSV of `rows` generated contacts (`shofar-testdata`, `seed`), as text.
pub fn generated_contacts(rows: usize, seed: u64) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.csv");
    shofar_testdata::write_csv(
        &shofar_testdata::ContactsSpec::new(rows, seed),
        &path,
        shofar_testdata::CsvEncoding::Utf8,
        b',',
    )
    .unwrap();
    std::fs::read_to_string(path).unwrap()
}

/// `shofar serve`, with what it printed up to the line naming its address
/// (with its scheme) and the lines it prints after; killed and waited for when
/// dropped.
pub struct Served {
    pub child: Child,
    pub address: String,
    pub printed: String,
    /// Its standard error after the address, line by line; drained all along,
    /// so the server never blocks on it.
    pub log: Receiver<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// Panics, with what serve printed, unless it still runs.
    pub fn assert_running(&mut self, when: &str) {
        if let Some(status) = self.child.try_wait().unwrap() {
            let later: Vec<String> = self.log.try_iter().collect();
            panic!(
                "shofar serve exited {when} ({status}):\n{}{}",
                self.printed,
                later.join("\n")
            );
        }
    }

    /// Stops it as systemd would (SIGTERM), checks that it stopped well, and
    /// returns all it printed.
    pub fn stop(mut self) -> String {
        Command::new("kill")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        let later: Vec<String> = self.log.try_iter().collect();
        let printed = format!("{}{}", self.printed, later.join("\n"));
        assert!(status.success(), "serve stopped with {status}:\n{printed}");
        printed
    }
}

/// Starts `shofar serve --simulate --quiet` on the box; returns once it printed
/// its address.
pub fn serve(test_box: &TestBox) -> Served {
    let mut child = test_box
        .command(&["serve", "--simulate", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    // Owned by `Served` from here on: dropped (killed and waited for) on any panic.
    let mut served = Served {
        child,
        address: String::new(),
        printed: String::new(),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = served
            .log
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("shofar serve printed no address:\n{}", served.printed));
        served.printed.push_str(&line);
        served.printed.push('\n');
        if let Some(rest) = line.split("web UI and API at ").nth(1) {
            served.address = rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_owned();
            return served;
        }
    }
}
