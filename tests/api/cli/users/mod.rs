//! Creating and managing users and memberships.

mod create;
mod django;
mod import;
mod manage;
mod password_choice;

use super::*;
