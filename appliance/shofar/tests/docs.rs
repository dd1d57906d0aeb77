//! The documentation's command examples, run as written: every ```` ```console ````
//! block of the README and of the first steps of docs/campaigns.md and docs/ivr.md
//! is run in order against the real `shofar` (and `shofar-gen`), and what each
//! command prints must be what the page shows (trycmd; `[..]` stands for a part of
//! a line that changes from run to run, such as a time, `...` for whole lines).
//!
//! Each page runs in a folder of its own — holding `docs/` (the checkout's, so the
//! pages' `docs/examples/…` paths work) and nothing else — with a data directory and
//! a config of its own, in Israel's time zone. Dates the output depends on are
//! pinned in the pages themselves (`--from`, `--at`), so the examples hold tomorrow.
//!
//! When the program's output changes on purpose:
//! `TRYCMD=overwrite cargo test -p shofar --test docs` writes it into the pages.
//!
//! docs/api.md's first steps are HTTP calls whose answers carry secrets the next
//! call needs (the setup token, the CSRF token, an API token): they are run by
//! [`the_api_guide_s_first_steps_work_as_written`], against a real `shofar serve`.

use std::path::{Path, PathBuf};

mod support;

const CHECKOUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The pages whose ```` ```console ```` blocks are run, in the checkout.
const PAGES: &[&str] = &["README.md", "docs/campaigns.md", "docs/ivr.md"];

#[test]
fn the_documentation_shows_what_the_program_prints() {
    let checkout = Path::new(CHECKOUT).canonicalize().unwrap();
    let shofar = PathBuf::from(env!("CARGO_BIN_EXE_shofar"));
    let generator = shofar_gen(&shofar);
    let scratch = tempfile::tempdir().unwrap();
    for page in PAGES {
        let folder = scratch.path().join(page.replace(['/', '.'], "-"));
        std::fs::create_dir_all(&folder).unwrap();
        std::os::unix::fs::symlink(checkout.join("docs"), folder.join("docs")).unwrap();
        let data = folder.join("data");
        let config = folder.join("shofar.toml");
        std::fs::write(
            &config,
            format!(
                "[asterisk]\nsounds_dir = {:?}\n",
                folder.join("sounds").display().to_string()
            ),
        )
        .unwrap();
        // The pages' commands run in their folder: trycmd's commands inherit this
        // process's working directory, and the pages run one after another.
        std::env::set_current_dir(&folder).unwrap();
        let cases = trycmd::TestCases::new();
        cases
            .register_bin("shofar", &shofar)
            .register_bin("shofar-gen", &generator)
            .env("SHOFAR_DATA_DIR", data.display().to_string())
            .env("SHOFAR_CONFIG", config.display().to_string())
            .env("TZ", "Asia/Jerusalem")
            .env("NO_COLOR", "1")
            .env("USER", "dana")
            .insert_var("[DATA]", data.display().to_string())
            .unwrap()
            .insert_var("[SOUNDS]", folder.join("sounds").display().to_string())
            .unwrap()
            .case(checkout.join(page));
        // The cases run when `cases` is dropped, here, before the next page.
        drop(cases);
    }
}

/// `shofar-gen`, beside `shofar` in the target directory: `cargo test --workspace`
/// builds it (shofar-testdata has tests of its own); a narrower run builds it here.
fn shofar_gen(shofar: &Path) -> PathBuf {
    let generator = shofar.with_file_name("shofar-gen");
    if !generator.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args([
                "build",
                "--locked",
                "-p",
                "shofar-testdata",
                "--bin",
                "shofar-gen",
            ])
            .current_dir(CHECKOUT)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cannot build shofar-gen");
    }
    assert!(
        generator.exists(),
        "no shofar-gen at {}",
        generator.display()
    );
    generator
}

/// docs/api.md, "Logging in" up to "HTTPS": every `curl` of its shell blocks run as
/// written against `shofar serve` on the simulator, in order — but with this
/// server's address, and the secrets the page abbreviates (`9c1f…`, `80613b26…`,
/// `shofar_5f0e…`) taken from the answers before, as a reader would. Each must
/// succeed (HTTP 2xx), and an answer the page shows (`# {"user": …}`) must have
/// the fields it shows.
#[test]
fn the_api_guide_s_first_steps_work_as_written() {
    let page = std::fs::read_to_string(Path::new(CHECKOUT).join("docs/api.md")).unwrap();
    let section = page
        .split("## Logging in")
        .nth(1)
        .and_then(|rest| rest.split("### HTTPS").next())
        .expect("docs/api.md has its \"Logging in\" section");
    let steps = shell_steps(section);
    assert!(steps.len() >= 6, "the page's steps: {steps:#?}");

    let test_box = support::TestBox::new(support::SIMULATED);
    // Campaign 1, which the page starts.
    test_box.campaign_around_the_clock(
        "name = \"Donors 2026\"\n",
        &support::generated_contacts(50, 7),
    );
    let mut served = support::serve(&test_box);
    let setup_token = setup_token(&mut served);

    let mut csrf = String::new();
    let mut secret = String::new();
    for step in &steps {
        let command = step
            .command
            .replace("http://127.0.0.1:8080", &served.address)
            .replace("9c1f…", &setup_token)
            .replace("80613b26…", &csrf)
            .replace("X-CSRF-Token: …", &format!("X-CSRF-Token: {csrf}"))
            .replace("shofar_5f0e…", &secret);
        assert!(
            !command.contains('…'),
            "a placeholder the test cannot fill: {command}"
        );
        let output = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("{command} -w '\\n%{{http_code}}'"))
            .current_dir(test_box.dir.path())
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout);
        let (body, status) = printed.rsplit_once('\n').unwrap_or(("", &printed));
        assert!(
            output.status.success() && status.starts_with('2'),
            "{}\nanswered {status}: {body}{}",
            step.command,
            String::from_utf8_lossy(&output.stderr)
        );
        if let Some(shown) = &step.answer {
            let answer: serde_json::Value = serde_json::from_str(body)
                .unwrap_or_else(|_| panic!("{}\nanswered: {body}", step.command));
            for field in top_level_fields(shown) {
                assert!(
                    answer.get(&field).is_some(),
                    "the page shows {field:?} in the answer to\n{}\nbut it answered {body}",
                    step.command
                );
            }
            if let Some(token) = answer.get("csrf_token").and_then(|t| t.as_str()) {
                csrf = token.to_owned();
            }
            if let Some(token) = answer.get("secret").and_then(|t| t.as_str()) {
                secret = token.to_owned();
            }
        }
    }
    served.assert_running("after the page's steps");
}

