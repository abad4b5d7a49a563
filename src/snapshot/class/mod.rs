//! DevTools' view of a node: its class (the Summary row it falls in), its display name, and the
//! shallow size DevTools shows for it.
//!
//! Every rule here reproduces a step of DevTools' `HeapSnapshot.ts` (heap_snapshot_worker), cited
//! by function name, so that heapdiff's Summary and Comparison rows match the Memory panel:
//! - [`dom_states`] follows `initDetachednessAndClassIndex` and `propagateDOMState`;
//! - [`shallow_sizes`] follows `JSHeapSnapshot.calculateShallowSizes`;
//! - [`infer_interface_definitions`] follows `inferInterfaceDefinitions`;
//! - [`classify`] follows `calculateObjectNames`, `applyInterfaceDefinitions`, `classKeyInternal`;
//! - [`display_name`] follows `JSHeapSnapshotNode.name()` (cons strings, `{a, b, …}` objects).
//!
//! DevTools compares and measures strings as UTF-16; [`cmp_utf16`] and [`utf16_len`] keep that
//! exact for names outside the BMP.
//!
//! One file per step, in that order: `dom`, `shallow`, `interface`, `classes`, `display`,
//! `utf16`; their public items are re-exported here.

mod classes;
mod display;
mod dom;
mod interface;
mod shallow;
mod utf16;

pub use classes::{ClassOf, Classes, classify};
pub use display::{display_name, format_property_name};
pub use dom::{DOM_ATTACHED, DOM_DETACHED, DOM_UNKNOWN, dom_states, raw_name};
pub use interface::{InterfaceDefinition, infer_interface_definitions};
pub use shallow::{shallow_sizes, shallow_sizes_in_place, shallow_sizes_with_dom};
pub use utf16::{cmp_utf16, utf16_len};

pub(super) use crate::hash::FxMap;
