//! `shofar serve` as systemd runs it (`Type=notify`, `WatchdogSec=`): the
//! notifications it sends on the socket systemd gives it, and a prompt stop on
//! SIGTERM. A real `systemd` is not needed: the protocol is a datagram socket
//! named by `NOTIFY_SOCKET`, which this test binds itself.

use std::os::unix::net::UnixDatagram;
use std::process::Stdio;
use std::time::{Duration, Instant};

mod support;
use support::TestBox;

/// Everything sent to the socket until `wanted` arrives (or `patience` runs out,
/// which fails the test with what did arrive).
fn until(socket: &UnixDatagram, wanted: &str, patience: Duration) -> Vec<String> {
    let deadline = Instant::now() + patience;
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        socket
            .set_read_timeout(Some(
                deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(10)),
            ))
            .unwrap();
        let Ok(length) = socket.recv(&mut buffer) else {
            break;
        };
        let message = String::from_utf8_lossy(&buffer[..length]).into_owned();
        let done = message.lines().any(|line| line == wanted);
        seen.push(message);
        if done {
            return seen;
        }
    }
    panic!("no {wanted} on the notify socket; got {seen:?}");
}

/// READY=1 once serving, WATCHDOG=1 while the dialer runs, STOPPING=1 on SIGTERM,
/// and then the process ends. Regression: the watchdog task once waited on the
/// shutdown token in a `select!`; once cancelled that branch was always ready,
/// the task spun without yielding, and `systemctl stop shofar` hung until SIGKILL
/// (found running the unit for real, issue 16). The patience below only keeps a
/// hang from hanging the test run.
#[test]
fn under_systemd_serve_is_ready_pings_its_watchdog_and_stops_on_sigterm() {
    let test_box = TestBox::new(support::SIMULATED);
    let socket_path = test_box.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    // systemd names the service's own pid in WATCHDOG_PID; the pid is known only
    // once it runs, so a shell sets it to its own and becomes serve (exec).
    let serve = test_box.command(&["serve", "--simulate", "--quiet"]);
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(r#"WATCHDOG_PID=$$ exec "$@""#)
        .arg("sh")
        .arg(serve.get_program())
        .args(serve.get_args());
    for (key, value) in serve.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    let mut child = command
        .env("NOTIFY_SOCKET", &socket_path)
        // Pings every second (half the interval).
        .env("WATCHDOG_USEC", "2000000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let patience = Duration::from_secs(120);
    until(&socket, "READY=1", patience);
    until(&socket, "WATCHDOG=1", patience);
    until(&socket, "WATCHDOG=1", patience);

    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    until(&socket, "STOPPING=1", patience);
    let deadline = Instant::now() + patience;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("shofar serve did not end after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut printed = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut printed).unwrap();
    assert!(status.success(), "serve ended with {status}:\n{printed}");
}
