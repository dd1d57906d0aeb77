//! Real servers on loopback for the sync agent's tests and benchmark: an MQTT broker
//! configured like AWS IoT Core (mosquitto, mutual TLS) and an S3 server that checks
//! signatures (s3s-fs). Every test starts its own, on its own free ports, in its own
//! folder, so it can stop, restart or kill them (lose the session) without
//! disturbing the others. `Drop` stops whatever is still running.
//!
//! The servers come from `tests/testbed/fleet-tools.sh` (`make fleet-tools`; `make
//! test` runs it and sets `SHOFAR_MOSQUITTO` and `SHOFAR_S3S_FS`). Without them the
//! tests say they were skipped — except under CI, where that is a failure.
#![allow(dead_code)] // Each test file uses a part.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a server may take to accept connections before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `stop` waits after SIGTERM before it sends SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The repository's root (this crate is one folder below it).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate is inside the repository")
        .to_path_buf()
}

/// Where the servers' binaries are.
#[derive(Clone, Debug)]
pub struct Tools {
    pub mosquitto: PathBuf,
    pub s3s_fs: PathBuf,
}

/// The servers, or `None` (the test returns early) when they are not installed.
/// Under CI (`CI` set) a missing server fails the test instead.
pub fn tools() -> Option<Tools> {
    let cache = std::env::var_os("SHOFAR_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache/shofar")))
        .unwrap_or_else(|| PathBuf::from(".cache/shofar"));
    let from_env = |name: &str, default: PathBuf| {
        std::env::var_os(name)
            .filter(|value| !value.is_empty())
            .map_or(default, PathBuf::from)
    };
    let tools = Tools {
        mosquitto: from_env("SHOFAR_MOSQUITTO", PathBuf::from("/usr/sbin/mosquitto")),
        s3s_fs: from_env("SHOFAR_S3S_FS", cache.join("tools/s3s-fs/bin/s3s-fs")),
    };
    let mut missing = Vec::new();
    for path in [&tools.mosquitto, &tools.s3s_fs] {
        if !is_executable(path) {
            missing.push(path.display().to_string());
        }
    }
    for client in ["mosquitto_pub", "mosquitto_sub", "openssl", "curl"] {
        if which(client).is_none() {
            missing.push(client.to_owned());
        }
    }
    if missing.is_empty() {
        return Some(tools);
    }
    let missing = missing.join(", ");
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run these tests against real servers, and {missing} is missing: \
         run `make fleet-tools` (tests/testbed/fleet-tools.sh); `make test` does, and sets \
         SHOFAR_MOSQUITTO and SHOFAR_S3S_FS"
    );
    eprintln!(
        "skipped: no {missing} (run `make fleet-tools`, or tests/testbed/fleet-tools.sh, \
         which prints SHOFAR_MOSQUITTO and SHOFAR_S3S_FS)"
    );
    None
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.mode() & 0o111 != 0)
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| is_executable(path))
}

