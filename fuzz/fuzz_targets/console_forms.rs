//! The console's form fields through the server's own router, as a signed-in owner's browser
//! posts them (CSRF token, session and language cookies, `Accept-Language`): sign-in, switching
//! organization, renaming it, creating, rotating and revoking integrations, adding users and
//! changing their role or state, ending sessions, the language switch and its return path. A
//! refusal is expected; a panic or a 500 is the bug.
//!
//! Input: a request as `porteiro_fuzz` reads it, its path under `/console/`, with placeholders
//! `{session}` (the owner's console session), `{csrf}`, `{org}`, `{owner}`, `{member}`, `{key}`,
//! `{password}`.
#![no_main]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use porteiro_fuzz::{Server, assert_not_a_server_error, parse_request, with_server};

fn start() -> Server {
    Server::start(|_| {})
}

/// Whether the owner's console session still works (an input may sign it out, or take away
/// the role it needs).
fn session_works(server: &Server) -> bool {
    let probe = Request::get("/console/settings")
        .header(
            "cookie",
            format!("porteiro_console={}", server.live.session),
        )
        .body(Body::empty())
        .expect("a request");
    server.send(probe).0 == StatusCode::OK
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    with_server(20_000, start, |server| {
        let input = server.expand(text);
        let Some(request) = parse_request(&input, "/console/") else {
            return true;
        };
        let (status, headers, body) = server.send(request);
        assert_not_a_server_error(text, status, &body);
        let signed_out = headers
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/console/?note"));
        // Only an answer to the owner's own session may mean that it stopped working.
        !(text.contains("{session}") && (signed_out || status == StatusCode::FORBIDDEN))
            || session_works(server)
    });
});
