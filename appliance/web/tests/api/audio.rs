//! Prompts: real WAV files uploaded, converted once for the trunk, listed, played
//! back in the browser as 8 kHz WAV, and removed.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shofar_store::accounts::Role;

use crate::support::{Client, TestApp, files_under, wav};

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn upload(
    client: &Client,
    fields: &[(&str, &str)],
    file: (&str, &[u8]),
) -> crate::support::Response {
    client.upload("/api/v1/audio", fields, Some(file)).await
}

#[tokio::test]
async fn a_wav_is_converted_listed_played_back_and_removed() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let recording = wav(44_100, 2.0);
    let uploaded = upload(&mia, &[("name", "thanks")], ("תודה.wav", &recording))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(uploaded["source_sample_rate"], 44_100);
    assert_eq!(uploaded["source_channels"], 1);
    assert_eq!(uploaded["silent"], false);
    let peak = uploaded["peak_dbfs"].as_f64().unwrap();
    assert!((-7.0..=-5.0).contains(&peak), "a half-scale tone: {peak}");
    let audio = &uploaded["audio"];
    assert_eq!(
        audio,
        &json!({
            "folder": "prompts",
            "name": "thanks",
            "campaign_id": null,
            "duration_ms": audio["duration_ms"],
            "sha256": sha256(&recording),
            "created_at": audio["created_at"],
            "created_by": "web:mia",
            "playback_url": "/api/v1/audio/prompts/thanks/playback"
        })
    );
    let duration = audio["duration_ms"].as_i64().unwrap();
    assert!((1990..=2010).contains(&duration), "{duration}");
    // Converted once, into every format the trunk plays.
    for extension in ["ulaw", "alaw", "sln"] {
        let path = app
            .data_dir()
            .join("sounds/prompts")
            .join(format!("thanks.{extension}"));
        assert!(path.is_file(), "{} is missing", path.display());
    }
    // The upload itself is not kept.
    assert_eq!(
        files_under(&app.data_dir().join("uploads")),
        Vec::<std::path::PathBuf>::new()
    );

    let list = mia.get("/api/v1/audio").await.expect(StatusCode::OK);
    assert_eq!(list, json!([audio]));
    assert_eq!(
        mia.get("/api/v1/audio/prompts/thanks")
            .await
            .expect(StatusCode::OK),
        *audio
    );

    let playback = mia.get("/api/v1/audio/prompts/thanks/playback").await;
    playback.expect(StatusCode::OK);
    assert_eq!(playback.header(header::CONTENT_TYPE), Some("audio/wav"));
    assert_eq!(playback.header(header::CONTENT_DISPOSITION), Some("inline"));
    assert_eq!(&playback.body[..4], b"RIFF");
    assert_eq!(&playback.body[8..12], b"WAVE");
    let reader = hound::WavReader::new(std::io::Cursor::new(&playback.body)).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16)
    );
    let samples = reader.duration();
    assert!(
        (15_900..=16_100).contains(&samples),
        "2 s at 8 kHz: {samples}"
    );

    // The same name again replaces it.
    let louder = wav(8000, 1.0);
    let replaced = upload(&mia, &[("name", "thanks")], ("thanks-v2.wav", &louder))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(replaced["audio"]["sha256"], sha256(&louder));
    assert_eq!(replaced["source_sample_rate"], 8000);
    assert_eq!(
        mia.get("/api/v1/audio")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    mia.delete("/api/v1/audio/prompts/thanks")
        .await
        .expect(StatusCode::NO_CONTENT);
    for path in [
        "/api/v1/audio/prompts/thanks",
        "/api/v1/audio/prompts/thanks/playback",
    ] {
        mia.get(path)
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    mia.delete("/api/v1/audio/prompts/thanks")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert!(!app.data_dir().join("sounds/prompts/thanks.sln").exists());
    assert_eq!(mia.get("/api/v1/audio").await.json(), json!([]));
}

#[tokio::test]
async fn a_prompt_named_in_hebrew_is_kept_by_that_name_and_stored_under_an_ascii_stem() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let name = "תודה רבה";
    let uploaded = upload(&mia, &[("name", name)], ("thanks.wav", &wav(8000, 1.0)))
        .await
        .expect(StatusCode::CREATED);
    let audio = &uploaded["audio"];
    assert_eq!(audio["name"], name);
    let url = audio["playback_url"].as_str().unwrap().to_owned();
    assert!(url.is_ascii(), "{url}");
    assert_eq!(
        url,
        "/api/v1/audio/prompts/%D7%AA%D7%95%D7%93%D7%94%20%D7%A8%D7%91%D7%94/playback"
    );
    // On disk: only ASCII names, never the Hebrew one.
    let files = files_under(&app.data_dir().join("sounds/prompts"));
    assert_eq!(files.len(), 3, "{files:?}");
    for file in &files {
        let file_name = file.file_name().unwrap().to_str().unwrap();
        assert!(
            file_name.is_ascii() && file_name.starts_with("u-"),
            "{file_name}"
        );
    }
    assert_eq!(mia.get("/api/v1/audio").await.json()[0]["name"], name);
    let playback = mia.get(&url).await;
    playback.expect(StatusCode::OK);
    assert_eq!(&playback.body[..4], b"RIFF");
    let shown = url.trim_end_matches("/playback");
    assert_eq!(mia.get(shown).await.expect(StatusCode::OK)["name"], name);
    mia.delete(shown).await.expect(StatusCode::NO_CONTENT);
    assert!(files_under(&app.data_dir().join("sounds/prompts")).is_empty());
}

