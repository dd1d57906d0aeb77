//! S3: the organization's bucket, reached with presigned SigV4 requests
//! (`rusty-s3` signs, `reqwest` sends). Put, get with a size limit, list.
//!
//! Nothing here retries: the callers decide (an upload is retried until it lands,
//! under the same key, so a retry is idempotent).

use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use thiserror::Error;

use crate::config::S3Config;

/// How long a signed request stays valid: only as long as the request takes.
const SIGNED_FOR: Duration = Duration::from_secs(300);

/// What went wrong talking to S3.
#[derive(Debug, Error)]
pub enum S3Error {
    #[error("S3 is unreachable ({0}): the records wait on the box and are sent when it is back")]
    Unreachable(String),
    #[error("S3 refused {what} with HTTP {status}: {body}")]
    Refused {
        what: String,
        status: u16,
        body: String,
    },
    #[error("S3 object {key} is larger than {limit} bytes: refused")]
    TooLarge { key: String, limit: u64 },
    #[error("S3 answered something that is not a listing: {0}")]
    BadListing(String),
    #[error("[sync] s3_endpoint is not a usable URL: {0}")]
    Endpoint(String),
    #[error(
        "cannot set up HTTPS for S3 ({0}): are the system's CA certificates installed (the ca-certificates package)?"
    )]
    Tls(String),
}

impl S3Error {
    /// A refusal that a retry will not fix (a wrong key or a policy), as opposed to
    /// an outage.
    pub fn is_outage(&self) -> bool {
        match self {
            S3Error::Unreachable(_) => true,
            S3Error::Refused { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// One object in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub size: u64,
}

/// The organization's bucket.
#[derive(Clone)]
pub struct S3 {
    bucket: Bucket,
    credentials: Credentials,
    http: reqwest::Client,
}

impl S3 {
    pub fn new(config: &S3Config) -> Result<S3, S3Error> {
        let endpoint: url::Url = config
            .endpoint
            .parse()
            .map_err(|e| S3Error::Endpoint(format!("{}: {e}", config.endpoint)))?;
        let style = if config.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(
            endpoint,
            style,
            config.bucket.clone(),
            config.region.clone(),
        )
        .map_err(|e| S3Error::Endpoint(e.to_string()))?;
        let credentials = match &config.session_token {
            Some(token) => Credentials::new_with_token(
                config.access_key_id.clone(),
                config.secret_access_key.clone(),
                token.clone(),
            ),
            None => Credentials::new(
                config.access_key_id.clone(),
                config.secret_access_key.clone(),
            ),
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            // The one way this fails on a box: no CA certificates to trust.
            .map_err(|e| S3Error::Tls(e.to_string()))?;
        Ok(S3 {
            bucket,
            credentials,
            http,
        })
    }

    /// Writes `body` under `key` (a whole object: a retry overwrites it).
    pub async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), S3Error> {
        let url = self
            .bucket
            .put_object(Some(&self.credentials), key)
            .sign(SIGNED_FOR);
        let response = self
            .http
            .put(url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .map_err(unreachable)?;
        check(response, &format!("PUT {key}")).await.map(drop)
    }

    /// Reads `key`; `None` when there is no such object. Refuses an object larger
    /// than `limit` before reading it (and while reading, should it lie).
    pub async fn get(&self, key: &str, limit: u64) -> Result<Option<Vec<u8>>, S3Error> {
        let url = self
            .bucket
            .get_object(Some(&self.credentials), key)
            .sign(SIGNED_FOR);
        let response = self.http.get(url).send().await.map_err(unreachable)?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let mut response = check(response, &format!("GET {key}")).await?;
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(S3Error::TooLarge {
                key: key.to_owned(),
                limit,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(S3Error::TooLarge {
                    key: key.to_owned(),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body))
    }

    /// Every object under `prefix`, in key order, after `start_after` if given.
    pub async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<Object>, S3Error> {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut action = self.bucket.list_objects_v2(Some(&self.credentials));
            action.with_prefix(prefix);
            if let Some(after) = start_after {
                action.with_start_after(after);
            }
            if let Some(token) = &token {
                action.with_continuation_token(token.as_str());
            }
            let url = action.sign(SIGNED_FOR);
            let response = self.http.get(url).send().await.map_err(unreachable)?;
            let response = check(response, &format!("LIST {prefix}")).await?;
            let text = response.text().await.map_err(unreachable)?;
            let page = rusty_s3::actions::ListObjectsV2::parse_response(&text)
                .map_err(|e| S3Error::BadListing(e.to_string()))?;
            objects.extend(page.contents.into_iter().map(|c| Object {
                key: c.key,
                size: c.size.unwrap_or(0),
            }));
            match page.next_continuation_token {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => break,
            }
        }
        Ok(objects)
    }
}

fn unreachable(error: reqwest::Error) -> S3Error {
    S3Error::Unreachable(error.without_url().to_string())
}

async fn check(response: reqwest::Response, what: &str) -> Result<reqwest::Response, S3Error> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    // S3's error documents are short XML: keep the code and message readable.
    let body: String = body.chars().take(300).collect();
    Err(S3Error::Refused {
        what: what.to_owned(),
        status: status.as_u16(),
        body,
    })
}
