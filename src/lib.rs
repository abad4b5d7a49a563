//! heapdiff: compare V8 heap snapshots and show what grew and what keeps it alive.
//!
//! Data flows one way: each module uses only modules listed above it, never one below (`task`,
//! `format`, `hash` and `mem`, `cli` and `app` are siblings that do not use each other either);
//! `tests/layering.rs` checks every `crate::` path in `src/`.
//!
//! ```text
//! task       progress and cancellation: the one hook type every stage reports to
//! format     number and file-label formatting for tables, reports and the window
//! hash       a fast hasher for the engine's integer keys
//! mem        memory hints: prefetching, large blocks back to the system
//! snapshot   file → Snapshot: columnar graph, strings interned once, every index checked
//!   parse/     mod (sections → columns), json (token reader), header (meta → layout),
//!              traces (trace_tree without recursion), ints (signed tables), finish
//!              (validation, CSR offsets, runtime quirks named as warnings)
//!   numbers    the hot loop: number arrays straight into columns, in parallel
//!   columns/   nodes, edges (3-byte packed type+name), locations, flat (small sections)
//!   class/     DevTools' naming: dom, shallow, interface, classes, display, utf16
//!   meta, reader, strings, packed, locations, traces (allocation stacks), scopes
//!   (Chromium's scope tables), error
//! analysis   Snapshot → Analysis: retainers, distance, dominators (+ dominator_tree walk),
//!            retained sizes, weakmap rules, summary (DevTools' aggregates), paths,
//!            scripts (which file a location is in), allocation (stacks and sites as people
//!            read them), contexts (which Context variables no live function uses)
//! loaded     Snapshot + classes + shallow sizes + Analysis: one snapshot, ready to show
//! diff       two Loaded → Comparison: compare (DevTools' rows), dominance (what new objects
//!            retain), hops (which edges own, the next hop), paths (merged retainer paths, chains
//!            folded), suspects, leaks (one finding per leak), warnings (ids that do not
//!            carry over)
//! report     Comparison → Findings → markdown | html | findings JSON; text (shared layout);
//!            retainers (the pane)
//! pipeline   files → Loaded / compared pair: the one way in for every front end
//! capture    a live process → snapshot files: inspector discovery, CDP over a WebSocket,
//!            chunks streamed to disk, the load command, process control (beside pipeline)
//!   ─────────  the engine ends here: it knows nothing of windows or argv
//! cli        clap arguments, headless subcommands (summary, retainers, diff, capture),
//!            output, table
//! app        the eframe window: state, commands, background jobs, one file per view
//! ```
//!
//! Test support (`testkit`: synthetic snapshots, mutation fuzzer, graph builders, counting
//! allocator) exists only with the `testkit` feature, which the tests and examples turn on
//! through the crate's dev-dependency on itself; the shipped binary is built without it.
//! `unsafe` is denied crate-wide (`Cargo.toml` `[lints]`) and allowed only on the few items that
//! need it, each with its `SAFETY` comment.

pub mod analysis;
pub mod app;
pub mod capture;
pub mod cli;
pub mod diff;
pub mod format;
pub mod hash;
pub mod loaded;
pub mod mem;
pub mod pipeline;
pub mod report;
pub mod snapshot;
pub mod task;
#[cfg(feature = "testkit")]
pub mod testkit;
