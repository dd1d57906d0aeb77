//! The phones on the far side of the testbed's trunk: sipp as a SIP user agent
//! server on 127.0.0.1:5070, playing a scenario written for each test.
//!
//! A scenario is built from steps (`Phone::answer().pause(700).info('9')…`) and
//! rendered to sipp's XML. One `Phone` is one sipp for one call (`-m 1`); a
//! `Phones` table is one sipp for a whole campaign, every call at once, each
//! number picking its behaviour by its last digits. sipp runs beside the test and
//! logs every SIP message it sent or received, so a test can assert on what the
//! phones really got (`PhoneReport::calls`) — not only on what the box wrote down.
//!
//! sipp's ways, learned here:
//! - A captured variable that nothing uses makes sipp refuse the scenario.
//! - An `<ereg>` that does not match (with `check_it="false"`) leaves its
//!   variable unset, and `<nop test="VAR" next="LABEL"/>` jumps only on a set
//!   one: that is how one scenario branches on the number dialed.
//! - A phone must stream RTP, or Asterisk holds SIP INFO keys back.
//! - Calls past `-m` are not answered but still logged ("Discarded message for
//!   new calls while quitting"), so they count in `PhoneReport::calls`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What the phone does once the call is up.
#[derive(Debug, Clone)]
enum Step {
    Pause(u32),
    /// A key as SIP INFO (`application/dtmf-relay`).
    Info(char),
    /// A key as RTP telephone-events (RFC 4733), from sipp's own pcaps.
    Rfc4733(char),
    /// The callee hangs up.
    HangUp,
    /// Wait for the box to hang up.
    AwaitBye,
}

#[derive(Debug, Clone)]
enum Kind {
    /// `machine`: answer in A-law and play a recorded greeting (sipp's own
    /// g711a.pcap), as an answering machine does.
    Answer {
        ring_ms: u32,
        steps: Vec<Step>,
        machine: bool,
    },
    Reject {
        code: u16,
        reason: &'static str,
    },
    RingForever,
}

/// A phone's behaviour for one call.
#[derive(Debug, Clone)]
pub struct Phone {
    kind: Kind,
    /// How many calls this phone answers (a transfer is a second call).
    calls: u32,
    /// Calls to this number (as dialed) are an agent's leg: they answer and wait
    /// for the box to hang up, whatever the other steps say.
    agent: Option<String>,
}

impl Phone {
    pub fn answer() -> Phone {
        Phone {
            kind: Kind::Answer {
                ring_ms: 300,
                steps: Vec::new(),
                machine: false,
            },
            calls: 1,
            agent: None,
        }
    }

    /// An answering machine: answers and plays a greeting.
    pub fn machine() -> Phone {
        Phone {
            kind: Kind::Answer {
                ring_ms: 300,
                steps: Vec::new(),
                machine: true,
            },
            calls: 1,
            agent: None,
        }
    }

    /// A transfer's second leg to `number` reaches this phone too: it answers it
    /// and waits for the box's BYE.
    pub fn with_agent(mut self, number: &str) -> Phone {
        self.agent = Some(number.to_owned());
        self.calls = 2;
        self
    }

    pub fn reject(code: u16, reason: &'static str) -> Phone {
        Phone {
            kind: Kind::Reject { code, reason },
            calls: 1,
            agent: None,
        }
    }

    pub fn ring_forever() -> Phone {
        Phone {
            kind: Kind::RingForever,
            calls: 1,
            agent: None,
        }
    }

    fn step(mut self, step: Step) -> Phone {
        if let Kind::Answer { steps, .. } = &mut self.kind {
            steps.push(step);
        }
        self
    }

    pub fn pause(self, ms: u32) -> Phone {
        self.step(Step::Pause(ms))
    }

    pub fn info(self, key: char) -> Phone {
        self.step(Step::Info(key))
    }

    pub fn rfc4733(self, key: char) -> Phone {
        self.step(Step::Rfc4733(key))
    }

    pub fn hang_up(self) -> Phone {
        self.step(Step::HangUp)
    }

    pub fn await_bye(self) -> Phone {
        self.step(Step::AwaitBye)
    }

