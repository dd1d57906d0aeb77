//! `[asterisk]` and `[trunk]` of shofar.toml: how the supervisor reaches Asterisk,
//! and the SIP trunk Asterisk dials through. Parsed and validated here; the
//! binary embeds these sections in its config.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use shofar_ari::AriConfig;
use shofar_phone::E164;

/// Problems in `[asterisk]` / `[trunk]`, each naming the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{section} {key}: {message}")]
pub struct ConfigError {
    pub section: &'static str,
    pub key: &'static str,
    pub message: String,
}

fn invalid(section: &'static str, key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        section,
        key,
        message: message.into(),
    }
}

/// `[asterisk]`: the supervisor's side of ARI, and where audio goes.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AsteriskConfig {
    /// Asterisk's HTTP server (http.conf).
    pub ari_url: String,
    pub ari_user: String,
    /// Required for calls; rendered into ari.conf.
    /// Never shown (the effective configuration leaves it out).
    #[serde(skip_serializing)]
    pub ari_password: Option<String>,
    /// The Stasis application name.
    pub app: String,
    /// Where the supervisor writes converted audio (a folder Asterisk can read).
    pub sounds_dir: PathBuf,
    /// The same folder as Asterisk sees it (differs only when Asterisk runs in a
    /// chroot or container); default: `sounds_dir`.
    pub asterisk_sounds_dir: Option<PathBuf>,
    /// Where `shofar asterisk-config --write` puts the rendered configuration.
    pub config_dir: PathBuf,
    /// Seconds a dialed number may ring before the call counts as not answered.
    pub ring_timeout_seconds: u32,
    /// A call longer than this is ended by the supervisor, whatever the IVR does.
    pub max_call_seconds: u32,
}

impl Default for AsteriskConfig {
    fn default() -> AsteriskConfig {
        AsteriskConfig {
            ari_url: "http://127.0.0.1:8088".to_owned(),
            ari_user: "shofar".to_owned(),
            ari_password: None,
            app: "shofar".to_owned(),
            sounds_dir: PathBuf::from("/var/lib/asterisk/sounds/shofar"),
            asterisk_sounds_dir: None,
            config_dir: PathBuf::from("/etc/asterisk"),
            ring_timeout_seconds: 30,
            max_call_seconds: 1800,
        }
    }
}

impl AsteriskConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let section = "[asterisk]";
        if !(self.ari_url.starts_with("http://") || self.ari_url.starts_with("https://")) {
            return Err(invalid(
                section,
                "ari_url",
                format!(
                    "{:?} must start with http:// (e.g. http://127.0.0.1:8088)",
                    self.ari_url
                ),
            ));
        }
        if self.ari_user.is_empty()
            || !self
                .ari_user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Err(invalid(
                section,
                "ari_user",
                "must be letters, digits, - or _",
            ));
        }
        if let Some(password) = &self.ari_password
            && (password.len() < 8 || password.chars().any(|c| c.is_control() || c == ';'))
        {
            return Err(invalid(
                section,
                "ari_password",
                "must be at least 8 characters, with no ';' or control characters",
            ));
        }
        if self.app.is_empty()
            || !self
                .app
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Err(invalid(section, "app", "must be letters, digits, - or _"));
        }
        if !(5..=300).contains(&self.ring_timeout_seconds) {
            return Err(invalid(section, "ring_timeout_seconds", "must be 5 to 300"));
        }
        if !(30..=86_400).contains(&self.max_call_seconds) {
            return Err(invalid(section, "max_call_seconds", "must be 30 to 86400"));
        }
        Ok(())
    }

    /// The ARI client's settings; an error when no password is configured.
    pub fn ari(&self) -> Result<AriConfig, ConfigError> {
        let password = self.ari_password.clone().ok_or_else(|| {
            invalid(
                "[asterisk]",
                "ari_password",
                "is not set: choose one, put it in shofar.toml and run `shofar asterisk-config --write` so ari.conf has it too",
            )
        })?;
        Ok(AriConfig {
            url: self.ari_url.clone(),
            user: self.ari_user.clone(),
            password,
            app: self.app.clone(),
        })
    }

    /// The sounds folder as Asterisk names it.
    pub fn asterisk_sounds_dir(&self) -> &std::path::Path {
        self.asterisk_sounds_dir
            .as_deref()
            .unwrap_or(&self.sounds_dir)
    }
}

