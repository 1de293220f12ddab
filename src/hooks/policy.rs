//! Where webhooks may go: the guard against server-side request forgery.
//!
//! A webhook makes natter send a request wherever a member says, so by
//! default it refuses every address that reaches inside: loopback,
//! private, shared (carrier NAT), link-local (and with it the cloud
//! metadata address 169.254.169.254), unspecified, multicast and their
//! IPv6 and IPv4-mapped forms. `--webhook-allow` lets chosen hosts or
//! networks through. The check runs on the addresses a name resolves to,
//! at every connection (see `guard`), so a name that resolves somewhere
//! else later, or a redirect, is checked again.

use std::net::IpAddr;

use ipnet::IpNet;

/// The webhook targets this instance may reach.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Host names allowed whatever they resolve to (lowercase).
    hosts: Vec<String>,
    /// Networks allowed although inside.
    nets: Vec<IpNet>,
}

/// Why a target is refused: a clause for "The webhook address is not
/// allowed: …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl Policy {
    /// The policy `--webhook-allow` describes: each entry a CIDR, an
    /// address, or a host name.
    pub fn new(allow: &[String]) -> anyhow::Result<Self> {
        let mut policy = Self::default();
        for entry in allow.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            if let Ok(net) = entry.parse::<IpNet>() {
                policy.nets.push(net);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                policy.nets.push(IpNet::from(ip));
            } else if entry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            {
                policy.hosts.push(entry.to_ascii_lowercase());
            } else {
                anyhow::bail!("--webhook-allow: {entry:?} is neither a host nor a CIDR");
            }
        }
        Ok(policy)
    }

    /// Whether `host` (a name, as in a URL) is allowed whatever it
    /// resolves to.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&host)
    }

    /// Whether a connection to `ip` is allowed.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        let ip = canonical(ip);
        if self.nets.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        match inside(ip) {
            Some(kind) => Err(Refused(format!("{ip} is {kind} address"))),
            None => Ok(()),
        }
    }

    /// Checks a webhook URL as given: its scheme, and its host (a literal
    /// address, or every address the name resolves to now).
    pub async fn check_url(&self, url: &str) -> Result<url::Url, Refused> {
        let parsed = url::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| Refused("it must be an http or https URL".into()))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Refused("it must not carry a user name or password".into()));
        }
        match parsed.host() {
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
            Some(url::Host::Domain(name)) if self.allows_host(name) => {}
            Some(url::Host::Domain(name)) => {
                let port = parsed.port_or_known_default().unwrap_or(80);
                let addresses: Vec<_> = tokio::net::lookup_host((name, port))
                    .await
                    .map_err(|_| Refused("the host cannot be resolved".into()))?
                    .collect();
                if addresses.is_empty() {
                    return Err(Refused("the host cannot be resolved".into()));
                }
                for address in addresses {
                    self.check_ip(address.ip())?;
                }
            }
            None => return Err(Refused("it must be an http or https URL".into())),
        }
        Ok(parsed)
    }

    /// Checks what can be checked of a URL without resolving it: its scheme,
    /// and its host when that is a literal address (a name is checked by
    /// the resolver deliveries connect through, `guard::Filtering`).
    pub fn check_literal(&self, url: &url::Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused("it must be an http or https URL".into()));
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => Ok(()),
            None => Err(Refused("it must be an http or https URL".into())),
        }
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// What kind of inside address `ip` is, if it is one ("a loopback").
fn inside(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("a loopback")
            } else if v4.is_private() {
                Some("a private")
            } else if v4.is_link_local() {
                Some("a link-local")
            } else if a == 100 && (64..128).contains(&b) {
                Some("a shared (carrier NAT)")
            } else if a == 0 || v4.is_broadcast() {
                Some("an unspecified")
            } else if v4.is_multicast() || a >= 240 {
                Some("a reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("a loopback")
            } else if v6.is_unspecified() {
                Some("an unspecified")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a private (unique local)")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local")
            } else if v6.is_multicast() {
                Some("a reserved")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &Policy, ip: &str) -> bool {
        policy.check_ip(ip.parse().expect("an address")).is_err()
    }

    #[test]
    fn inside_addresses_are_refused_by_default() {
        let policy = Policy::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "224.0.0.1",
        ] {
            assert!(refused(&policy, ip), "{ip} should be refused");
        }
        for ip in ["93.184.216.34", "172.32.0.1", "2606:4700::1111", "8.8.8.8"] {
            assert!(!refused(&policy, ip), "{ip} should be allowed");
        }
        assert_eq!(
            policy.check_ip("169.254.169.254".parse().expect("an address")),
            Err(Refused("169.254.169.254 is a link-local address".into()))
        );
    }

    #[test]
    fn the_allow_list_lets_chosen_hosts_and_networks_through() {
        let allow = ["127.0.0.1", "10.1.0.0/16", "Hooks.Internal"].map(String::from);
        let policy = Policy::new(&allow).expect("a policy");
        assert!(!refused(&policy, "127.0.0.1"));
        assert!(refused(&policy, "127.0.0.2"));
        assert!(!refused(&policy, "10.1.200.3"));
        assert!(refused(&policy, "10.2.0.1"));
        assert!(policy.allows_host("hooks.internal"));
        assert!(!policy.allows_host("other.internal"));
        assert!(Policy::new(&["not a host!".into()]).is_err());
    }

    #[tokio::test]
    async fn urls_are_checked_by_scheme_and_address() {
        let policy = Policy::default();
        let why = |r: Result<url::Url, Refused>| r.err().map(|e| e.0);
        assert_eq!(
            why(policy.check_url("ftp://example.org/x").await),
            Some("it must be an http or https URL".into())
        );
        assert_eq!(
            why(policy.check_url("http://169.254.169.254/latest").await),
            Some("169.254.169.254 is a link-local address".into())
        );
        assert_eq!(
            why(policy.check_url("http://[::1]:8080/").await),
            Some("::1 is a loopback address".into())
        );
        assert!(why(policy.check_url("http://localhost:9/").await).is_some());
        let allowed = Policy::new(&["127.0.0.1".into()]).expect("a policy");
        assert!(allowed.check_url("http://127.0.0.1:9/hook").await.is_ok());
    }
}