    /// Whether the phone sends requests of its own (keys as SIP INFO, a BYE): then
    /// the scenario captures the dialog's addresses to write them.
    fn sends_requests(&self) -> bool {
        matches!(&self.kind, Kind::Answer { steps, .. }
            if steps.iter().any(|s| matches!(s, Step::Info(_) | Step::HangUp)))
    }

    /// sipp's XML for this behaviour.
    pub fn scenario(&self) -> String {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<scenario name=\"shofar test phone\">\n",
        );
        // sipp refuses a scenario that captures a variable it never uses: capture
        // the dialog's addresses only when the phone sends requests of its own.
        let sends_requests = self.sends_requests();
        match &self.agent {
            Some(agent) => xml.push_str(&RECV_INVITE.replace(
                "    </action>",
                &format!(
                    "      <ereg regexp=\"[0-9]{{6,}}\" search_in=\"hdr\" header=\"To:\" check_it=\"true\" assign_to=\"dialed\"/>\n      <strcmp assign_to=\"differs\" variable=\"dialed\" value=\"{agent}\"/>\n      <test assign_to=\"agent_leg\" variable=\"differs\" compare=\"equal\" value=\"0\"/>\n    </action>"
                ),
            )),
            None if sends_requests => xml.push_str(RECV_INVITE),
            None => xml.push_str("  <recv request=\"INVITE\" crlf=\"true\"/>\n"),
        }
        self.render_call(&mut xml, sends_requests);
        xml.push_str("</scenario>\n");
        xml
    }

    /// The scenario from the INVITE received to the call's end. `capture_dialog`:
    /// the INVITE captured the Contact (`$contact`), and the ACK is to capture
    /// From and To (`$peer`, `$me`) for requests the phone sends.
    fn render_call(&self, xml: &mut String, capture_dialog: bool) {
        match &self.kind {
            Kind::Reject { code, reason } => {
                xml.push_str(&response(&format!("{code} {reason}"), true, false));
                xml.push_str("  <recv request=\"ACK\" crlf=\"true\"/>\n");
            }
            Kind::RingForever => {
                xml.push_str(&response("180 Ringing", true, false));
                xml.push_str("  <recv request=\"CANCEL\"/>\n");
                xml.push_str(&response("200 OK", false, false));
                // The INVITE's final answer: its CSeq is the CANCEL's number.
                xml.push_str(
                    "  <send><![CDATA[\nSIP/2.0 487 Request Terminated\n[last_Via:]\n[last_From:]\n\
                     [last_To:];tag=[pid]SIPpTag01[call_number]\n[last_Call-ID:]\n\
                     CSeq: [last_cseq_number] INVITE\nContent-Length: 0\n\n]]></send>\n",
                );
                xml.push_str("  <recv request=\"ACK\" crlf=\"true\"/>\n");
            }
            Kind::Answer {
                ring_ms,
                steps,
                machine,
            } => {
                xml.push_str(&response("180 Ringing", true, false));
                let _ = writeln!(xml, "  <pause milliseconds=\"{ring_ms}\"/>");
                let ok = response("200 OK", true, true);
                xml.push_str(&if *machine {
                    ok.replace(
                        "RTP/AVP 0 101\na=rtpmap:0 PCMU/8000",
                        "RTP/AVP 8 101\na=rtpmap:8 PCMA/8000",
                    )
                } else {
                    ok
                });
                xml.push_str(if capture_dialog {
                    RECV_ACK
                } else {
                    "  <recv request=\"ACK\" crlf=\"true\"/>\n"
                });
                // A real phone sends media all the time, and Asterisk hands on
                // SIP INFO keys as its media arrives: without it, a second key
                // waits until something else happens on the channel. Calls that
                // play RFC 4733 or a greeting from a pcap send that instead.
                let plays_pcap = *machine || steps.iter().any(|s| matches!(s, Step::Rfc4733(_)));
                if !plays_pcap {
                    let _ = writeln!(
                        xml,
                        "  <nop><action><exec rtp_stream=\"{},-1,0\"/></action></nop>",
                        line_audio().display()
                    );
                }
                if *machine {
                    xml.push_str(
                        "  <nop><action><exec play_pcap_audio=\"/usr/share/sip-tester/g711a.pcap\"/></action></nop>\n",
                    );
                }
                if self.agent.is_some() {
                    xml.push_str("  <nop test=\"agent_leg\" next=\"agent\"/>\n");
                }
                let mut cseq = 1;
                for step in steps {
                    match step {
                        Step::Pause(ms) => {
                            let _ = writeln!(xml, "  <pause milliseconds=\"{ms}\"/>");
                        }
                        Step::Info(key) => {
                            xml.push_str(&request(
                                "INFO",
                                cseq,
                                &format!(
                                    "Content-Type: application/dtmf-relay\nContent-Length: [len]\n\nSignal={key}\nDuration=250\n"
                                ),
                            ));
                            xml.push_str("  <recv response=\"200\"/>\n");
                            cseq += 1;
                        }
                        Step::Rfc4733(key) => {
                            let name = match key {
                                '#' => "pound".to_owned(),
                                '*' => "star".to_owned(),
                                digit => digit.to_string(),
                            };
                            let _ = writeln!(
                                xml,
                                "  <nop><action><exec play_pcap_audio=\"/usr/share/sip-tester/dtmf_2833_{name}.pcap\"/></action></nop>\n  <pause milliseconds=\"600\"/>"
                            );
                        }
                        Step::HangUp => {
                            xml.push_str(&request("BYE", cseq, "Content-Length: 0\n\n"));
                            xml.push_str("  <recv response=\"200\" crlf=\"true\"/>\n");
                            cseq += 1;
                        }
                        Step::AwaitBye => {
                            xml.push_str("  <recv request=\"BYE\"/>\n");
                            xml.push_str(&response("200 OK", false, false));
                        }
                    }
                }
                if self.agent.is_some() {
                    xml.push_str("  <nop next=\"done\"/>\n  <label id=\"agent\"/>\n  <recv request=\"BYE\"/>\n");
                    xml.push_str(&response("200 OK", false, false));
                    xml.push_str("  <label id=\"done\"/>\n");
                }
            }
        }
    }

    /// Starts sipp with this behaviour; it answers one call.
    pub fn start(&self, dir: &Path) -> RunningPhone {
        start_sipp(
            dir,
            "phone",
            &self.scenario(),
            self.calls,
            Duration::from_secs(120),
        )
    }
}