/// A throwaway certificate authority (tests/testbed/fleet-pki.sh): the broker's
/// certificate for `localhost`/127.0.0.1 and a client certificate per name, whose
/// CN is the name (the broker's username for it, like a thing name in AWS IoT).
#[derive(Clone, Debug)]
pub struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// Makes (or keeps) the CA and the certificates in `dir`, e.g.
    /// `Pki::new(dir, &["jerusalem-1", "haifa-1", "admin"])`.
    pub fn new(dir: &Path, names: &[&str]) -> Pki {
        let script = repo_root().join("tests/testbed/fleet-pki.sh");
        let output = Command::new(&script)
            .arg(dir)
            .args(names)
            .output()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", script.display()));
        assert!(
            output.status.success(),
            "{} failed: {}{}",
            script.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Pki {
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The CA certificate (PEM) both sides trust.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// `name`'s certificate (PEM); `server` is the broker's.
    pub fn cert(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.pem"))
    }

    /// `name`'s private key (PEM, PKCS#8, EC P-256).
    pub fn key(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.key"))
    }
}

/// Whether the broker keeps its sessions, queued messages and retained messages
/// across a restart (AWS IoT Core's persistent sessions do), or loses them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persistence {
    On,
    Off,
}

/// AWS IoT Core's largest payload: 128 KiB.
pub const MAX_PAYLOAD: usize = 128 * 1024;
/// AWS IoT Core's longest topic, in bytes.
pub const MAX_TOPIC: usize = 256;
/// The broker's `max_packet_size`: a PUBLISH (MQTT 3.1.1) of the largest payload on
/// the longest topic (fixed header 1 + 3 bytes of remaining length, 2 bytes of topic
/// length, the topic, the 2-byte packet id, the payload). A client sending more is
/// disconnected ("oversize packet" in the log) — loud, unlike the deprecated
/// `message_size_limit`, which acknowledges and silently drops.
pub const MAX_PACKET: usize = 4 + 2 + MAX_TOPIC + 2 + MAX_PAYLOAD;

/// A mosquitto broker on `127.0.0.1`, a TLS listener only, configured like AWS IoT
/// Core: a client certificate is required and its CN is the client's username.
/// Files in its folder: `mosquitto.conf`, `mosquitto.log`, `data/mosquitto.db`.
/// `Drop` stops it.
pub struct Broker {
    server: Server,
    config: PathBuf,
}

impl Broker {
    /// Writes the config into `dir` and starts the broker on a free port; panics
    /// (with the broker's log) unless it accepts connections within 5 s.
    pub fn start(tools: &Tools, pki: &Pki, dir: &Path, persistence: Persistence) -> Broker {
        fs::create_dir_all(dir.join("data")).unwrap();
        let config = dir.join("mosquitto.conf");
        let server = Server::start("mosquitto", dir.join("mosquitto.log"), |port| {
            fs::write(&config, mosquitto_conf(pki, dir, port, persistence)).unwrap();
            let mut command = Command::new(&tools.mosquitto);
            command.arg("-c").arg(&config);
            // Logged once the listener is open.
            (command, " running\n".to_owned())
        });
        Broker { server, config }
    }

    /// `mqtts://localhost:PORT` (the certificate is for `localhost` and 127.0.0.1).
    pub fn url(&self) -> String {
        format!("mqtts://localhost:{}", self.server.port)
    }

    pub fn host(&self) -> &'static str {
        "localhost"
    }

    pub fn port(&self) -> u16 {
        self.server.port
    }

    pub fn config(&self) -> &Path {
        &self.config
    }

    pub fn pid(&self) -> Option<u32> {
        self.server.pid()
    }

    /// A clean stop (SIGTERM, then wait): with persistence on, mosquitto saves its
    /// sessions, queued and retained messages first.
    pub fn stop(&mut self) {
        self.server.stop();
    }

    /// A crash (SIGKILL): with persistence on, what the last autosave (every
    /// second) had survives, nothing newer.
    pub fn kill(&mut self) {
        self.server.kill();
    }

    /// Starts the stopped broker again: same port, same config, same data.
    pub fn start_again(&mut self) {
        self.server.start_again();
    }

    /// Whether the broker process is running (false after stop/kill, or a crash).
    pub fn is_running(&mut self) -> bool {
        self.server.is_running()
    }

    /// Everything the broker logged, across restarts.
    pub fn log(&self) -> String {
        self.server.log()
    }

    /// `mosquitto_pub` or `mosquitto_sub` connecting to this broker as `name`
    /// (its certificate), with `-h localhost -p PORT`; add the rest.
    pub fn client(&self, program: &str, pki: &Pki, name: &str) -> Command {
        let mut command = self.client_without_certificate(program, pki);
        command
            .arg("--cert")
            .arg(pki.cert(name))
            .arg("--key")
            .arg(pki.key(name));
        command
    }

    /// The same without a client certificate (the broker must refuse it).
    pub fn client_without_certificate(&self, program: &str, pki: &Pki) -> Command {
        let mut command = Command::new(program);
        command.arg("--cafile").arg(pki.ca()).args([
            "-h",
            "localhost",
            "-p",
            &self.port().to_string(),
        ]);
        command
    }
}

