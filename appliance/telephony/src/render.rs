//! Renders the project's Asterisk configuration (`asterisk/` in the source tree)
//! with the box's `[asterisk]` and `[trunk]` settings. The templates are compiled
//! in, so the binary that runs the box also writes the Asterisk config that
//! matches it.

use std::path::{Path, PathBuf};

use crate::config::{AsteriskConfig, ConfigError, TrunkConfig};

/// The templates, by file name. `{{key}}` placeholders are filled by [`render`].
const TEMPLATES: &[(&str, &str)] = &[
    (
        "asterisk.conf",
        include_str!("../../../asterisk/asterisk.conf"),
    ),
    (
        "modules.conf",
        include_str!("../../../asterisk/modules.conf"),
    ),
    ("logger.conf", include_str!("../../../asterisk/logger.conf")),
    ("http.conf", include_str!("../../../asterisk/http.conf")),
    ("ari.conf", include_str!("../../../asterisk/ari.conf")),
    ("amd.conf", include_str!("../../../asterisk/amd.conf")),
    (
        "extensions.conf",
        include_str!("../../../asterisk/extensions.conf"),
    ),
    ("pjsip.conf", include_str!("../../../asterisk/pjsip.conf")),
    (
        "manager.conf",
        include_str!("../../../asterisk/manager.conf"),
    ),
];

/// Config files modules look for even when they have nothing to say; empty ones
/// keep the start-up log free of errors.
const EMPTY: &[&str] = &[
    "cdr.conf",
    "cel.conf",
    "features.conf",
    "acl.conf",
    "udptl.conf",
    "pjproject.conf",
    "ccss.conf",
    "websocket_client.conf",
    "rtp.conf",
];

/// The dialplan context the application sends a call to for answering-machine
/// detection.
pub const AMD_CONTEXT: &str = "shofar-amd";

fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (key, value) in values {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

/// Marks where pjsip.conf's trunk begins.
const TRUNK_MARKER: &str = "; --- the trunk ---";

/// pjsip.conf's template up to the trunk, and a note saying how to add one.
fn without_trunk(template: &str) -> String {
    let head = template
        .split_once(TRUNK_MARKER)
        .map_or(template, |(head, _)| head);
    format!(
        "{head}; No trunk yet: set [trunk] host in shofar.toml, then run\n\
         ; `shofar asterisk-config --write` and reload Asterisk (docs/trunk.md).\n"
    )
}

/// `http://HOST:PORT` → (HOST, PORT).
fn http_bind(url: &str) -> Result<(String, u16), ConfigError> {
    let invalid = || ConfigError {
        section: "[asterisk]",
        key: "ari_url",
        message: format!("{url:?} is not http://ADDRESS:PORT"),
    };
    let rest = url.strip_prefix("http://").ok_or_else(invalid)?;
    let authority = rest.split('/').next().unwrap_or_default();
    match authority.rsplit_once(':') {
        Some((host, port)) => Ok((host.to_owned(), port.parse().map_err(|_| invalid())?)),
        None => Ok((authority.to_owned(), 80)),
    }
}

/// Every config file's name and text.
pub fn render(
    asterisk: &AsteriskConfig,
    trunk: &TrunkConfig,
) -> Result<Vec<(String, String)>, ConfigError> {
    asterisk.validate()?;
    trunk.validate()?;
    let ari = asterisk.ari()?;
    // A box without a carrier yet (a fresh appliance) still gets Asterisk with ARI:
    // pjsip.conf stops before the trunk, and the web UI and `asterisk-status` show
    // the trunk as missing until [trunk] host is set.
    let host = trunk.host.clone().unwrap_or_default();
    let (http_address, http_port) = http_bind(&asterisk.ari_url)?;
    let match_host = host
        .rsplit_once(':')
        .map_or(host.as_str(), |(h, _)| h)
        .to_owned();

    let mut transport_nat = String::new();
    if let Some(external) = &trunk.external_address {
        transport_nat.push_str(&format!(
            "external_media_address = {external}\nexternal_signaling_address = {external}\n"
        ));
        for net in &trunk.local_net {
            transport_nat.push_str(&format!("local_net = {net}\n"));
        }
    }
    let mut endpoint_extra = String::new();
    let mut auth_sections = String::new();
    let name = &trunk.name;
    if let (Some(username), Some(password)) = (&trunk.username, &trunk.password) {
        endpoint_extra.push_str(&format!(
            "outbound_auth = {name}-auth\nfrom_user = {username}\n"
        ));
        auth_sections.push_str(&format!(
            "\n[{name}-auth]\ntype = auth\nauth_type = userpass\nusername = {username}\npassword = {password}\n"
        ));
        if trunk.registers() {
            auth_sections.push_str(&format!(
                "\n[{name}-registration]\ntype = registration\ntransport = transport-{transport}\n\
                 outbound_auth = {name}-auth\nserver_uri = sip:{host}\nclient_uri = sip:{username}@{host}\n\
                 retry_interval = 60\nforbidden_retry_interval = 600\nexpiration = 3600\n",
                transport = trunk.transport.as_str()
            ));
        }
    }
    if let Some(caller_id) = &trunk.caller_id {
        let digits: String = caller_id
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        endpoint_extra.push_str(&format!("callerid = <{digits}>\n"));
    }
    let values = [
        ("http_bind_address", http_address),
        ("http_port", http_port.to_string()),
        ("ari_user", ari.user.clone()),
        ("ari_password", ari.password.clone()),
        ("ari_app", ari.app.clone()),
        ("transport", trunk.transport.as_str().to_owned()),
        ("sip_bind", trunk.sip_bind.clone()),
        ("transport_nat", transport_nat),
        ("trunk", name.clone()),
        ("codecs", trunk.codecs.join(",")),
        ("dtmf_mode", trunk.dtmf_mode.clone()),
        ("rtp_timeout", trunk.rtp_timeout.to_string()),
        ("endpoint_extra", endpoint_extra),
        ("host", host),
        ("qualify_frequency", trunk.qualify_seconds.to_string()),
        ("match", match_host),
        ("auth_sections", auth_sections),
    ];
    let mut files: Vec<(String, String)> = TEMPLATES
        .iter()
        .map(|(file, template)| {
            let template = match (*file, &trunk.host) {
                ("pjsip.conf", None) => without_trunk(template),
                _ => (*template).to_owned(),
            };
            ((*file).to_owned(), fill(&template, &values))
        })
        .collect();
    files.extend(EMPTY.iter().map(|file| ((*file).to_owned(), String::new())));
    Ok(files)
}

/// Writes the rendered files into `dir` (each one atomically) and returns their
/// paths. The files hold the ARI and trunk passwords: each is mode 0640 and gets
/// the folder's owner and group (Debian's `/etc/asterisk` is `asterisk:asterisk`),
/// so Asterisk reads them and other users do not, whoever runs the command.
pub fn write(dir: &Path, files: &[(String, String)]) -> std::io::Result<Vec<PathBuf>> {
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    std::fs::create_dir_all(dir)?;
    let folder = std::fs::metadata(dir)?;
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        let temporary = dir.join(format!(".{name}.new"));
        let _ = std::fs::remove_file(&temporary);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(&temporary)?;
        file.write_all(text.as_bytes())?;
        let made = file.metadata()?;
        if (made.uid(), made.gid()) != (folder.uid(), folder.gid()) {
            std::os::unix::fs::fchown(&file, Some(folder.uid()), Some(folder.gid()))?;
        }
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, &path)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configs() -> (AsteriskConfig, TrunkConfig) {
        (
            AsteriskConfig {
                ari_password: Some("testbed-secret".into()),
                ..AsteriskConfig::default()
            },
            TrunkConfig {
                name: "carrier".into(),
                host: Some("sip.example.co.il:5060".into()),
                username: Some("972361234".into()),
                password: Some("s3cret".into()),
                caller_id: Some("03-6123456".into()),
                ..TrunkConfig::default()
            },
        )
    }

    #[test]
    fn every_placeholder_is_filled() {
        let (asterisk, trunk) = configs();
        for (name, text) in render(&asterisk, &trunk).unwrap() {
            assert!(
                !text.contains("{{"),
                "{name} still has a placeholder:\n{text}"
            );
        }
    }

    #[test]
    fn the_trunk_gets_auth_registration_and_caller_id() {
        let (asterisk, trunk) = configs();
        let files = render(&asterisk, &trunk).unwrap();
        let pjsip = &files.iter().find(|(n, _)| n == "pjsip.conf").unwrap().1;
        for line in [
            "[carrier]\ntype = endpoint",
            "allow = alaw,ulaw",
            "outbound_auth = carrier-auth",
            "callerid = <036123456>",
            "contact = sip:sip.example.co.il:5060",
            "match = sip.example.co.il",
            "client_uri = sip:972361234@sip.example.co.il:5060",
            "rtp_timeout = 60",
        ] {
            assert!(pjsip.contains(line), "pjsip.conf lacks {line:?}:\n{pjsip}");
        }
        let ari = &files.iter().find(|(n, _)| n == "ari.conf").unwrap().1;
        assert!(ari.contains("[shofar]\ntype = user") && ari.contains("password = testbed-secret"));
        let http = &files.iter().find(|(n, _)| n == "http.conf").unwrap().1;
        assert!(http.contains("bindaddr = 127.0.0.1\nbindport = 8088"));
    }

    #[test]
    fn without_credentials_there_is_no_auth_or_registration() {
        let (asterisk, mut trunk) = configs();
        trunk.username = None;
        trunk.password = None;
        let files = render(&asterisk, &trunk).unwrap();
        let pjsip = &files.iter().find(|(n, _)| n == "pjsip.conf").unwrap().1;
        assert!(!pjsip.contains("type = auth") && !pjsip.contains("type = registration"));
    }

    #[test]
    fn without_a_host_asterisk_gets_ari_and_no_trunk() {
        let (asterisk, mut trunk) = configs();
        trunk.host = None;
        let files = render(&asterisk, &trunk).unwrap();
        let file = |name: &str| &files.iter().find(|(n, _)| n == name).unwrap().1;
        let pjsip = file("pjsip.conf");
        assert!(pjsip.contains("[transport-udp]"), "{pjsip}");
        assert!(pjsip.contains("No trunk yet: set [trunk] host"), "{pjsip}");
        assert!(
            !pjsip.contains("[carrier]") && !pjsip.contains("type = auth"),
            "{pjsip}"
        );
        assert!(!pjsip.contains("{{"), "{pjsip}");
        assert!(file("ari.conf").contains("testbed-secret"));
    }

    #[test]
    fn written_files_are_0640_with_the_folders_owner() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let (asterisk, trunk) = configs();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ari.conf"), "old").unwrap();
        std::fs::set_permissions(
            dir.path().join("ari.conf"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let written = write(dir.path(), &render(&asterisk, &trunk).unwrap()).unwrap();
        let folder = std::fs::metadata(dir.path()).unwrap();
        for path in written {
            let meta = std::fs::metadata(&path).unwrap();
            assert_eq!(meta.mode() & 0o777, 0o640, "{}", path.display());
            assert_eq!((meta.uid(), meta.gid()), (folder.uid(), folder.gid()));
        }
        let ari = std::fs::read_to_string(dir.path().join("ari.conf")).unwrap();
        assert!(ari.contains("testbed-secret"));
    }

    #[test]
    fn a_missing_password_is_named() {
        let (mut asterisk, trunk) = configs();
        asterisk.ari_password = None;
        assert_eq!(render(&asterisk, &trunk).unwrap_err().key, "ari_password");
    }
}
