//! Word lists for the generated contacts: what Israeli office spreadsheets hold.
//!
//! Each list is ordered roughly from common to rare; `crate::numbers::skewed` draws from
//! them with a skew toward the front. Every string here must be encodable in
//! windows-1255 (Hebrew letters, ASCII): the CSV writer refuses anything else.

/// Names of one community: first names and surnames that go together, and the
/// cities where its people mostly live (names from [`CITIES`]; `&[]` means any).
pub(crate) struct Community {
    pub(crate) first_names: &'static [&'static str],
    pub(crate) surnames: &'static [&'static str],
    pub(crate) cities: &'static [&'static str],
}

/// How often each of [`COMMUNITIES`] appears in a contact list.
pub(crate) const COMMUNITY_WEIGHTS: [u32; 3] = [72, 20, 8];

/// Jewish Israelis (Hebrew and traditional names), Arab Israelis, and immigrants
/// from the former Soviet Union.
#[rustfmt::skip]
pub(crate) const COMMUNITIES: [Community; 3] = [
    Community {
        first_names: &[
            "משה", "יוסף", "דוד", "אברהם", "יעקב", "שרה", "רחל", "נועה", "מיכל", "יעל",
            "תמר", "אורי", "איתי", "נועם", "יצחק", "שלמה", "חיים", "אסתר", "מרים", "רבקה",
            "לאה", "חנה", "אליהו", "שמואל", "מאיר", "אהרון", "דניאל", "יונתן", "עומר", "אריאל",
            "שירה", "מאיה", "אביגיל", "אדל", "רוני", "עדי", "הילה", "ליאור", "גיל", "אלון",
            "רונית", "אורית", "סיגל", "מירב", "קרן", "ענבל", "יוסי", "אבי", "רון", "עמית",
            "מנחם", "ישראל", "מרדכי", "בנימין", "נחום", "צבי", "שמעון", "ראובן", "זהבה", "פנינה",
        ],
        surnames: &[
            "כהן", "לוי", "מזרחי", "פרץ", "ביטון", "דהן", "אברהם", "פרידמן", "מלכה", "אזולאי",
            "כץ", "יוסף", "דוד", "עמר", "אוחיון", "חדד", "גבאי", "בן דוד", "אדרי", "לוין",
            "טל", "קליין", "חזן", "שפירא", "גולדשטיין", "רוזנברג", "אשכנזי", "ויס", "שלום", "סויסה",
            "אלון", "ברק", "שושן", "יעקב", "נחום", "מימון", "ששון", "אטיאס", "זילברמן", "בן חיים",
            "רבינוביץ", "הורוביץ", "וקנין", "אלמוג", "שטרן", "גרינברג", "מרקוביץ", "בכר", "עזרא", "רייכמן",
        ],
        cities: &[],
    },
    Community {
        first_names: &[
            "מוחמד", "אחמד", "מחמוד", "עלי", "חוסיין", "יוסוף", "פאטמה", "אמל", "רים", "סמיר",
            "עומר", "איברהים", "ח'אלד", "נור", "מרים", "סלים", "ראמי", "ג'מיל", "היבה", "לינא",
        ],
        surnames: &[
            "אגבאריה", "חורי", "עבאס", "מנסור", "חסן", "סעדי", "זועבי", "מסארווה", "ג'בארין", "נסאר",
            "עודה", "אבו שחאדה", "חביב אללה", "דראושה", "טאהא", "סלאמה",
        ],
        // Arab towns and the mixed cities
        cities: &[
            "נצרת", "אום אל-פחם", "רהט", "טייבה", "שפרעם", "חיפה", "ירושלים", "עכו", "לוד", "רמלה",
        ],
    },
    Community {
        first_names: &[
            "יבגני", "דמיטרי", "אולגה", "סבטלנה", "אלכסנדר", "נטליה", "ויקטוריה", "איגור",
            "יוליה", "מקסים", "אנה", "ולדימיר", "אירינה", "סרגיי", "טטיאנה", "בוריס",
        ],
        surnames: &[
            "איבנוב", "קוזנצוב", "פטרוב", "סמירנוב", "גורדון", "ברקוביץ", "וולך", "פישר",
            "ליברמן", "שפירו", "קפלן", "רבינוביץ", "פולונסקי", "גלפנד",
        ],
        cities: &[],
    },
];

/// The area code of a city in [`CITIES`].
pub(crate) fn city(name: &str) -> (&'static str, u8) {
    *CITIES
        .iter()
        .find(|(city, _)| *city == name)
        .unwrap_or_else(|| panic!("{name} is not in CITIES"))
}

/// Cities, with the landline area code (trunk prefix 0 not included) people
/// there have, so landlines agree with the city column.
pub(crate) const CITIES: &[(&str, u8)] = &[
    ("ירושלים", 2),
    ("תל אביב-יפו", 3),
    ("חיפה", 4),
    ("בני ברק", 3),
    ("אשדוד", 8),
    ("פתח תקווה", 3),
    ("באר שבע", 8),
    ("ראשון לציון", 3),
    ("נתניה", 9),
    ("חולון", 3),
    ("רמת גן", 3),
    ("בית שמש", 2),
    ("אשקלון", 8),
    ("רחובות", 8),
    ("בת ים", 3),
    ("כפר סבא", 9),
    ("הרצליה", 9),
    ("חדרה", 4),
    ("מודיעין-מכבים-רעות", 8),
    ("לוד", 8),
    ("רמלה", 8),
    ("רעננה", 9),
    ("נצרת", 4),
    ("ראש העין", 3),
    ("הוד השרון", 9),
    ("אלעד", 3),
    ("קריית גת", 8),
    ("עפולה", 4),
    ("נהריה", 4),
    ("קריית אתא", 4),
    ("אום אל-פחם", 4),
    ("טבריה", 4),
    ("אילת", 8),
    ("צפת", 4),
    ("דימונה", 8),
    ("נתיבות", 8),
    ("אופקים", 8),
    ("זכרון יעקב", 4),
    ("רהט", 8),
    ("טייבה", 9),
    ("שפרעם", 4),
    ("עכו", 4),
];

/// The notes column, when it is not empty.
pub(crate) const NOTES: &[&str] = &[
    "משרד",
    "לא לפני 10",
    "להתקשר אחרי 17:00",
    "לא בשבת",
    "בית",
    "לקוח ותיק",
    "ביקש שיחזרו אליו",
    "המספר של הבן",
    "לא עונה בבוקר",
    "VIP",
    "עבר דירה",
    "מעדיף וואטסאפ",
];

/// A note typed into the phone cell after the number (`052-5551234 משרד`).
pub(crate) const PHONE_NOTES: &[&str] = &[
    "משרד",
    "בית",
    "נייד",
    "עבודה",
    "(אבא)",
    "- אמא",
    "שלוחה 3",
    "ערב",
];

/// What people type into the phone column when they have no number.
pub(crate) const GARBAGE: &[&str] = &[
    "אין",
    "לא ידוע",
    "n/a",
    "N/A",
    "-",
    "אין טלפון",
    "?",
    "ללא",
    "#N/A",
    "טלפון",
    "לברר",
    "x",
    "אין מספר",
    "---",
];

/// Letters that slip into hand-typed numbers in place of digits.
pub(crate) const DIGIT_LOOKALIKES: &[char] = &['O', 'o', 'l', 'I', 'S', 'B', 'ם', 'ו'];
