//! The token dialects through the server's own router, as a client sends them: simplejwt's
//! token (organization id in the path), refresh, verify and logout; the integration `POST /auth`,
//! its refresh by body and by query string; OAuth's token, introspection and revocation with
//! their form bodies and Basic client authentication — with whatever `Content-Type`,
//! `Accept-Language` (error bodies are translated on the way out) and `X-Forwarded-For` the input
//! carries. A refusal is expected; a panic or a 500 is the bug.
//!
//! Input: a request as `porteiro_fuzz` reads it (method and path, header lines, blank line, body),
//! with placeholders `{org}`, `{password}`, `{access}`, `{refresh}`, `{key}`, `{secret}`,
//! `{basic}`, `{integration_refresh}`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use porteiro_fuzz::{Server, assert_not_a_server_error, parse_request, with_server};

fn start() -> Server {
    Server::start(|_| {})
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    with_server(20_000, start, |server| {
        let input = server.expand(text);
        let Some(request) = parse_request(&input, "") else {
            return true;
        };
        // The admin API and the console have targets of their own.
        let path = request.uri().path();
        if path.starts_with("/api/v1/admin") || path.starts_with("/console") {
            return true;
        }
        let (status, _, body) = server.send(request);
        assert_not_a_server_error(text, status, &body);
        true
    });
});
