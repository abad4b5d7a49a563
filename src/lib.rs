//! heapdiff: compare two V8 heap snapshots and show what grew and what keeps it alive.
//!
//! Data flows one way: `snapshot::load` → [`loaded::Loaded`] (classes, shallow sizes and
//! `analysis`) → summary rows, retainer trees, comparisons. The engine knows nothing of windows;
//! the CLI (`cli`) and, later, the app drive it.

pub mod analysis;
pub mod app;
pub mod cli;
pub mod cli_diff;
pub mod diff;
pub mod format;
pub mod loaded;
pub mod report;
pub mod retainers_view;
pub mod snapshot;
pub mod summary;
pub mod synth;
