//! Where a delivery connects, checked at the moment it connects.
//!
//! The address is checked where the connection is made, not only when the
//! bot was created: a name may resolve elsewhere by now (DNS rebinding),
//! and a receiver may redirect. So deliveries resolve names through
//! [`Filtering`], which drops the addresses the policy refuses; a URL with
//! a literal address (which skips resolving) is checked before sending
//! ([`Policy::check_literal`]); and every redirect (at most
//! [`MAX_REDIRECTS`]) is checked for its scheme and literal address, its
//! name going through the same resolver.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{Policy, Refused};

/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 3;

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

impl Filtering {
    /// A resolver for `policy`.
    pub fn new(policy: Arc<Policy>) -> Self {
        Self { policy }
    }
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

/// The redirect policy of deliveries: at most [`MAX_REDIRECTS`], each to
/// an http(s) URL whose literal address, if it has one, is allowed.
pub fn redirects(policy: Arc<Policy>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        // `previous` starts with the URL first asked for.
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error("too many redirects");
        }
        match policy.check_literal(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(why) => attempt.error(why),
        }
    })
}

/// "the address is not allowed: 10.0.0.1 is a private address".
pub fn not_allowed(why: &Refused) -> String {
    format!("the address is not allowed: {why}")
}

/// A failed request as a clause for the bot's status.
pub fn explain(error: &reqwest::Error) -> String {
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
        let refusing = Filtering::new(Arc::new(Policy::default()));
        let name: Name = "localhost".parse().expect("a name");
        let error = refusing.resolve(name).await.err().expect("refused");
        assert!(error.to_string().contains("loopback"), "{error}");
        let allowing = Filtering::new(Arc::new(
            Policy::new(&["127.0.0.1".into()]).expect("a policy"),
        ));
        let name: Name = "localhost".parse().expect("a name");
        let addresses: Vec<SocketAddr> = allowing.resolve(name).await.expect("allowed").collect();
        assert!(!addresses.is_empty());
        assert!(addresses
            .iter()
            .all(|a| a.ip() == std::net::IpAddr::from([127, 0, 0, 1])));
    }
}
