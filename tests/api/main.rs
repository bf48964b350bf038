//! Integration tests: the real application on port 0, a fresh SQLite database per test, HTTP over
//! loopback.

mod binary;
mod helpers;

mod admin_api;
mod audit_retention;
mod cli;
mod cluster;
mod connections;
mod console;
mod crash;
mod django;
mod faults;
mod hashing;
mod health;
mod hostile_input;
mod i18n;
mod integration;
mod interop;
mod keys;
mod login;
mod logs;
mod me;
mod model;
mod oauth;
mod openapi;
mod postgres;
mod refresh;
mod rfc9068;
mod security_headers;
mod session_writes;
mod sessions;
mod throttling;
mod tokens;
