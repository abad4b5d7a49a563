//! heapdiff: compare V8 heap snapshots and show what grew and what keeps it alive.
//!
//! Data flows one way, each stage knowing only the ones before it:
//!
//! ```text
//! task ─ progress and cancellation, the one hook type every stage reports to
//! snapshot ─ load a file → Snapshot (columnar graph, strings interned once, indexes checked)
//! analysis ─ Snapshot → Analysis (retainers, distances, dominators, retained sizes),
//!            the Summary's aggregates, the Retainers pane's rules
//! loaded   ─ Snapshot + classes + shallow sizes + Analysis: one snapshot, ready to show
//! diff     ─ two Loaded → Comparison (DevTools' rows, what the new objects retain, merged
//!            retainer paths, suspects)
//! report   ─ Comparison → Findings → Markdown | HTML | findings JSON; the Retainers report
//! pipeline ─ files → Loaded / Compared: the one way in for every front end
//! capture  ─ a live process → snapshot files (CDP over a WebSocket, streamed to disk)
//! cli, app ─ front ends: the command line and the window, thin over the pipeline
//! ```
//!
//! The engine (everything above the front ends) knows nothing of windows or argv.

pub mod analysis;
pub mod app;
pub mod capture;
pub mod cli;
pub mod diff;
pub mod format;
pub mod loaded;
pub mod pipeline;
pub mod report;
pub mod snapshot;
pub mod synth;
pub mod task;
