//! The built-in panels, one file each.

pub mod house_numbers;
pub mod import_report;
pub mod inspector;
pub mod layers;
pub mod review;
pub mod review_actions;
pub mod search;
pub mod selection;