fn mosquitto_conf(pki: &Pki, dir: &Path, port: u16, persistence: Persistence) -> String {
    let data = dir.join("data");
    let persistence = match persistence {
        // The database is written on a clean stop (SIGTERM) and, for kill(), every
        // second; `persistent_client_expiration` is left unset: sessions never expire.
        Persistence::On => format!(
            "persistence true\npersistence_location {}/\npersistence_file mosquitto.db\n\
             autosave_interval 1\nautosave_on_changes false\n",
            data.display()
        ),
        Persistence::Off => "persistence false\n".to_owned(),
    };
    // mosquitto started as root drops to the `mosquitto` user, which cannot read
    // the test's keys (0600, ours): stay who we are.
    let user = if running_as_root() { "user root\n" } else { "" };
    format!(
        "# Written by sync-agent/tests/support/mod.rs: AWS IoT Core, approximately.
per_listener_settings false
# No anonymous clients; the only listener is TLS with a client certificate, whose CN
# becomes the username (AWS IoT: the certificate is the identity).
allow_anonymous false
listener {port} 127.0.0.1
cafile {ca}
certfile {cert}
keyfile {key}
require_certificate true
use_identity_as_username true
{persistence}\
# AWS IoT Core: at most 100 unacknowledged QoS 1 messages in flight to a client,
# payloads of at most 128 KiB (a client sending a bigger packet is disconnected).
max_inflight_messages 100
max_packet_size {max_packet}
# A persistent session queues what its offline client misses, without a cap a
# test would hit (mosquitto's default is 1000 messages).
max_queued_messages 10000000
max_queued_bytes 0
queue_qos0_messages false
{user}\
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
log_timestamp true
log_timestamp_format %Y-%m-%dT%H:%M:%S
",
        ca = pki.ca().display(),
        cert = pki.cert("server").display(),
        key = pki.key("server").display(),
        max_packet = MAX_PACKET,
    )
}

fn running_as_root() -> bool {
    // /proc/self belongs to the process's effective user.
    fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

/// An s3s-fs server on `127.0.0.1`, plain HTTP, checking SigV4 signatures against
/// [`ACCESS_KEY`]/[`SECRET_KEY`] (any region). Its folder holds `data/` (the store)
/// and `s3s-fs.log`.
///
/// On disk, a bucket is a folder of `data/` and an object is a plain file at
/// `data/BUCKET/KEY` (the key's `/` make subfolders, so a key cannot also be a
/// "folder" of other keys: `a` and `a/b` cannot both exist). Its metadata and ETag
/// live beside the buckets, in `data/.bucket-…object-….{metadata,internal}.json`,
/// and uploads in progress in `data/.tmp.N.internal.part`; a file put straight into
/// the bucket folder is served too (ETag computed on the fly).
pub struct S3 {
    server: Server,
    data: PathBuf,
}

/// The test credentials s3s-fs checks signatures with.
pub const ACCESS_KEY: &str = "SHOFARTESTACCESSKEY";
pub const SECRET_KEY: &str = "shofar-test-secret-key-0123456789abcdef";
/// A region to sign with: s3s-fs accepts any; the boxes' bucket is in Israel.
pub const REGION: &str = "il-central-1";

impl S3 {
    /// Starts s3s-fs on a free port with its store in `dir/data`; panics (with its
    /// log) unless it accepts connections within 5 s.
    pub fn start(tools: &Tools, dir: &Path) -> S3 {
        let data = dir.join("data");
        fs::create_dir_all(&data).unwrap();
        let server = Server::start("s3s-fs", dir.join("s3s-fs.log"), |port| {
            let mut command = Command::new(&tools.s3s_fs);
            command
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                .arg(&data)
                // Errors, and its own few lines: "server is running at …".
                .env("RUST_LOG", "error,s3s_fs=info");
            let ready = format!("server is running at http://127.0.0.1:{port}");
            (command, ready)
        });
        S3 { server, data }
    }

    /// `http://127.0.0.1:PORT` (path-style requests: `/BUCKET/KEY`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port)
    }

    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// The store: a folder per bucket.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    pub fn pid(&self) -> Option<u32> {
        self.server.pid()
    }

    /// Creates a bucket (a folder of the store; CreateBucket does the same).
    pub fn create_bucket(&self, bucket: &str) -> PathBuf {
        let path = self.data.join(bucket);
        fs::create_dir_all(&path).unwrap();
        path
    }

    /// Puts an object straight into the store (as another writer would, e.g. the
    /// central side publishing a model): written to a temporary file, then renamed.
    pub fn put(&self, bucket: &str, key: &str, bytes: &[u8]) -> PathBuf {
        let path = self.object_path(bucket, key);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .data
            .join(format!(".tmp.test-{}-{n}.part", std::process::id()));
        fs::write(&tmp, bytes).unwrap();
        fs::rename(&tmp, &path).unwrap();
        path
    }

    /// An object's bytes, if it exists.
    pub fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        fs::read(self.object_path(bucket, key)).ok()
    }

    /// Every object of `bucket` as (key, file), sorted by key. Only the bucket's
    /// folder is walked, so s3s-fs's metadata files are never in the list.
    pub fn objects(&self, bucket: &str) -> Vec<(String, PathBuf)> {
        let root = self.data.join(bucket);
        let mut objects = Vec::new();
        let mut folders = vec![root.clone()];
        while let Some(folder) = folders.pop() {
            let Ok(entries) = fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    let key = path
                        .strip_prefix(&root)
                        .unwrap()
                        .components()
                        .map(|part| part.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/");
                    objects.push((key, path));
                }
            }
        }
        objects.sort();
        objects
    }

    pub fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        assert!(
            !key.starts_with('/') && !key.split('/').any(|part| part == ".."),
            "a test key, not a path: {key}"
        );
        self.data.join(bucket).join(key)
    }

    /// Stops the server (SIGTERM: s3s-fs exits at once; a finished PUT is a
    /// renamed file, so nothing half-written is left in a bucket).
    pub fn stop(&mut self) {
        self.server.stop();
    }

    pub fn kill(&mut self) {
        self.server.kill();
    }

    /// Starts it again: same port, same store.
    pub fn start_again(&mut self) {
        self.server.start_again();
    }

    pub fn is_running(&mut self) -> bool {
        self.server.is_running()
    }

    /// What s3s-fs logged (its errors, and when it started and stopped), across restarts.
    pub fn log(&self) -> String {
        self.server.log()
    }
}

