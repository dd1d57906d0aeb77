//! Every word a report shows, in Hebrew and English. A value the tables do not
//! know (a new outcome, a status) is shown as it is, never dropped.

use shofar_vocab::{CallOutcome, Stored};

use crate::model::Lang;

/// The labels, headings and column names of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    ReportTitle,
    CampaignSection,
    TotalsSection,
    OutcomesSection,
    CallsSection,
    SummarySheet,
    CallsSheet,
    CampaignId,
    CampaignName,
    Kind,
    Purpose,
    Status,
    Created,
    PeriodFrom,
    OpenStart,
    OpenEnd,
    Generated,
    TimeZone,
    Calls,
    InCall,
    Dialed,
    Answered,
    Voicemail,
    Converted,
    OptedOut,
    TalkTime,
    FirstCall,
    LastCall,
    AnswerRate,
    ConversionRate,
    OptOutRate,
    Outcome,
    Count,
    Share,
    CallId,
    Campaign,
    Number,
    Attempt,
    StartedAt,
    AnsweredAt,
    EndedAt,
    Keys,
    HangupCause,
    Page,
    NoCalls,
    PeriodUntil,
    PeriodBefore,
    Duration,
    Yes,
    No,
    KeysSection,
    Reached,
    NoKey,
    InvalidKey,
    PressedKey,
    NoMenus,
    SummaryTitle,
    ShareOfReached,
    LeadsTo,
    ContactsTotal,
    ContactsReached,
}

impl Text {
    pub(crate) fn get(self, lang: Lang) -> &'static str {
        let (he, en) = match self {
            Text::ReportTitle => ("דוח קמפיין", "Campaign report"),
            Text::CampaignSection => ("פרטי הקמפיין", "Campaign"),
            Text::TotalsSection => ("סיכום", "Totals"),
            Text::OutcomesSection => ("תוצאות השיחות", "Call outcomes"),
            Text::CallsSection => ("השיחות", "Calls"),
            Text::SummarySheet => ("סיכום", "Summary"),
            Text::CallsSheet => ("שיחות", "Calls"),
            Text::CampaignId => ("מספר קמפיין", "Campaign ID"),
            Text::CampaignName => ("שם הקמפיין", "Name"),
            Text::Kind => ("סוג", "Type"),
            Text::Purpose => ("מטרה", "Purpose"),
            Text::Status => ("סטטוס", "Status"),
            Text::Created => ("נוצר", "Created"),
            Text::PeriodFrom => ("מתאריך", "From"),
            Text::OpenStart => ("מהשיחה הראשונה", "From the first call"),
            Text::OpenEnd => ("עד הפקת הדוח", "Until the report was made"),
            Text::Generated => ("הופק", "Generated"),
            Text::TimeZone => ("אזור זמן", "Time zone"),
            Text::Calls => ("כל השיחות", "Calls"),
            Text::InCall => ("בשיחה כעת", "In a call now"),
            Text::Dialed => ("חויגו", "Dialed"),
            Text::Answered => ("נענו", "Answered"),
            Text::Voicemail => ("משיבון", "Voicemail"),
            Text::Converted => ("המרות", "Converted"),
            Text::OptedOut => ("ביקשו הסרה", "Opted out"),
            Text::TalkTime => ("זמן שיחה", "Talk time"),
            Text::FirstCall => ("שיחה ראשונה", "First call"),
            Text::LastCall => ("שיחה אחרונה", "Last call"),
            Text::AnswerRate => ("שיעור מענה (מתוך שחויגו)", "Answer rate (of dialed)"),
            Text::ConversionRate => ("שיעור המרה (מתוך שנענו)", "Conversion rate (of answered)"),
            Text::OptOutRate => ("שיעור הסרה (מתוך שנענו)", "Opt-out rate (of answered)"),
            Text::Outcome => ("תוצאה", "Outcome"),
            Text::Count => ("מספר", "Count"),
            Text::Share => ("אחוז מכל השיחות", "Share of all calls"),
            Text::CallId => ("מזהה שיחה", "Call ID"),
            Text::Campaign => ("קמפיין", "Campaign"),
            Text::Number => ("מספר טלפון", "Number"),
            Text::Attempt => ("ניסיון", "Attempt"),
            Text::StartedAt => ("התחלה", "Started"),
            Text::AnsweredAt => ("מענה", "Answered at"),
            Text::EndedAt => ("סיום", "Ended"),
            Text::Keys => ("מקשים", "Keys"),
            Text::HangupCause => ("סיבת ניתוק", "Hangup cause"),
            Text::Page => ("עמוד", "Page"),
            Text::NoCalls => ("אין שיחות בתקופה", "No calls in the period"),
            Text::PeriodUntil => ("עד תאריך (כולל)", "Until (inclusive)"),
            Text::PeriodBefore => ("עד (לא כולל)", "Until (exclusive)"),
            Text::Duration => ("משך", "Duration"),
            Text::Yes => ("כן", "Yes"),
            Text::No => ("לא", "No"),
            Text::KeysSection => ("מקשים שנלחצו בכל תפריט", "Keys pressed in each menu"),
            Text::Reached => ("הגיעו לתפריט", "Reached the menu"),
            Text::NoKey => (
                "לא לחצו (אין קלט או ניתקו)",
                "No key (timed out or hung up)",
            ),
            Text::InvalidKey => ("מקש שגוי", "Invalid key"),
            Text::PressedKey => ("לחצו", "Pressed"),
            Text::NoMenus => ("אין בתסריט תפריט מקשים", "The flow has no key menu"),
            Text::SummaryTitle => ("סיכום קמפיין", "Campaign summary"),
            Text::ShareOfReached => ("אחוז ממי שהגיעו", "Share of those reached"),
            Text::LeadsTo => ("מוביל אל", "Leads to"),
            Text::ContactsTotal => ("אנשי קשר בקמפיין", "Contacts in the campaign"),
            Text::ContactsReached => ("אנשי קשר שענו", "Contacts who answered"),
        };
        match lang {
            Lang::He => he,
            Lang::En => en,
        }
    }
}

