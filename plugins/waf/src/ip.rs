//! IP allow and deny lists (CIDR, IPv4 and IPv6), and finding the client behind trusted
//! proxies.

use std::net::IpAddr;

use ipnet::IpNet;
use wasmgate_plugin_sdk::InitError;

/// A list of networks; a bare address is a /32 or /128.
#[derive(Debug, Default, Clone)]
pub(crate) struct NetList(Vec<IpNet>);

impl NetList {
    /// Parses `entries`, naming `key_path[index]` in errors.
    pub(crate) fn parse(entries: &[String], key_path: &str) -> Result<Self, InitError> {
        let mut nets = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let entry = entry.trim();
            let net = entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    InitError::invalid_config(
                        &format!("{key_path}[{index}]"),
                        format!(
                            "`{entry}` is not an IP address or CIDR range \
                             (e.g. `203.0.113.0/24`, `2001:db8::/32`, `10.0.0.1`)"
                        ),
                    )
                })?;
            nets.push(net.trunc());
        }
        Ok(NetList(nets))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is in one of the networks (IPv4-mapped IPv6 addresses count as IPv4).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The client address: the peer, unless the peer is a trusted proxy, in which case the
/// rightmost `X-Forwarded-For` entry that is not a trusted proxy (proxies append, so entries
/// left of the first untrusted one may be forged by the client).
pub(crate) fn client_address(peer: IpAddr, forwarded_for: &[String], trusted: &NetList) -> IpAddr {
    if trusted.is_empty() || !trusted.contains(peer) {
        return peer;
    }
    let mut client = peer;
    for value in forwarded_for.iter().rev() {
        for entry in value.rsplit(',') {
            let Some(ip) = parse_forwarded_entry(entry) else {
                return client; // garbage: stop at the last address we could trust
            };
            client = ip;
            if !trusted.contains(ip) {
                return ip;
            }
        }
    }
    client
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_forwarded_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    entry.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> NetList {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        NetList::parse(&entries, "ip.deny").unwrap()
    }

    #[test]
    fn matches_v4_and_v6_ranges() {
        let nets = list(&["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]);
        assert!(nets.contains("10.200.0.1".parse().unwrap()));
        assert!(nets.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(nets.contains("2001:db8:1::5".parse().unwrap()));
        assert!(nets.contains("192.0.2.7".parse().unwrap()));
        assert!(!nets.contains("192.0.2.8".parse().unwrap()));
    }

    #[test]
    fn rejects_a_bad_range_naming_the_entry() {
        let err = NetList::parse(&["10.0.0.0/33".into()], "ip.allow").unwrap_err();
        assert!(err.to_string().contains("`ip.allow[0]`"), "{err}");
    }

    #[test]
    fn honours_forwarded_for_only_from_trusted_proxies() {
        let trusted = list(&["10.0.0.0/8"]);
        let xff = vec!["6.6.6.6, 203.0.113.9, 10.0.0.2".to_owned()];
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(
            client_address(proxy, &xff, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        let direct: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_address(direct, &xff, &trusted), direct);
    }
}