/// Many phones in one sipp: each call's behaviour is picked by the end of the
/// number dialed (the INVITE's Request-URI, as the trunk dials it: national
/// digits, `sip:0525551261@…`). For a dialer running a whole campaign at once.
///
/// `Phones::new().on("61", Phone::answer().pause(700).info('1').await_bye())
/// .on("64", Phone::reject(486, "Busy Here"))` answers 05255512**61** and
/// presses 1, and is busy for 05255512**64**. The longest matching suffix wins
/// (`"61"` before `"1"`); a number no suffix matches gets the `otherwise`
/// behaviour (404 Not Found unless set). Each call plays its own copy of the
/// behaviour, so calls overlap freely.
#[derive(Debug, Clone)]
pub struct Phones {
    /// Suffix → behaviour, in the order given.
    table: Vec<(String, Phone)>,
    otherwise: Phone,
}

impl Phones {
    pub fn new() -> Phones {
        Phones {
            table: Vec::new(),
            otherwise: Phone::reject(404, "Not Found"),
        }
    }

    /// Numbers ending in `suffix` (digits) get `phone`'s behaviour.
    pub fn on(mut self, suffix: &str, phone: Phone) -> Phones {
        assert!(
            !suffix.is_empty() && suffix.chars().all(|c| c.is_ascii_digit()),
            "a suffix is digits: {suffix:?}"
        );
        assert!(
            phone.agent.is_none(),
            "in Phones an agent's number is a suffix of its own"
        );
        assert!(
            self.table.iter().all(|(known, _)| known != suffix),
            "suffix {suffix} given twice"
        );
        self.table.push((suffix.to_owned(), phone));
        self
    }

    /// What numbers no suffix matches get.
    pub fn otherwise(mut self, phone: Phone) -> Phones {
        assert!(phone.agent.is_none());
        self.otherwise = phone;
        self
    }

