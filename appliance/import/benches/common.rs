//! Shared by the benchmarks: where inputs are cached, and reading peak memory.

use std::path::PathBuf;

/// Generated inputs are kept here between runs (`make bench` sets it outside the
/// clone); they are deterministic, so a cached file is the same file.
pub fn bench_dir() -> PathBuf {
    let dir = std::env::var_os("SHOFAR_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("shofar-bench"));
    std::fs::create_dir_all(&dir).expect("create the benchmark directory");
    dir
}

/// A line of /proc/self/status in MiB (VmHWM: peak resident; VmRSS: resident now).
pub fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Runs this benchmark binary again with `phase` as its argument, so each phase's
/// peak memory is its own; returns the child's standard output.
pub fn run_phase(phase: &str, extra: &[&str]) -> String {
    let exe = std::env::current_exe().expect("own path");
    let output = std::process::Command::new(exe)
        .arg("--phase")
        .arg(phase)
        .args(extra)
        .output()
        .expect("run a benchmark phase");
    if !output.status.success() {
        panic!(
            "phase {phase} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The value after `--phase NAME` style arguments, if any.
pub fn phase_arg() -> Option<(String, Vec<String>)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let at = args.iter().position(|a| a == "--phase")?;
    let name = args.get(at + 1)?.clone();
    Some((name, args[at + 2..].to_vec()))
}

pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cores} cores, {cpu}")
}
