//! Porteiro: a self-hosted token service for multi-tenant APIs. People log in per organization
//! and get short-lived JWT access tokens with refresh tokens, in the request and response shapes
//! of djangorestframework-simplejwt; sessions, refresh rotation, login throttling and signing
//! keys live in the database (SQLite by default, PostgreSQL for several instances).
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod domain;
pub mod files;
pub mod http;
pub mod i18n;
pub mod metrics;
pub mod outage;
pub mod request;
pub mod store;
pub mod tokens;
pub mod views;
