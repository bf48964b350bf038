//! The client address behind trusted proxies: `X-Forwarded-For` as `client_address` reads it
//! (the throttle's per-address counters and the audit log rely on it).
//!
//! Input: a selector byte (the TCP peer: trusted or not, IPv4, IPv6 or IPv4-mapped), then one
//! `X-Forwarded-For` value per line.
#![no_main]

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue};
use ipnet::IpNet;
use libfuzzer_sys::fuzz_target;
use porteiro::request::client_address;

const PEERS: [&str; 6] = [
    "10.0.0.2",
    "::ffff:10.0.0.2",
    "fd00::1",
    "203.0.113.9",
    "::1",
    "0.0.0.0",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let trusted: Vec<IpNet> = ["10.0.0.0/8", "fd00::/8", "127.0.0.1/32"]
        .iter()
        .map(|net| net.parse().expect("a network"))
        .collect();
    let peer: IpAddr = PEERS[usize::from(selector) % PEERS.len()]
        .parse()
        .expect("an address");
    let mut headers = HeaderMap::new();
    for line in rest.split(|&b| b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append("x-forwarded-for", value);
        }
    }
    let client = client_address(peer, &headers, &trusted);
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        assert_eq!(client, peer, "an untrusted peer is the client");
    } else if client != peer {
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
            .map(|ip| ip.to_canonical())
            .collect();
        assert!(
            hops.contains(&client),
            "the client is the peer or a forwarded hop"
        );
    }
});
