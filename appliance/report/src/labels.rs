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
    PeriodTo,
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
    DurationMs,
    TalkMs,
    DurationSeconds,
    TalkSeconds,
    Keys,
    HangupCause,
    Page,
    NoCalls,
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
            Text::PeriodTo => ("עד (לא כולל)", "Until (exclusive)"),
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
            Text::AnswerRate => ("שיעור מענה", "Answer rate"),
            Text::ConversionRate => ("שיעור המרה", "Conversion rate"),
            Text::OptOutRate => ("שיעור הסרה", "Opt-out rate"),
            Text::Outcome => ("תוצאה", "Outcome"),
            Text::Count => ("מספר", "Count"),
            Text::Share => ("אחוז", "Share"),
            Text::CallId => ("מזהה שיחה", "Call ID"),
            Text::Campaign => ("קמפיין", "Campaign"),
            Text::Number => ("מספר טלפון", "Number"),
            Text::Attempt => ("ניסיון", "Attempt"),
            Text::StartedAt => ("התחלה", "Started"),
            Text::AnsweredAt => ("מענה", "Answered at"),
            Text::EndedAt => ("סיום", "Ended"),
            Text::DurationMs => ("משך (מילישניות)", "Duration (ms)"),
            Text::TalkMs => ("זמן שיחה (מילישניות)", "Talk time (ms)"),
            Text::DurationSeconds => ("משך (שניות)", "Duration (s)"),
            Text::TalkSeconds => ("זמן שיחה (שניות)", "Talk time (s)"),
            Text::Keys => ("מקשים", "Keys"),
            Text::HangupCause => ("סיבת ניתוק", "Hangup cause"),
            Text::Page => ("עמוד", "Page"),
            Text::NoCalls => ("אין שיחות בתקופה", "No calls in the period"),
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

fn pick<'a>(lang: Lang, he: &'a str, en: &'a str) -> &'a str {
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
        let fax = Stored::parse("fax_tone");
        assert_eq!(outcome_label(Lang::He, Some(&fax)), "fax_tone");
    }
}