    /// sipp's XML: one INVITE, a test per suffix, then each behaviour as a
    /// branch (`phone_SUFFIX`) that jumps to the end.
    pub fn scenario(&self) -> String {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<scenario name=\"shofar test phones\">\n",
        );
        // Captured variables must all be used somewhere in the scenario (sipp
        // refuses it otherwise), so the dialog's addresses are captured only if
        // some branch sends requests; then every answered branch captures them.
        let capture_dialog = self.otherwise.sends_requests()
            || self.table.iter().any(|(_, phone)| phone.sends_requests());
        // The longest suffix first, so that "61" is tested before "1".
        let mut order: Vec<&(String, Phone)> = self.table.iter().collect();
        order.sort_by_key(|(suffix, _)| std::cmp::Reverse(suffix.len()));
        xml.push_str("  <recv request=\"INVITE\" crlf=\"true\">\n    <action>\n");
        if capture_dialog {
            xml.push_str("      <ereg regexp=\"sip:[^>;]*\" search_in=\"hdr\" header=\"Contact:\" check_it=\"true\" assign_to=\"contact\"/>\n");
        }
        // An unmatched regexp leaves its variable unset, and `test=` jumps only
        // on a set one.
        for (suffix, _) in &order {
            let _ = writeln!(
                xml,
                "      <ereg regexp=\"^INVITE sip:\\+?[0-9]*{suffix}@\" search_in=\"msg\" check_it=\"false\" assign_to=\"dialed_{suffix}\"/>"
            );
        }
        xml.push_str("    </action>\n  </recv>\n");
        for (suffix, _) in &order {
            let _ = writeln!(
                xml,
                "  <nop test=\"dialed_{suffix}\" next=\"phone_{suffix}\"/>"
            );
        }
        self.otherwise.render_call(&mut xml, capture_dialog);
        xml.push_str("  <nop next=\"end\"/>\n");
        for (suffix, phone) in &order {
            let _ = writeln!(xml, "  <label id=\"phone_{suffix}\"/>");
            phone.render_call(&mut xml, capture_dialog);
            xml.push_str("  <nop next=\"end\"/>\n");
        }
        xml.push_str("  <label id=\"end\"/>\n</scenario>\n");
        xml
    }

    /// Starts sipp in the background; it exits once `calls` calls have come and
    /// ended (or at [`RunningPhone::finish`]'s limit, which stops it). Calls
    /// past `calls` go unanswered but are still counted in the report.
    pub fn start(&self, dir: &Path, calls: u32) -> RunningPhone {
        start_sipp(
            dir,
            "phones",
            &self.scenario(),
            calls,
            Duration::from_secs(600),
        )
    }
}

/// Runs sipp on 127.0.0.1:5070 with `scenario` for `calls` calls, logging every
/// message in `DIR/NAME-messages.log`. sipp takes calls as they come, each in
/// its own copy of the scenario, however many at once.
fn start_sipp(
    dir: &Path,
    name: &str,
    scenario: &str,
    calls: u32,
    timeout: Duration,
) -> RunningPhone {
    let scenario_file = dir.join(format!("{name}.xml"));
    std::fs::write(&scenario_file, scenario).unwrap();
    let messages = dir.join(format!("{name}-messages.log"));
    let errors = dir.join(format!("{name}-errors.log"));
    let screen_file = dir.join(format!("{name}-screen.log"));
    let screen = std::fs::File::create(&screen_file).unwrap();
    let child = Command::new("sipp")
        .arg("-sf")
        .arg(&scenario_file)
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            "5070",
            "-mi",
            "127.0.0.1",
            "-mp",
            "6000",
        ])
        .args([
            "-m",
            &calls.to_string(),
            "-nostdin",
            "-timeout",
            &format!("{}s", timeout.as_secs()),
            "-timeout_error",
        ])
        .arg("-trace_msg")
        .arg("-message_file")
        .arg(&messages)
        .arg("-trace_err")
        .arg("-error_file")
        .arg(&errors)
        .current_dir(dir)
        .stdout(screen.try_clone().unwrap())
        .stderr(screen)
        .stdin(Stdio::null())
        .spawn()
        .expect("sipp runs (the testbed installs sip-tester)");
    // sipp binds its port within milliseconds; give it a moment before a
    // call can arrive.
    std::thread::sleep(Duration::from_millis(300));
    RunningPhone {
        child,
        screen: screen_file,
        messages,
        errors,
    }
}