/// The name of an outcome; `None` is a call still in progress. An unknown
/// outcome is shown as it is.
pub fn outcome_label(lang: Lang, outcome: Option<&Stored<CallOutcome>>) -> &str {
    match outcome {
        None => pick(lang, "בשיחה", "In a call"),
        Some(Stored::Known(outcome)) => call_outcome_label(lang, *outcome),
        Some(Stored::Unknown(name)) => name,
    }
}

/// The name of a call outcome.
pub fn call_outcome_label(lang: Lang, outcome: CallOutcome) -> &'static str {
    let (he, en) = match outcome {
        CallOutcome::Answered => ("נענתה", "Answered"),
        CallOutcome::Voicemail => ("משיבון", "Voicemail"),
        CallOutcome::Busy => ("תפוס", "Busy"),
        CallOutcome::NoAnswer => ("אין מענה", "No answer"),
        CallOutcome::Congestion => ("עומס ברשת", "Network congestion"),
        CallOutcome::Rejected => ("נדחתה", "Rejected"),
        CallOutcome::Failed => ("נכשלה", "Failed"),
        CallOutcome::Blacklisted => ("נחסם לפני חיוג", "Blocked before dialing"),
    };
    pick(lang, he, en)
}

/// A hangup cause (Q.850, as Asterisk names it) in words; one this table does
/// not know is shown as it is.
pub fn cause_label(lang: Lang, cause: &str) -> &str {
    let key: String = cause
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let (he, en) = match key.as_str() {
        "normalclearing" => ("ניתוק רגיל", "Normal hang-up"),
        "userbusy" => ("תפוס", "Busy"),
        "noanswer" | "noansweruserresponse" | "noanswerfromuser" => ("לא נענה", "No answer"),
        "nouserresponding" | "nouserresponse" => ("אין תגובה מהמנוי", "No response"),
        "callrejected" => ("השיחה נדחתה", "Call rejected"),
        "unallocated" | "unallocatednumber" => ("מספר לא קיים", "Number does not exist"),
        "numberchanged" => ("המספר שונה", "Number changed"),
        "subscriberabsent" => ("המנוי אינו זמין", "Subscriber unavailable"),
        "normalunspecified" => ("ניתוק (לא צוין)", "Hang-up (unspecified)"),
        "normaltemporaryfailure" => ("תקלה זמנית ברשת", "Temporary network failure"),
        "networkoutoforder" => ("הרשת אינה פעילה", "Network out of order"),
        "normalcircuitcongestion" | "switchcongestion" | "congestion" => {
            ("עומס ברשת", "Network congestion")
        }
        "destinationoutoforder" => ("היעד אינו פעיל", "Destination out of order"),
        "invalidnumberformat" => ("מספר שגוי", "Invalid number format"),
        "recoveryontimerexpire" => ("תם הזמן לחיבור", "Timed out connecting"),
        "originatorcancel" => ("בוטל לפני מענה", "Cancelled before answer"),
        _ => return cause,
    };
    pick(lang, he, en)
}