#[tokio::test]
async fn a_campaigns_own_message_goes_in_its_folder() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    let id = app
        .create_campaign(&mia, json!({"name": "תרומות חורף 2027"}))
        .await;
    let campaign_id = id.to_string();
    let uploaded = upload(
        &mia,
        &[("name", "campaign"), ("campaign_id", &campaign_id)],
        ("message.wav", &wav(16_000, 1.5)),
    )
    .await
    .expect(StatusCode::CREATED);
    let folder = format!("campaign-{id}");
    assert_eq!(uploaded["audio"]["folder"], folder.as_str());
    assert_eq!(uploaded["audio"]["campaign_id"], id);
    assert_eq!(
        uploaded["audio"]["playback_url"],
        format!("/api/v1/audio/{folder}/campaign/playback")
    );
    mia.get(&format!("/api/v1/audio/{folder}/campaign/playback"))
        .await
        .expect(StatusCode::OK);
    // The box's own prompt of that name is another one.
    mia.get("/api/v1/audio/prompts/campaign")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");

    upload(
        &mia,
        &[("name", "campaign"), ("campaign_id", "999")],
        ("message.wav", &wav(8000, 0.5)),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    upload(
        &mia,
        &[("name", "campaign"), ("campaign_id", "winter")],
        ("message.wav", &wav(8000, 0.5)),
    )
    .await
    .expect_fields(&["campaign_id"]);
}

#[tokio::test]
async fn files_that_are_not_usable_audio_are_refused_with_the_reason() {
    let app = TestApp::with_config(|config| config.max_audio_bytes = 64 * 1024);
    let mia = app.login_as("mia", Role::Manager).await;
    let tone = wav(8000, 0.5);
    let not_audio = "שלום, זו לא הקלטה".as_bytes();
    let refused = upload(&mia, &[("name", "menu")], ("menu.wav", not_audio)).await;
    refused.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable_file");
    assert!(refused.text().contains("WAV"), "{}", refused.text());
    upload(&mia, &[("name", "menu")], ("menu.wav", b""))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable_file");
    let mut cut = tone.clone();
    cut.truncate(cut.len() / 2);
    upload(&mia, &[("name", "menu")], ("menu.wav", &cut))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable_file");

    for name in [
        "../menu",
        ".hidden",
        "תפריט/../../etc",
        "menu\tone",
        "menu\u{202e}",
        "u-0123456789abcdef",
        &"m".repeat(65),
    ] {
        upload(&mia, &[("name", name)], ("menu.wav", &tone))
            .await
            .expect_fields(&["name"]);
    }
    upload(&mia, &[], ("menu.wav", &tone))
        .await
        .expect_fields(&["name"]);
    mia.upload("/api/v1/audio", &[("name", "menu")], None)
        .await
        .expect_fields(&["file"]);
    upload(&mia, &[("name", "menu")], ("long.wav", &wav(44_100, 1.0)))
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    mia.post("/api/v1/audio", json!({"name": "menu"}))
        .await
        .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    // None of them left anything behind.
    assert_eq!(mia.get("/api/v1/audio").await.json(), json!([]));
    assert!(!app.data_dir().join("sounds/prompts/menu.sln").exists());
    assert_eq!(
        files_under(&app.data_dir().join("uploads")),
        Vec::<std::path::PathBuf>::new()
    );

    // Silence is accepted, and said to be silent.
    let silence = {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = std::io::Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut out, spec).unwrap();
        for _ in 0..4000 {
            writer.write_sample(0i16).unwrap();
        }
        writer.finalize().unwrap();
        out.into_inner()
    };
    let quiet = upload(&mia, &[("name", "menu")], ("menu.wav", &silence))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(quiet["silent"], true);
}

#[tokio::test]
async fn prompts_outside_the_known_folders_do_not_exist() {
    let app = TestApp::new();
    let mia = app.login_as("mia", Role::Manager).await;
    for path in [
        "/api/v1/audio/sounds/thanks",
        "/api/v1/audio/campaign-x/thanks",
        "/api/v1/audio/campaign-/thanks",
        "/api/v1/audio/prompts/..%2Fshofar.db",
        "/api/v1/audio/prompts/.hidden/playback",
        "/api/v1/audio/..%2F..%2Fetc/passwd/playback",
    ] {
        let response = mia.get(path).await;
        response.expect_error(StatusCode::NOT_FOUND, "not_found");
        let _: Value = response.json();
    }
    mia.delete("/api/v1/audio/sounds/thanks")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    mia.delete("/api/v1/audio/prompts/never-uploaded")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}