/// Quiet line noise in μ-law (made once with sox), streamed by answered phones.
fn line_audio() -> &'static Path {
    static LINE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    LINE.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("shofar-phone-line-{}.wav", std::process::id()));
        let status = Command::new("sox")
            .args(["-n", "-r", "8000", "-c", "1", "-e", "u-law"])
            .arg(&path)
            .args(["synth", "5", "whitenoise", "vol", "0.01"])
            .status()
            .expect("sox runs (the testbed installs it)");
        assert!(status.success(), "sox could not make the line noise");
        path
    })
}

const RECV_INVITE: &str = r#"  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" check_it="true" assign_to="contact"/>
    </action>
  </recv>
"#;

const RECV_ACK: &str = r#"  <recv request="ACK" crlf="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="peer"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="me"/>
    </action>
  </recv>
"#;

/// A response to the last request received.
fn response(status: &str, add_tag: bool, sdp: bool) -> String {
    let to = if add_tag {
        "[last_To:];tag=[pid]SIPpTag01[call_number]"
    } else {
        "[last_To:]"
    };
    let body = if sdp {
        "Content-Type: application/sdp\nContent-Length: [len]\n\nv=0\no=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]\ns=-\nc=IN IP[media_ip_type] [media_ip]\nt=0 0\nm=audio [media_port] RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n"
    } else {
        "Content-Length: 0\n"
    };
    let retrans = if sdp { " retrans=\"500\"" } else { "" };
    format!(
        "  <send{retrans}><![CDATA[\nSIP/2.0 {status}\n[last_Via:]\n[last_From:]\n{to}\n[last_Call-ID:]\n[last_CSeq:]\nContact: <sip:[local_ip]:[local_port];transport=[transport]>\n{body}\n]]></send>\n"
    )
}

/// A request inside the dialog, from the phone.
fn request(method: &str, cseq: u32, rest: &str) -> String {
    format!(
        "  <send><![CDATA[\n{method} [$contact] SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\nFrom: [$me]\nTo: [$peer]\n[last_Call-ID:]\nCSeq: {cseq} {method}\nContact: <sip:[local_ip]:[local_port]>\nMax-Forwards: 70\n{rest}]]></send>\n"
    )
}

pub struct RunningPhone {
    child: Child,
    screen: PathBuf,
    messages: PathBuf,
    errors: PathBuf,
}

/// What the phone saw.
#[derive(Debug, Clone)]
pub struct PhoneReport {
    /// sipp's exit code: 0 when every call ran its scenario to the end.
    pub exit: Option<i32>,
    pub messages: String,
    /// sipp's error log and the end of its screen: read through `Debug` in
    /// assertion messages.
    #[allow(dead_code)]
    pub errors: String,
    #[allow(dead_code)]
    pub screen: String,
}

/// One call as the phone saw it, read from sipp's message log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenCall {
    /// The Request-URI's user part: the number as the trunk dialed it
    /// (`0525551261`).
    pub number: String,
    /// The phone's final answer to the INVITE (200, 486, 487 after a CANCEL…).
    pub final_status: Option<u16>,
    /// The box cancelled the call while it rang.
    pub cancelled: bool,
    /// The box hung up (a BYE reached the phone).
    pub bye_from_box: bool,
    /// The phone hung up (it sent a BYE).
    pub bye_from_phone: bool,
}

/// A SIP message in sipp's `-trace_msg` log.
struct Logged<'a> {
    sent: bool,
    start_line: &'a str,
    call_id: &'a str,
    cseq_method: &'a str,
}