/// One command of a page's shell block, and the answer the page shows after it.
#[derive(Debug)]
struct Step {
    command: String,
    answer: Option<String>,
}

/// The commands of a section's ```` ```sh ```` blocks: continuation lines joined,
/// comments dropped except `# {…}` right after a command (its answer).
fn shell_steps(section: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for block in section.split("```sh\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let mut pending = String::new();
        for line in block.lines() {
            let line = line.trim();
            if let Some(comment) = line.strip_prefix('#') {
                let comment = comment.trim();
                if comment.starts_with('{')
                    && let Some(last) = steps.last_mut()
                    && last.answer.is_none()
                {
                    last.answer = Some(comment.to_owned());
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            match line.strip_suffix('\\') {
                Some(part) => pending.push_str(part),
                None => {
                    pending.push_str(line);
                    steps.push(Step {
                        command: std::mem::take(&mut pending),
                        answer: None,
                    });
                }
            }
        }
    }
    steps
}

/// The field names at the top level of a shown answer such as
/// `{"user": {...}, "role": "admin", "csrf_token": "80613b26…"}`.
fn top_level_fields(shown: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut depth = 0;
    let mut chars = shown.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            '"' => {
                let end = shown[at + 1..].find('"').map(|e| at + 1 + e).unwrap();
                let name = &shown[at + 1..end];
                while chars.peek().is_some_and(|&(i, _)| i <= end) {
                    chars.next();
                }
                if depth == 1 && shown[end + 1..].trim_start().starts_with(':') {
                    fields.push(name.to_owned());
                }
            }
            _ => {}
        }
    }
    fields
}

/// The secret of the one-time setup link `shofar serve` prints on a box with no
/// user.
fn setup_token(served: &mut support::Served) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(token) = served
            .printed
            .split("setup?token=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
        {
            return token.to_owned();
        }
        let line = served
            .log
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .unwrap_or_else(|_| panic!("no setup link printed:\n{}", served.printed));
        served.printed.push_str(&line);
        served.printed.push('\n');
    }
}

#[test]
fn the_fields_an_answer_shows_are_read_at_its_top_level() {
    assert_eq!(
        top_level_fields(
            r#"{"user": {...}, "role": "admin", "csrf_token": "80613b26…", "expires_at": "…"}"#
        ),
        ["user", "role", "csrf_token", "expires_at"]
    );
    assert_eq!(
        top_level_fields(r#"{"token": {"id": 1}, "secret": "shofar_5f0e…"}"#),
        ["token", "secret"]
    );
}
