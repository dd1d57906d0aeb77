//! Where the box is, and the Israeli cities it knows by name.

use chrono_tz::Tz;

/// Where the box is: sunset and nightfall are computed here.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub name: String,
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// The city's custom, used when the rules do not set one (40 in Jerusalem, 30 in
    /// Haifa, 20 elsewhere in Israel).
    pub candle_lighting_minutes: u32,
    /// For local wall times only (`erev_from`, civil dates); sun times are in UTC.
    pub time_zone: Tz,
}

/// A city the box knows: its key, display name, coordinates and candle-lighting custom.
struct City {
    key: &'static str,
    name: &'static str,
    latitude: f64,
    longitude: f64,
    candle_lighting_minutes: u32,
}

/// The cities, with the GeoNames coordinates hebcal uses for them, so that our times
/// are the times hebcal publishes.
const CITIES: [City; 12] = [
    city("jerusalem", "Jerusalem", 31.76904, 35.21633, 40),
    city("tel_aviv", "Tel Aviv", 32.08088, 34.78057, 20),
    city("haifa", "Haifa", 32.81841, 34.9885, 30),
    city("beer_sheva", "Beer Sheva", 31.25181, 34.7913, 20),
    city("eilat", "Eilat", 29.55805, 34.94821, 20),
    city("netanya", "Netanya", 32.33291, 34.85992, 20),
    city("ashdod", "Ashdod", 31.79213, 34.64966, 20),
    city("bnei_brak", "Bnei Brak", 32.08074, 34.8338, 20),
    city("petah_tikva", "Petah Tikva", 32.08707, 34.88747, 20),
    city("rishon_lezion", "Rishon LeZion", 31.97102, 34.78939, 20),
    city("tiberias", "Tiberias", 32.79221, 35.53124, 20),
    city("safed", "Safed", 32.96465, 35.496, 20),
];

const fn city(
    key: &'static str,
    name: &'static str,
    latitude: f64,
    longitude: f64,
    candle_lighting_minutes: u32,
) -> City {
    City {
        key,
        name,
        latitude,
        longitude,
        candle_lighting_minutes,
    }
}

/// The keys of [`CITIES`], in the same order.
const KEYS: [&str; CITIES.len()] = {
    let mut keys = [""; CITIES.len()];
    let mut i = 0;
    while i < CITIES.len() {
        keys[i] = CITIES[i].key;
        i += 1;
    }
    keys
};

/// Other spellings people type, normalized, and the key they mean.
const ALIASES: [(&str, &str); 14] = [
    ("tel_aviv_yafo", "tel_aviv"),
    ("tel_aviv_jaffa", "tel_aviv"),
    ("beersheba", "beer_sheva"),
    ("beer_sheba", "beer_sheva"),
    ("beersheva", "beer_sheva"),
    ("petach_tikva", "petah_tikva"),
    ("petach_tikvah", "petah_tikva"),
    ("petah_tikvah", "petah_tikva"),
    ("rishon_leziyyon", "rishon_lezion"),
    ("rishon_le_zion", "rishon_lezion"),
    ("tzfat", "safed"),
    ("tsfat", "safed"),
    ("zefat", "safed"),
    ("tveria", "tiberias"),
];

/// Lowercase; spaces, hyphens, underscores and dots become one `_`; apostrophes go.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for ch in name.trim().chars() {
        match ch {
            '\'' | '\u{2019}' | '`' => {}
            ' ' | '-' | '_' | '.' | '\t' => {
                if !out.is_empty() && !out.ends_with('_') {
                    out.push('_');
                }
            }
            _ => out.extend(ch.to_lowercase()),
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

impl Location {
    /// A known Israeli city by name: any of [`Location::known_names`] or a common
    /// spelling of one, case-insensitive, with spaces, hyphens or underscores
    /// ("Tel Aviv", "tel-aviv", "TEL_AVIV"). `None` for any other name.
    pub fn named(name: &str) -> Option<Location> {
        let key = normalize(name);
        let key = ALIASES
            .iter()
            .find(|(alias, _)| *alias == key)
            .map_or(key.as_str(), |(_, key)| key);
        CITIES
            .iter()
            .find(|city| city.key == key)
            .map(|city| Location {
                name: city.name.to_owned(),
                latitude: city.latitude,
                longitude: city.longitude,
                candle_lighting_minutes: city.candle_lighting_minutes,
                time_zone: Tz::Asia__Jerusalem,
            })
    }

    /// Jerusalem, the default location (candle-lighting 40 minutes before sunset).
    pub fn jerusalem() -> Location {
        Location::custom("Jerusalem", 31.76904, 35.21633, 40)
    }

    /// The keys [`Location::named`] knows, e.g. `"jerusalem"`, `"tel_aviv"`.
    pub fn known_names() -> &'static [&'static str] {
        &KEYS
    }

    /// A location in Israel given by coordinates (degrees north and east) and its
    /// candle-lighting minutes; time zone Asia/Jerusalem. The caller validates the
    /// coordinates; where the sun never sets or never gets dark enough, the calendar
    /// falls back to conservative whole-day quiet periods.
    pub fn custom(
        name: impl Into<String>,
        latitude: f64,
        longitude: f64,
        candle_lighting_minutes: u32,
    ) -> Location {
        Location {
            name: name.into(),
            latitude,
            longitude,
            candle_lighting_minutes,
            time_zone: Tz::Asia__Jerusalem,
        }
    }
}

impl Default for Location {
    /// [`Location::jerusalem`].
    fn default() -> Location {
        Location::jerusalem()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_names_are_normal() {
        for city in &CITIES {
            assert_eq!(normalize(city.name), city.key, "display names round-trip");
            assert_eq!(normalize(city.key), city.key);
        }
        for (_, key) in ALIASES {
            assert!(KEYS.contains(&key), "{key}");
        }
    }

    #[test]
    fn names_are_tolerant() {
        for name in [
            "tel aviv",
            "Tel Aviv",
            "tel-aviv",
            "TEL_AVIV",
            " tel  aviv ",
            "Tel Aviv-Yafo",
        ] {
            let location = Location::named(name).unwrap_or_else(|| panic!("{name:?}"));
            assert_eq!(location.name, "Tel Aviv");
            assert_eq!(location.candle_lighting_minutes, 20);
        }
        assert_eq!(
            Location::named("Be'er Sheva").map(|l| l.name),
            Some("Beer Sheva".into())
        );
        assert_eq!(
            Location::named("petach-tikvah").map(|l| l.name),
            Some("Petah Tikva".into())
        );
        assert_eq!(
            Location::named("Tzfat").map(|l| l.name),
            Some("Safed".into())
        );
        assert_eq!(Location::named("new york"), None);
        assert_eq!(Location::named(""), None);
    }

    #[test]
    fn customs_and_zone() {
        for key in Location::known_names() {
            let location = Location::named(key).expect("known");
            let expected = match *key {
                "jerusalem" => 40,
                "haifa" => 30,
                _ => 20,
            };
            assert_eq!(location.candle_lighting_minutes, expected, "{key}");
            assert_eq!(location.time_zone, Tz::Asia__Jerusalem);
            assert!((29.0..34.0).contains(&location.latitude), "{key}");
            assert!((34.0..36.0).contains(&location.longitude), "{key}");
        }
        assert_eq!(Location::named("jerusalem"), Some(Location::jerusalem()));
        assert_eq!(Location::default(), Location::jerusalem());
    }
}
