//! One attempt at a delivery: a signed POST, through a client that goes
//! only where the [`Policy`] lets it (see [`guard`](super::guard)), and
//! what came back.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::header::CONTENT_TYPE;
use sha2::Sha256;

use super::guard::{self, Filtering};
use super::queue::{Delivery, Target};
use super::Policy;

/// How long an attempt may take, answer included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The most of an answer read: a reply is at most 2000 characters.
const MAX_ANSWER: usize = 16 * 1024;

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// A 2xx answer, with its content type and body.
    Delivered {
        /// The status code.
        status: u16,
        /// The answer's `Content-Type`, if any.
        content_type: Option<String>,
        /// The answer's body, or why it was not read (a sentence).
        body: Result<Vec<u8>, &'static str>,
    },
    /// Anything else: to be retried.
    Failed(Failure),
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The receiver answered with this (non-2xx) status.
    Status(u16),
    /// No answer: a clause such as "connection refused".
    Error(String),
}

impl Failure {
    /// As it follows "failed": " (500)" or ": connection refused".
    pub fn brief(&self) -> String {
        match self {
            Self::Status(status) => format!(" ({status})"),
            Self::Error(why) => format!(": {why}"),
        }
    }

    /// As it follows "gave up after N attempts: ".
    pub fn reason(&self) -> String {
        match self {
            Self::Status(status) => format!("answered {status}"),
            Self::Error(why) => why.clone(),
        }
    }
}

/// Sends deliveries: one HTTP client (its connections pooled) for all.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: Arc<Policy>,
}

impl Sender {
    /// A sender that goes only where `policy` lets it.
    pub fn new(policy: Policy) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            // A proxy would connect for us, past the checks.
            .no_proxy()
            .timeout(TIMEOUT)
            .user_agent("natter-webhook")
            .dns_resolver(Arc::new(Filtering::new(policy.clone())))
            .redirect(guard::redirects(policy.clone()))
            .build()?;
        Ok(Self { client, policy })
    }

    /// One attempt at `delivery` to `target`.
    pub async fn send(&self, target: &Target, delivery: &Delivery) -> Sent {
        let url = match url::Url::parse(&target.url) {
            Ok(url) => url,
            Err(_) => {
                return Sent::Failed(Failure::Error("the webhook address is not a URL".into()))
            }
        };
        if let Err(why) = self.policy.check_literal(&url) {
            return Sent::Failed(Failure::Error(guard::not_allowed(&why)));
        }
        let key = delivery.key();
        let answer = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(
                "x-natter-signature",
                signature(&target.secret, delivery.payload.as_bytes()),
            )
            .header("idempotency-key", &key)
            .header("x-natter-delivery", &key)
            .body(delivery.payload.clone())
            .send()
            .await;
        let mut response = match answer {
            Ok(response) => response,
            Err(error) => return Sent::Failed(Failure::Error(guard::explain(&error))),
        };
        let status = response.status();
        if !status.is_success() {
            return Sent::Failed(Failure::Status(status.as_u16()));
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        // The status is the delivery; an answer cut short is no reply.
        let body = read_answer(&mut response).await;
        Sent::Delivered {
            status: status.as_u16(),
            content_type,
            body,
        }
    }
}

/// The answer's body, up to [`MAX_ANSWER`] bytes.
async fn read_answer(response: &mut reqwest::Response) -> Result<Vec<u8>, &'static str> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > MAX_ANSWER => {
                return Err("The answer is too long to post.")
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Ok(body),
            Err(_) => return Err("The answer was cut short."),
        }
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `body` keyed with `secret` (the
/// whole secret as given, `whsec_` included).
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length; the error cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::from("sha256=");
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hex_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