/// A flow node as staff see it: the names the box's own flows and the flow
/// builder's starters use are shown in words (the same as the web UI's
/// `flow.node.*`); any other name is the one staff gave it, shown as it is.
pub fn node_label(lang: Lang, name: &str) -> &str {
    let (he, en) = match name {
        "main" => ("תפריט ראשי", "Main menu"),
        "optout" => ("הסרה מהרשימה", "Remove from list"),
        "optout-confirm" => ("אישור ההסרה", "Removal confirmed"),
        "bye" => ("סיום השיחה", "End of call"),
        "goodbye" => ("להתראות", "Goodbye"),
        "donate" => ("תרומה", "Donation"),
        "thanks" => ("תודה", "Thank you"),
        "info" => ("מידע נוסף", "More information"),
        "message" => ("השמעת ההודעה", "The message"),
        other => return other,
    };
    pick(lang, he, en)
}

/// The name of a campaign kind (`voice`, `sms`, `hybrid`).
pub fn kind_label(lang: Lang, kind: &str) -> &str {
    let (he, en) = match kind {
        "voice" => ("קולי", "Voice"),
        "sms" => ("מסרונים", "SMS"),
        "hybrid" => ("משולב", "Hybrid"),
        unknown => return unknown,
    };
    pick(lang, he, en)
}

/// The name of a campaign purpose.
pub fn purpose_label(lang: Lang, purpose: &str) -> &str {
    let (he, en) = match purpose {
        "donation" => ("תרומות", "Donation"),
        "advertising" => ("פרסום", "Advertising"),
        "political" => ("פוליטי", "Political"),
        "informational" => ("מידע", "Informational"),
        "emergency" => ("חירום", "Emergency"),
        unknown => return unknown,
    };
    pick(lang, he, en)
}

/// The name of a campaign status.
pub fn status_label(lang: Lang, status: &str) -> &str {
    let (he, en) = match status {
        "draft" => ("טיוטה", "Draft"),
        "scheduled" => ("מתוזמן", "Scheduled"),
        "active" => ("פעיל", "Active"),
        "paused" => ("מושהה", "Paused"),
        "completed" => ("הסתיים", "Completed"),
        "cancelled" => ("בוטל", "Cancelled"),
        unknown => return unknown,
    };
    pick(lang, he, en)
}

pub(crate) fn pick<'a>(lang: Lang, he: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::He => he,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_outcome_has_both_names() {
        for outcome in CallOutcome::ALL {
            let name = outcome.as_str();
            let he = call_outcome_label(Lang::He, outcome);
            let en = call_outcome_label(Lang::En, outcome);
            assert_eq!(outcome_label(Lang::En, Some(&outcome.into())), en);
            assert_ne!(he, name);
            assert_ne!(en, name);
            assert!(
                he.chars().any(|c| ('\u{5d0}'..='\u{5ea}').contains(&c)),
                "{he}"
            );
        }
        assert_eq!(cause_label(Lang::He, "Normal Clearing"), "ניתוק רגיל");
        assert_eq!(cause_label(Lang::En, "normal clearing"), "Normal hang-up");
        assert_eq!(cause_label(Lang::En, "USER_BUSY"), "Busy");
        assert_eq!(cause_label(Lang::He, "Mystery"), "Mystery");
        let fax = Stored::parse("fax_tone");
        assert_eq!(outcome_label(Lang::He, Some(&fax)), "fax_tone");
    }
}
