//! The dialer's figures in the Prometheus text format, for `/metrics`.
//!
//! Counters only ever go up (`_total`); gauges are set by the dialer each time it
//! knows better. Per-campaign series carry the campaign's id as a label.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CampaignLabel {
    pub campaign: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub campaign: String,
    pub outcome: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// Every series the dialer exports. Cheap to share behind an `Arc`.
pub struct Metrics {
    registry: Registry,
    pub calls_active: Family<CampaignLabel, Gauge>,
    pub calls_started: Family<CampaignLabel, Counter>,
    pub calls_ended: Family<OutcomeLabels, Counter>,
    pub queued: Family<CampaignLabel, Gauge>,
    pub pace_cps: Family<CampaignLabel, FloatGauge>,
    pub box_pace_cps: FloatGauge,
    pub box_ceiling_cps: FloatGauge,
    pub dial_rate_cps: FloatGauge,
    pub max_channels: Gauge,
    pub pace_changes: Counter,
    /// Rounds skipped because another process held the database.
    pub store_busy: Counter,
    pub cpu_percent: FloatGauge,
    pub memory_percent: FloatGauge,
    pub load_per_core: FloatGauge,
    pub asterisk_channels: Gauge,
    pub telephony_up: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("shofar");
        let metrics = Metrics {
            calls_active: Family::default(),
            calls_started: Family::default(),
            calls_ended: Family::default(),
            queued: Family::default(),
            pace_cps: Family::default(),
            box_pace_cps: FloatGauge::default(),
            box_ceiling_cps: FloatGauge::default(),
            dial_rate_cps: FloatGauge::default(),
            max_channels: Gauge::default(),
            pace_changes: Counter::default(),
            store_busy: Counter::default(),
            cpu_percent: FloatGauge::default(),
            memory_percent: FloatGauge::default(),
            load_per_core: FloatGauge::default(),
            asterisk_channels: Gauge::default(),
            telephony_up: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "calls_active",
            "Calls up now (dialing, ringing or answered), per campaign",
            metrics.calls_active.clone(),
        );
        registry.register(
            "calls_started",
            "Calls dialed, per campaign",
            metrics.calls_started.clone(),
        );
        registry.register(
            "calls_ended",
            "Calls ended, per campaign and outcome",
            metrics.calls_ended.clone(),
        );
        registry.register(
            "dialer_queued",
            "Contacts taken for a call and waiting for the pace to allow the dial",
            metrics.queued.clone(),
        );
        registry.register(
            "campaign_pace_cps",
            "A campaign's pace now (calls per second), after answer-rate adjustments",
            metrics.pace_cps.clone(),
        );
        registry.register(
            "pace_cps",
            "The box's pace now (calls per second), after health adjustments",
            metrics.box_pace_cps.clone(),
        );
        registry.register(
            "pace_ceiling_cps",
            "The box's configured calls-per-second ceiling",
            metrics.box_ceiling_cps.clone(),
        );
        registry.register(
            "dial_rate_cps",
            "Calls dialed in the last second",
            metrics.dial_rate_cps.clone(),
        );
        registry.register(
            "max_channels",
            "The box's limit on calls up at once",
            metrics.max_channels.clone(),
        );
        registry.register(
            "store_busy",
            "Dialer rounds skipped because the database was busy (another process writing); each is tried again",
            metrics.store_busy.clone(),
        );
        registry.register(
            "pace_changes",
            "Changes of any pace (see `shofar pacing log`)",
            metrics.pace_changes.clone(),
        );
        registry.register(
            "health_cpu_percent",
            "CPU use of the box, all cores",
            metrics.cpu_percent.clone(),
        );
        registry.register(
            "health_memory_percent",
            "Memory in use",
            metrics.memory_percent.clone(),
        );
        registry.register(
            "health_load_per_core",
            "One-minute load average per core",
            metrics.load_per_core.clone(),
        );
        registry.register(
            "asterisk_channels",
            "Channels the telephony engine has up, of every kind",
            metrics.asterisk_channels.clone(),
        );
        registry.register(
            "telephony_up",
            "1 while the link to the telephony engine is up",
            metrics.telephony_up.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// Adds series another part of the supervisor reads at each scrape (the
    /// sync agent's, from its status file), under the same `shofar_` prefix.
    pub fn register_collector(&mut self, collector: Box<dyn Collector>) {
        self.registry.register_collector(collector);
    }

    /// Everything, in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    pub fn campaign(id: i64) -> CampaignLabel {
        CampaignLabel {
            campaign: id.to_string(),
        }
    }
}
