//! Creating and managing users and memberships.

mod create;
mod django;
mod manage;
mod password_choice;

use super::*;
