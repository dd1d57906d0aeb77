//! Where a call's prompts are: converted audio in the sounds folder, found by
//! name, and the media URI Asterisk plays them by.
//!
//! Layout under `[asterisk] sounds_dir`: `prompts/NAME.{ulaw,alaw,sln}` for the
//! box's own prompts (menus, confirmations), `campaign-ID/NAME.*` for a
//! campaign's, and `calls/HASH/NAME.*` for the audio of a one-off test call. A
//! campaign's folder wins over the box's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The file extensions Asterisk plays without a transcoder for G.711 trunks,
/// and the linear fallback.
pub const FORMATS: [&str; 3] = ["ulaw", "alaw", "sln"];

/// The sounds folder as the supervisor and Asterisk each see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptLibrary {
    pub sounds_dir: PathBuf,
    pub asterisk_dir: PathBuf,
}

/// A prompt's name as staff type it: 1 to 64 letters (of any script: Hebrew
/// names are welcome), digits, spaces inside, `.`, `-` or `_`, not starting with
/// `.`. No separator, control or direction mark can be in it, and a name is never
/// a path by itself: [`stem`] is what goes on disk.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 64
        && !name.starts_with('.')
        && name.trim() == name
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "._- ".contains(c))
        && !(is_plain(name) && is_hashed_stem(name))
}

