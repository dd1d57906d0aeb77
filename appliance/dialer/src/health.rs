//! The box's health as the pacing controller reads it: CPU, memory and load from
//! the operating system (sysinfo), behind a trait so tests can play any reading.

use serde::Serialize;

/// One reading of the box itself (Asterisk's channels and the answer rate are
/// added by the dialer).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct LocalHealth {
    /// Of all cores, 0–100.
    pub cpu_percent: f64,
    /// Used memory over total, 0–100.
    pub memory_percent: f64,
    /// The one-minute load average over the number of cores.
    pub load_per_core: f64,
}

/// Where readings come from.
pub trait HealthSource: Send + Sync {
    fn read(&mut self) -> LocalHealth;
}

/// Readings from the operating system. CPU usage is measured between two
/// reads, so the first read after start reports 0.
pub struct SystemHealth {
    system: sysinfo::System,
    cores: f64,
}

impl Default for SystemHealth {
    fn default() -> SystemHealth {
        SystemHealth::new()
    }
}

impl SystemHealth {
    pub fn new() -> SystemHealth {
        let mut system = sysinfo::System::new();
        system.refresh_cpu_usage();
        system.refresh_memory();
        let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        SystemHealth { system, cores }
    }
}

impl HealthSource for SystemHealth {
    fn read(&mut self) -> LocalHealth {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory();
        let total = self.system.total_memory();
        // "Available" counts reclaimable caches as free, as the kernel does.
        let used = total.saturating_sub(self.system.available_memory());
        LocalHealth {
            cpu_percent: f64::from(self.system.global_cpu_usage()),
            memory_percent: if total == 0 {
                0.0
            } else {
                used as f64 * 100.0 / total as f64
            },
            load_per_core: sysinfo::System::load_average().one / self.cores,
        }
    }
}

/// A reading set from outside (tests, and the demo's "what if" knob).
#[derive(Debug, Clone, Default)]
pub struct FixedHealth(pub std::sync::Arc<parking_lot::Mutex<LocalHealth>>);

impl FixedHealth {
    pub fn set(&self, health: LocalHealth) {
        *self.0.lock() = health;
    }
}

impl HealthSource for FixedHealth {
    fn read(&mut self) -> LocalHealth {
        *self.0.lock()
    }
}
