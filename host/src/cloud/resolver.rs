//! Name resolution for the HTTPS transport that will not be talked into the host's own
//! network. A host name that resolves to a link-local address (the cloud metadata service),
//! an unspecified or multicast one, or loopback and private ranges when the target itself is
//! not there, is refused: a step cannot reach them by naming an innocent-looking host.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Which addresses a run may connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPolicy {
    /// The target is on this machine (a served simulator at 127.0.0.1).
    pub loopback: bool,
    /// The target is on a private network.
    pub private: bool,
}

impl AddressPolicy {
    /// The policy for a target at `host`: its own kind of address is allowed.
    pub fn for_target_host(host: &str) -> Self {
        let ip = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
        let loopback = host.eq_ignore_ascii_case("localhost") || ip.is_some_and(|ip| ip.is_loopback());
        AddressPolicy { loopback, private: ip.is_some_and(is_private) }
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        if ip.is_unspecified() || ip.is_multicast() || is_link_local(ip) {
            return false;
        }
        if ip.is_loopback() {
            return self.loopback;
        }
        if is_private(ip) {
            return self.private;
        }
        true
    }
}

fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// RFC 1918, carrier-grade NAT (100.64/10) and IPv6 unique-local addresses.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// The system resolver, with every answer checked against the policy.
pub struct PinnedResolver {
    pub policy: AddressPolicy,
}

impl Resolve for PinnedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.iter().copied().filter(|a| policy.allows(a.ip())).collect();
            if allowed.is_empty() && !found.is_empty() {
                let msg = format!("{host} resolves to {}, which a run may not reach (link-local, private or loopback)", found[0].ip());
                return Err(msg.into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_metadata_service_and_other_link_local_addresses_are_never_reached() {
        for policy in [AddressPolicy { loopback: true, private: true }, AddressPolicy::for_target_host("management.azure.com")] {
            for addr in ["169.254.169.254", "169.254.0.1", "fe80::1", "::ffff:169.254.169.254", "0.0.0.0", "::", "224.0.0.1"] {
                assert!(!policy.allows(ip(addr)), "{addr} with {policy:?}");
            }
        }
    }

    #[test]
    fn against_azure_only_public_addresses_are_reached() {
        let azure = AddressPolicy::for_target_host("management.azure.com");
        for addr in ["127.0.0.1", "::1", "10.0.0.4", "172.16.0.1", "192.168.1.1", "100.64.0.1", "fd00::1", "::ffff:10.1.2.3"] {
            assert!(!azure.allows(ip(addr)), "{addr}");
        }
        for addr in ["20.42.0.1", "13.107.42.14", "2603:1030::1"] {
            assert!(azure.allows(ip(addr)), "{addr}");
        }
    }

    #[test]
    fn a_target_on_this_machine_may_be_reached_but_not_the_private_network() {
        let local = AddressPolicy::for_target_host("127.0.0.1");
        assert!(local.allows(ip("127.0.0.1")) && local.allows(ip("::1")));
        assert!(!local.allows(ip("10.0.0.1")) && !local.allows(ip("169.254.169.254")));
        assert_eq!(AddressPolicy::for_target_host("localhost"), AddressPolicy { loopback: true, private: false });
        assert_eq!(AddressPolicy::for_target_host("[::1]"), AddressPolicy { loopback: true, private: false });
        assert!(AddressPolicy::for_target_host("10.1.2.3").allows(ip("10.9.9.9")));
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_against_a_public_target() {
        let r = PinnedResolver { policy: AddressPolicy::for_target_host("management.azure.com") };
        let err = r.resolve("localhost".parse().unwrap()).await.err().expect("refused");
        assert!(err.to_string().contains("which a run may not reach"), "{err}");
        let ok = PinnedResolver { policy: AddressPolicy::for_target_host("127.0.0.1") };
        assert!(ok.resolve("localhost".parse().unwrap()).await.unwrap().any(|a| a.ip().is_loopback()));
    }
}
