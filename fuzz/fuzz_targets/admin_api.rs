//! The admin API's JSON bodies, path parameters and query strings through the server's own
//! router, as an owner's bearer token sends them: renaming the organization, creating,
//! rotating and revoking integrations, adding, changing and removing users, ending sessions,
//! filtering the activity log. A refusal is expected; a panic or a 500 is the bug.
//!
//! Input: a request as `porteiro_fuzz` reads it, its path under `/api/v1/admin/`, with
//! placeholders `{admin}` (the owner's access token), `{org}`, `{owner}`, `{member}`, `{key}`.
#![no_main]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use porteiro_fuzz::{Server, assert_not_a_server_error, parse_request, with_server};

fn start() -> Server {
    Server::start(|_| {})
}

/// Whether the owner's token still opens the admin API (an input may end its session, or take
/// away its role).
fn admin_works(server: &Server) -> bool {
    let probe = Request::get("/api/v1/admin/organization")
        .header("authorization", format!("Bearer {}", server.live.admin))
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
        let Some(request) = parse_request(&input, "/api/v1/admin/") else {
            return true;
        };
        let (status, _, body) = server.send(request);
        assert_not_a_server_error(text, status, &body);
        // Only a refusal of the owner's own token may mean that it stopped working.
        !(text.contains("{admin}")
            && matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN))
            || admin_works(server)
    });
});