/// Only `[A-Za-z0-9._-]`: used on disk as it is.
fn is_plain(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `u-` and 16 hex digits: the form [`stem`] gives other names, so never a name.
fn is_hashed_stem(name: &str) -> bool {
    name.strip_prefix("u-").is_some_and(|hex| {
        hex.len() == 16 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// The file name stem a valid prompt `name` is stored under: the name itself when
/// it is plain ASCII (`thanks`, `donate-menu`; every prompt made before Hebrew
/// names), else `u-` and the first 16 hex digits of its SHA-256 (`תודה` →
/// `u-…`), so what reaches the disk and Asterisk is always ASCII. The register
/// (the store) keeps the name as typed.
pub fn stem(name: &str) -> String {
    if is_plain(name) {
        return name.to_owned();
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("u-{hex}")
}

impl PromptLibrary {
    pub fn folder(&self, folder: &str) -> PathBuf {
        self.sounds_dir.join(folder)
    }

    /// True when `folder` holds a converted `name`.
    pub fn has(&self, folder: &str, name: &str) -> bool {
        FORMATS.iter().any(|ext| {
            self.sounds_dir
                .join(folder)
                .join(format!("{}.{ext}", stem(name)))
                .is_file()
        })
    }

    /// The URI Asterisk plays `folder/name` by.
    pub fn media(&self, folder: &str, name: &str) -> String {
        format!(
            "sound:{}",
            Path::new(&self.asterisk_dir)
                .join(folder)
                .join(stem(name))
                .display()
        )
    }

    /// Resolves `names`, searching `folders` in order. Returns the media URIs and
    /// the names found nowhere.
    pub fn resolve<'a>(
        &self,
        names: impl IntoIterator<Item = &'a String>,
        folders: &[&str],
    ) -> (HashMap<String, String>, Vec<String>) {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for name in names {
            if found.contains_key(name) || missing.contains(name) {
                continue;
            }
            match folders
                .iter()
                .find(|folder| valid_name(name) && self.has(folder, name))
            {
                Some(folder) => {
                    found.insert(name.clone(), self.media(folder, name));
                }
                None => missing.push(name.clone()),
            }
        }
        (found, missing)
    }

    /// Converts `file` into `folder/name` (8 kHz G.711 and linear, what the trunk
    /// plays without transcoding).
    pub fn convert(
        &self,
        file: &Path,
        folder: &str,
        name: &str,
    ) -> Result<shofar_audio::Converted, String> {
        let out_dir = self.folder(folder);
        std::fs::create_dir_all(&out_dir)
            .map_err(|error| format!("cannot create {}: {error}", out_dir.display()))?;
        shofar_audio::convert_file(
            file,
            &out_dir,
            &stem(name),
            &shofar_audio::Limits::default(),
        )
        .map_err(|error| format!("cannot use {} as a prompt: {error}", file.display()))
    }

    /// Converts a one-off message (`shofar call --audio FILE`, a campaign's
    /// `audio` setting) as prompt `name` into a folder named by its content,
    /// once; returns the folder.
    pub fn add_message(&self, file: &Path, name: &str) -> Result<String, String> {
        use sha2::{Digest, Sha256};
        let bytes = std::fs::read(file)
            .map_err(|error| format!("cannot read the message {}: {error}", file.display()))?;
        let digest = Sha256::digest(&bytes);
        let folder = format!(
            "calls/{}",
            digest
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        if !self.has(&folder, name) {
            self.convert(file, &folder, name)?;
        }
        Ok(folder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_campaign_prompt_wins_over_the_box_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let library = PromptLibrary {
            sounds_dir: dir.path().to_owned(),
            asterisk_dir: PathBuf::from("/var/lib/asterisk/sounds/shofar"),
        };
        for (folder, name) in [
            ("prompts", "menu"),
            ("prompts", "thanks"),
            ("campaign-7", "menu"),
        ] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
            std::fs::write(
                dir.path().join(folder).join(format!("{name}.ulaw")),
                [0xFF; 80],
            )
            .unwrap();
        }
        let names = ["menu", "thanks", "goodbye", "../etc"].map(String::from);
        let (found, missing) = library.resolve(&names, &["campaign-7", "prompts"]);
        assert_eq!(
            found["menu"],
            "sound:/var/lib/asterisk/sounds/shofar/campaign-7/menu"
        );
        assert_eq!(
            found["thanks"],
            "sound:/var/lib/asterisk/sounds/shofar/prompts/thanks"
        );
        assert_eq!(missing, ["goodbye", "../etc"]);
    }

    #[test]
    fn hebrew_names_are_prompts_stored_under_a_safe_ascii_stem() {
        for name in ["תודה", "תפריט תרומה", "הודעה-2", "thanks", "donate-menu-he"]
        {
            assert!(valid_name(name), "{name:?} is a name staff may type");
            let stem = stem(name);
            assert!(
                shofar_audio::validate_stem(&stem).is_ok(),
                "{name:?} is stored as {stem:?}"
            );
        }
        // Plain names stay what they were: prompts made before keep their files.
        assert_eq!(stem("thanks"), "thanks");
        assert_eq!(stem("donate-menu-he"), "donate-menu-he");
        let hebrew = stem("תודה");
        assert!(hebrew.starts_with("u-") && hebrew.len() == 18, "{hebrew}");
        assert_ne!(hebrew, stem("תודה רבה"));
        assert_eq!(hebrew, stem("תודה"));
        // A name that looks like another's stem could overwrite it: refused.
        assert!(!valid_name(&hebrew));

        let dir = tempfile::tempdir().unwrap();
        let library = PromptLibrary {
            sounds_dir: dir.path().to_owned(),
            asterisk_dir: PathBuf::from("/var/lib/asterisk/sounds/shofar"),
        };
        std::fs::create_dir_all(dir.path().join("prompts")).unwrap();
        std::fs::write(
            dir.path().join("prompts").join(format!("{hebrew}.ulaw")),
            [0xFF; 80],
        )
        .unwrap();
        let (found, missing) = library.resolve(&["תודה".to_owned()], &["prompts"]);
        assert_eq!(
            found["תודה"],
            format!("sound:/var/lib/asterisk/sounds/shofar/prompts/{hebrew}")
        );
        assert!(missing.is_empty());
    }

    #[test]
    fn hostile_names_are_refused() {
        for name in [
            "",
            ".",
            "..",
            "../etc/passwd",
            "a/b",
            "a\\b",
            ".hidden",
            " leading",
            "trailing ",
            "tab\there",
            "new\nline",
            "nul\0",
            "rtl\u{202e}txt",
            "zero\u{200b}width",
            "קובץ/אחר",
            &"א".repeat(65),
        ] {
            assert!(!valid_name(name), "{name:?} must be refused");
        }
        assert!(valid_name(&"א".repeat(64)));
    }
}