/// SIP transport to the carrier.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// How the trunk wants numbers written.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DialFormat {
    /// `0525551234` — what Israeli carriers usually take.
    National,
    /// `+972525551234`.
    E164,
    /// `972525551234`.
    International,
}

/// `[trunk]`: the carrier's SIP trunk.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TrunkConfig {
    /// The PJSIP endpoint's name.
    pub name: String,
    /// The carrier's SIP server, `host` or `host:port`.
    pub host: Option<String>,
    pub transport: Transport,
    /// The box's SIP address and port.
    pub sip_bind: String,
    /// Digest authentication, when the carrier asks for it.
    pub username: Option<String>,
    #[serde(skip_serializing)]
    pub password: Option<String>,
    /// Register to the carrier (default: when a username is set).
    pub register: Option<bool>,
    /// The number callees see when a campaign sets none.
    pub caller_id: Option<String>,
    /// In order of preference; `alaw` and `ulaw` (G.711) play the box's prompts
    /// without transcoding.
    pub codecs: Vec<String>,
    /// `rfc4733`, `info`, `inband` or `auto`.
    pub dtmf_mode: String,
    /// Seconds without media from the far end before Asterisk hangs up.
    pub rtp_timeout: u32,
    /// Seconds between OPTIONS pings to the carrier; 0 turns them off.
    pub qualify_seconds: u32,
    pub dial_format: DialFormat,
    /// The box's public address when it is behind NAT.
    pub external_address: Option<String>,
    /// Networks on the box's side of the NAT (e.g. `192.168.0.0/16`).
    pub local_net: Vec<String>,
}

impl Default for TrunkConfig {
    fn default() -> TrunkConfig {
        TrunkConfig {
            name: "trunk".to_owned(),
            host: None,
            transport: Transport::Udp,
            sip_bind: "0.0.0.0:5060".to_owned(),
            username: None,
            password: None,
            register: None,
            caller_id: None,
            codecs: vec!["alaw".to_owned(), "ulaw".to_owned()],
            dtmf_mode: "rfc4733".to_owned(),
            rtp_timeout: 60,
            qualify_seconds: 60,
            dial_format: DialFormat::National,
            external_address: None,
            local_net: Vec::new(),
        }
    }
}

/// A value that goes into an Asterisk config line as it is.
fn config_safe(value: &str) -> bool {
    !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_control() || c == ';' || c == '[' || c == ']')
}