/// sipp writes each message as a `-----… TIMESTAMP` line, `UDP message
/// received [N] bytes :` or `UDP message sent (N bytes):`, a blank line, the
/// message.
fn logged_messages(log: &str) -> Vec<Logged<'_>> {
    let mut messages = Vec::new();
    for block in log.split("\n-----------------------------------------------") {
        let mut lines = block.lines().skip(1).filter(|line| !line.trim().is_empty());
        let Some(direction) = lines.next() else {
            continue;
        };
        let sent = direction.contains("message sent");
        let Some(start_line) = lines.next() else {
            continue;
        };
        let mut call_id = "";
        let mut cseq_method = "";
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            match name.trim().to_ascii_lowercase().as_str() {
                "call-id" | "i" => call_id = value.trim(),
                "cseq" => cseq_method = value.split_whitespace().nth(1).unwrap_or(""),
                _ => {}
            }
        }
        messages.push(Logged {
            sent,
            start_line,
            call_id,
            cseq_method,
        });
    }
    messages
}

impl PhoneReport {
    /// Every call that reached the phone, in the order they came. A re-INVITE
    /// (a connected-line update, say) or a retransmission shares its call's
    /// Call-ID and is not a call of its own.
    pub fn calls(&self) -> Vec<SeenCall> {
        let mut calls: Vec<(String, SeenCall)> = Vec::new();
        for message in logged_messages(&self.messages) {
            if !message.sent
                && let Some(uri) = message.start_line.strip_prefix("INVITE sip:")
                && !calls.iter().any(|(id, _)| id == message.call_id)
            {
                let number = uri.split(['@', ';', ' ']).next().unwrap_or("").to_owned();
                calls.push((
                    message.call_id.to_owned(),
                    SeenCall {
                        number,
                        final_status: None,
                        cancelled: false,
                        bye_from_box: false,
                        bye_from_phone: false,
                    },
                ));
                continue;
            }
            let Some((_, call)) = calls.iter_mut().find(|(id, _)| id == message.call_id) else {
                continue;
            };
            let method = message.start_line.split(' ').next().unwrap_or("");
            match (message.sent, method) {
                (true, "SIP/2.0") if message.cseq_method == "INVITE" => {
                    let status = message
                        .start_line
                        .split(' ')
                        .nth(1)
                        .and_then(|code| code.parse::<u16>().ok());
                    if call.final_status.is_none() && status.is_some_and(|code| code >= 200) {
                        call.final_status = status;
                    }
                }
                (false, "CANCEL") => call.cancelled = true,
                (false, "BYE") => call.bye_from_box = true,
                (true, "BYE") => call.bye_from_phone = true,
                _ => {}
            }
        }
        calls.into_iter().map(|(_, call)| call).collect()
    }

    /// How many INVITEs (calls) reached the phone.
    pub fn invites(&self) -> usize {
        self.calls().len()
    }

    /// How many calls to `number` (as the trunk dials it: `0525551261`) reached
    /// the phone.
    pub fn invites_to(&self, number: &str) -> usize {
        self.calls()
            .iter()
            .filter(|call| call.number == number)
            .count()
    }

    /// Calls per number, as the trunk dialed them.
    pub fn invites_by_number(&self) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for call in self.calls() {
            *counts.entry(call.number).or_insert(0) += 1;
        }
        counts
    }

    /// The one call to `number`; panics unless exactly one reached the phone.
    pub fn call_to(&self, number: &str) -> SeenCall {
        let calls: Vec<SeenCall> = self
            .calls()
            .into_iter()
            .filter(|call| call.number == number)
            .collect();
        assert_eq!(
            calls.len(),
            1,
            "calls to {number} that reached the phone: {calls:?}"
        );
        calls.into_iter().next().unwrap()
    }

    pub fn completed(&self) -> bool {
        self.exit == Some(0)
    }
}

impl RunningPhone {
    /// Waits for sipp to finish its one call (at most `limit`), else stops it.
    pub fn finish(mut self, limit: Duration) -> PhoneReport {
        let started = Instant::now();
        let exit = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code();
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        PhoneReport {
            exit,
            messages: std::fs::read_to_string(&self.messages).unwrap_or_default(),
            errors: std::fs::read_to_string(&self.errors).unwrap_or_default(),
            screen: std::fs::read_to_string(&self.screen)
                .unwrap_or_default()
                .chars()
                .rev()
                .take(1500)
                .collect::<String>()
                .chars()
                .rev()
                .collect(),
        }
    }
}

impl Drop for RunningPhone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
