//! One attempt at a delivery: a signed POST through a client that goes
//! only where the [`Policy`] lets it.
//!
//! The address is checked where the connection is made, not only when the
//! bot was created: a name may resolve elsewhere by now (DNS rebinding),
//! and a receiver may redirect. So the client resolves names through
//! [`Filtering`], which drops the addresses the policy refuses; a URL
//! with a literal address (which skips resolving) is checked before
//! sending; and every redirect (at most [`MAX_REDIRECTS`]) is checked for
//! its scheme and literal address, its name going through the same
//! resolver. Proxies from the environment are ignored: they would connect
//! for us, past the check.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::CONTENT_TYPE;
use sha2::Sha256;

use super::queue::{Delivery, Target};
use super::{Policy, Refused};

/// How long an attempt may take, answer included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 3;

/// The most of an answer read: a reply is at most 2000 characters.
const MAX_ANSWER: usize = 16 * 1024;

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// A 2xx answer, with its content type and body (`None` when too long
    /// to read).
    Delivered {
        /// The status code.
        status: u16,
        /// The answer's `Content-Type`, if any.
        content_type: Option<String>,
        /// The answer's body, unless it was longer than natter reads.
        body: Option<Vec<u8>>,
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

/// A name that did not resolve.
#[derive(Debug, thiserror::Error)]
#[error("the host cannot be resolved")]
struct Unresolved;

/// The resolver deliveries connect through: the system's, less the
/// addresses the policy refuses (all of them, for a host it allows).
#[derive(Debug)]
pub struct Filtering {
    policy: Arc<Policy>,
}

impl Resolve for Filtering {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| Unresolved)?
                .collect();
            if found.is_empty() {
                return Err(Unresolved.into());
            }
            if policy.allows_host(&host) {
                return Ok(Box::new(found.into_iter()) as Addrs);
            }
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|address| match policy.check_ip(address.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refused.get_or_insert(why);
                        false
                    }
                })
                .collect();
            match refused {
                Some(why) if allowed.is_empty() => Err(why.into()),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
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
        let redirects = policy.clone();
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(TIMEOUT)
            .user_agent("natter-webhook")
            .dns_resolver(Arc::new(Filtering {
                policy: policy.clone(),
            }))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                // `previous` starts with the URL first asked for.
                if attempt.previous().len() > MAX_REDIRECTS {
                    return attempt.error("too many redirects");
                }
                match redirects.check_literal(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(why) => attempt.error(why),
                }
            }))
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
            return Sent::Failed(Failure::Error(not_allowed(&why)));
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
            Err(error) => return Sent::Failed(Failure::Error(explain(&error))),
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
        let mut body = Some(Vec::new());
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let Some(read) = body.as_mut() else { break };
                    if read.len() + chunk.len() > MAX_ANSWER {
                        body = None;
                        break;
                    }
                    read.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(_) => {
                    body = None;
                    break;
                }
            }
        }
        Sent::Delivered {
            status: status.as_u16(),
            content_type,
            body,
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

/// "the address is not allowed: 10.0.0.1 is a private address".
fn not_allowed(why: &Refused) -> String {
    format!("the address is not allowed: {why}")
}

/// A failed request as a clause for the bot's status.
fn explain(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(why) = cause.downcast_ref::<Refused>() {
            return not_allowed(why);
        }
        if cause.downcast_ref::<Unresolved>().is_some() {
            return Unresolved.to_string();
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => return "connection reset".into(),
                _ => {}
            }
        }
        source = cause.source();
    }
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_redirect() {
        "too many redirects".into()
    } else if error.is_connect() {
        "cannot connect".into()
    } else {
        "the request failed".into()
    }
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

    #[test]
    fn literal_addresses_and_schemes_are_checked_without_resolving() {
        let policy = Policy::default();
        let check = |url: &str| policy.check_literal(&url::Url::parse(url).expect("a URL"));
        assert!(check("https://example.org/hook").is_ok());
        assert_eq!(
            check("http://169.254.169.254/").map_err(|e| e.0),
            Err("169.254.169.254 is a link-local address".into())
        );
        assert!(check("http://[::ffff:10.0.0.1]/").is_err());
        assert!(check("file:///etc/passwd").is_err());
    }

    #[tokio::test]
    async fn the_resolver_drops_refused_addresses() {
        let refusing = Filtering {
            policy: Arc::new(Policy::default()),
        };
        let name: Name = "localhost".parse().expect("a name");
        let error = refusing.resolve(name).await.err().expect("refused");
        assert!(error.to_string().contains("loopback"), "{error}");
        let allowing = Filtering {
            policy: Arc::new(Policy::new(&["127.0.0.1".into()]).expect("a policy")),
        };
        let name: Name = "localhost".parse().expect("a name");
        let addresses: Vec<SocketAddr> = allowing.resolve(name).await.expect("allowed").collect();
        assert!(!addresses.is_empty());
        assert!(addresses
            .iter()
            .all(|a| a.ip() == std::net::IpAddr::from([127, 0, 0, 1])));
    }
}