/// A server process of a test: its command line, its port, its log.
struct Server {
    what: &'static str,
    command: Command,
    /// What it logs once it listens.
    ready: String,
    log: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Server {
    /// Starts a server on a free port; `prepare(port)` writes what it needs and
    /// returns its command and the line it logs once it listens.
    fn start(
        what: &'static str,
        log: PathBuf,
        mut prepare: impl FnMut(u16) -> (Command, String),
    ) -> Server {
        let mut attempt = 1;
        loop {
            let port = free_port();
            let (command, ready) = prepare(port);
            let mut server = Server {
                what,
                command,
                ready,
                log: log.clone(),
                port,
                child: None,
            };
            match server.spawn() {
                Ok(()) => return server,
                // The port can be taken between our probe and the server's bind (by
                // another test, or as some client's ephemeral port): another one.
                Err(output) if attempt < 5 && output.contains("in use") => attempt += 1,
                Err(output) => panic!("{what} did not start on port {port}:\n{output}"),
            }
        }
    }

    /// Starts it again on the same port, which may take a moment to be free again.
    fn start_again(&mut self) {
        assert!(
            self.child.is_none(),
            "start_again: {} is running",
            self.what
        );
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(output) if output.contains("in use") && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(output) => panic!(
                    "{} did not start again on port {}:\n{output}",
                    self.what, self.port
                ),
            }
        }
    }

    /// Starts the command with stdout and stderr appended to the log, and waits
    /// until it logged `ready` and the port accepts connections — the log, because
    /// a port that accepts may be someone else's. `Err` with what it logged when it
    /// exited or the time ran out (then it is killed).
    fn spawn(&mut self) -> Result<(), String> {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        writeln!(file, "--- test support: starting {:?}", self.command).unwrap();
        let start = usize::try_from(file.metadata().unwrap().len()).unwrap();
        let stderr = file.try_clone().unwrap();
        let mut child = self
            .command
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {:?}: {err}", self.command));
        let output = || {
            let bytes = fs::read(&self.log).unwrap_or_default();
            String::from_utf8_lossy(bytes.get(start..).unwrap_or_default()).into_owned()
        };
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{}\n({} exited: {status})", output(), self.what));
            }
            if output().contains(&self.ready)
                && TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_ok()
            {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{}\n({} not listening after {START_TIMEOUT:?})",
                    output(),
                    self.what
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM, then wait (SIGKILL after 5 s).
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(None) = child.try_wait() {
            // std has no SIGTERM and the crate no libc: kill(1) sends it.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + STOP_TIMEOUT;
            while let Ok(None) = child.try_wait() {
                if Instant::now() >= deadline {
                    eprintln!(
                        "{} ignored SIGTERM for {STOP_TIMEOUT:?}: killing it",
                        self.what
                    );
                    let _ = child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = child.wait();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nobody listens on now (the kernel's pick for 127.0.0.1:0).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}
