//! The phones on the far side of the testbed's trunk: sipp as a SIP user agent
//! server on 127.0.0.1:5070, playing a scenario written for each test.
//!
//! A scenario is built from steps (`Phone::answer().pause(700).info('9')…`) and
//! rendered to sipp's XML. sipp runs in the foreground with `-m 1` (one call) and
//! logs every SIP message it sent or received, so a test can assert on what the
//! phone really got — not only on what the box wrote down.

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

    /// sipp's XML for this behaviour.
    pub fn scenario(&self) -> String {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<scenario name=\"shofar test phone\">\n",
        );
        // sipp refuses a scenario that captures a variable it never uses: capture
        // the dialog's addresses only when the phone sends requests of its own.
        let sends_requests = matches!(&self.kind, Kind::Answer { steps, .. }
            if steps.iter().any(|s| matches!(s, Step::Info(_) | Step::HangUp)));
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
                xml.push_str(if sends_requests {
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
        xml.push_str("</scenario>\n");
        xml
    }

    /// Starts sipp with this behaviour; it answers one call.
    pub fn start(&self, dir: &Path) -> RunningPhone {
        let scenario = dir.join("phone.xml");
        std::fs::write(&scenario, self.scenario()).unwrap();
        let messages = dir.join("phone-messages.log");
        let errors = dir.join("phone-errors.log");
        let screen = std::fs::File::create(dir.join("phone-screen.log")).unwrap();
        let child = Command::new("sipp")
            .arg("-sf")
            .arg(&scenario)
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
                &self.calls.to_string(),
                "-nostdin",
                "-timeout",
                "120s",
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
            screen: dir.join("phone-screen.log"),
            messages,
            errors,
        }
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
#[derive(Debug)]
pub struct PhoneReport {
    /// sipp's exit code: 0 when the scenario ran to its end.
    pub exit: Option<i32>,
    pub messages: String,
    /// sipp's error log and the end of its screen: read through `Debug` in
    /// assertion messages.
    #[allow(dead_code)]
    pub errors: String,
    #[allow(dead_code)]
    pub screen: String,
}

impl PhoneReport {
    /// How many INVITEs reached the phone.
    pub fn invites(&self) -> usize {
        // Re-INVITEs (a connected-line update, say) share their call's Call-ID.
        let mut call_ids = std::collections::HashSet::new();
        let mut in_invite = false;
        for line in self.messages.lines() {
            if line.starts_with("INVITE sip:") {
                in_invite = true;
            } else if in_invite && line.to_ascii_lowercase().starts_with("call-id:") {
                call_ids.insert(line[8..].trim().to_owned());
                in_invite = false;
            }
        }
        call_ids.len()
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