impl TrunkConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let section = "[trunk]";
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Err(invalid(section, "name", "must be letters, digits, - or _"));
        }
        for (key, value) in [
            ("host", &self.host),
            ("username", &self.username),
            ("password", &self.password),
            ("external_address", &self.external_address),
        ] {
            if let Some(value) = value
                && (!config_safe(value) || value.contains(' '))
            {
                return Err(invalid(
                    section,
                    key,
                    format!("{value:?} has a space, ';', brackets or a control character"),
                ));
            }
        }
        if !config_safe(&self.sip_bind) {
            return Err(invalid(section, "sip_bind", "must be ADDRESS:PORT"));
        }
        if self.password.is_some() != self.username.is_some() {
            return Err(invalid(
                section,
                "password",
                "username and password go together",
            ));
        }
        if self.register == Some(true) && self.username.is_none() {
            return Err(invalid(
                section,
                "register",
                "registration needs username and password",
            ));
        }
        if self.codecs.is_empty() {
            return Err(invalid(
                section,
                "codecs",
                "list at least one codec (alaw, ulaw)",
            ));
        }
        for codec in &self.codecs {
            if !["alaw", "ulaw", "g722", "gsm", "opus", "g729"].contains(&codec.as_str()) {
                return Err(invalid(
                    section,
                    "codecs",
                    format!("unknown codec {codec:?}: use alaw, ulaw, g722, gsm, opus or g729"),
                ));
            }
        }
        if !["rfc4733", "info", "inband", "auto"].contains(&self.dtmf_mode.as_str()) {
            return Err(invalid(
                section,
                "dtmf_mode",
                "must be rfc4733, info, inband or auto",
            ));
        }
        if !(5..=3600).contains(&self.rtp_timeout) {
            return Err(invalid(section, "rtp_timeout", "must be 5 to 3600 seconds"));
        }
        for net in &self.local_net {
            if !config_safe(net) || net.contains(' ') {
                return Err(invalid(
                    section,
                    "local_net",
                    format!("{net:?} is not a network like 192.168.0.0/16"),
                ));
            }
        }
        if let Some(caller_id) = &self.caller_id
            && !caller_id
                .chars()
                .all(|c| c.is_ascii_digit() || "+-() ".contains(c))
        {
            return Err(invalid(section, "caller_id", "must be a phone number"));
        }
        Ok(())
    }

    pub fn registers(&self) -> bool {
        self.register.unwrap_or(self.username.is_some())
    }

    /// The dial string for `number`, e.g. `PJSIP/0525551234@trunk`.
    pub fn endpoint(&self, number: E164) -> String {
        format!("PJSIP/{}@{}", self.dial_digits(number), self.name)
    }

    /// The number as the carrier wants it written.
    pub fn dial_digits(&self, number: E164) -> String {
        let digits = number.as_u64().to_string();
        match self.dial_format {
            DialFormat::E164 => format!("+{digits}"),
            DialFormat::International => digits,
            DialFormat::National => match digits.strip_prefix("972") {
                Some(national) => format!("0{national}"),
                // A foreign number: international format with the Israeli exit code.
                None => format!("00{digits}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_the_way_the_trunk_wants() {
        let number: E164 = "+972525551234".parse().unwrap();
        let mut trunk = TrunkConfig::default();
        assert_eq!(trunk.endpoint(number), "PJSIP/0525551234@trunk");
        trunk.dial_format = DialFormat::E164;
        assert_eq!(trunk.dial_digits(number), "+972525551234");
        trunk.dial_format = DialFormat::International;
        assert_eq!(trunk.dial_digits(number), "972525551234");
        trunk.dial_format = DialFormat::National;
        let foreign: E164 = "+442071234567".parse().unwrap();
        assert_eq!(trunk.dial_digits(foreign), "00442071234567");
    }

    #[test]
    fn bad_trunk_settings_name_their_key() {
        let check = |trunk: TrunkConfig, key: &str| {
            assert_eq!(trunk.validate().unwrap_err().key, key);
        };
        check(
            TrunkConfig {
                name: "my trunk".into(),
                ..TrunkConfig::default()
            },
            "name",
        );
        check(
            TrunkConfig {
                username: Some("u".into()),
                ..TrunkConfig::default()
            },
            "password",
        );
        check(
            TrunkConfig {
                host: Some("a;b".into()),
                ..TrunkConfig::default()
            },
            "host",
        );
        check(
            TrunkConfig {
                codecs: vec!["mp3".into()],
                ..TrunkConfig::default()
            },
            "codecs",
        );
        check(
            TrunkConfig {
                dtmf_mode: "sip".into(),
                ..TrunkConfig::default()
            },
            "dtmf_mode",
        );
        check(
            TrunkConfig {
                register: Some(true),
                ..TrunkConfig::default()
            },
            "register",
        );
        assert!(TrunkConfig::default().validate().is_ok());
    }

    #[test]
    fn ari_needs_a_password() {
        let error = AsteriskConfig::default().ari().unwrap_err();
        assert_eq!(error.key, "ari_password");
        let config = AsteriskConfig {
            ari_password: Some("short".into()),
            ..AsteriskConfig::default()
        };
        assert_eq!(config.validate().unwrap_err().key, "ari_password");
    }
}
