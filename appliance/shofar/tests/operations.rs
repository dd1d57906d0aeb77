//! What an operator does to a running box: a backup while `shofar serve` runs is
//! made; a restore under it is refused, with what to do, and the database stays;
//! one uploaded in the web UI is applied at the next start.

use serde_json::Value;

mod support;
use support::TestBox;

#[test]
fn a_backup_is_made_while_serving_and_a_restore_waits_for_serve_to_stop() {
    let test_box = TestBox::new(support::SIMULATED);
    test_box.campaign_around_the_clock("name = \"Winter\"\n", &support::generated_contacts(30, 3));
    let served = support::serve(&test_box);
    let copy = test_box.path("copy.db");
    test_box.ok(&["db", "backup", "-o", copy.to_str().unwrap()], "");

    let refused = test_box.run(&["db", "restore", copy.to_str().unwrap()], "");
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("shofar serve is running on it; stop it first"),
        "{said}"
    );
    served.stop();

    let restored = test_box.ok(&["db", "restore", copy.to_str().unwrap()], "");
    assert!(restored.contains("restored"), "{restored}");
    let list = test_box.ok(&["campaign", "list"], "");
    assert!(list.contains("Winter"), "{list}");
}

/// A backup uploaded in the web UI while serve runs waits for the next start,
/// which restores it before it opens the database (issue 16): what the box held
/// at the backup is back, the replaced database kept, and the outcome shown.
#[tokio::test]
async fn a_restore_uploaded_while_serving_is_applied_at_the_next_start() {
    let test_box = TestBox::new(support::SIMULATED);
    let campaign = |name: &str| {
        test_box.ok(
            &[
                "campaign",
                "create",
                "--name",
                name,
                "--purpose",
                "informational",
            ],
            "",
        );
    };
    campaign("Winter");
    let token = test_box.user_token("adam", "admin");
    let served = support::serve(&test_box);
    let http = {
        shofar_ari::install_crypto_provider();
        reqwest::Client::new()
    };
    let base = served.address.clone();
    let made: Value = http
        .post(format!("{base}/api/v1/backups"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = made["download_url"].as_str().expect("a backup was made");
    let backup = http
        .get(format!("{base}{url}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    campaign("Spring");

    let boundary = "shofar-operations-boundary";
    let mut form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
         filename=\"winter.db\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    form.extend_from_slice(&backup);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let staged = http
        .post(format!("{base}/api/v1/backups/restore"))
        .bearer_auth(&token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(staged.status(), 201, "{}", staged.text().await.unwrap());
    // Nothing changes while it runs.
    assert!(test_box.ok(&["campaign", "list"], "").contains("Spring"));
    served.stop();

    let served = support::serve(&test_box);
    assert!(
        served
            .printed
            .contains("restored the database from winter.db"),
        "{}",
        served.printed
    );
    let list = test_box.ok(&["campaign", "list"], "");
    assert!(
        list.contains("Winter") && !list.contains("Spring"),
        "{list}"
    );
    let backups: Value = http
        .get(format!("{}/api/v1/backups", served.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(backups["pending_restore"], Value::Null);
    assert_eq!(backups["last_restore"]["restored"], true, "{backups:#}");
    let kept = backups["last_restore"]["kept"].as_str().unwrap();
    assert!(std::path::Path::new(kept).is_file(), "{kept}");
    served.stop();
}
