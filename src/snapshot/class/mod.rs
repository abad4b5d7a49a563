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

use std::collections::HashMap;

pub use classes::{ClassOf, Classes, classify};
pub use display::{display_name, format_property_name};
pub use dom::{DOM_ATTACHED, DOM_DETACHED, DOM_UNKNOWN, dom_states, raw_name};
pub use interface::{InterfaceDefinition, infer_interface_definitions};
pub use shallow::{shallow_sizes, shallow_sizes_in_place, shallow_sizes_with_dom};
pub use utf16::{cmp_utf16, utf16_len};

/// A small multiplicative hasher for keys made of string indexes (the default SipHash costs more
/// than the work it guards); the keys do not come from an adversary that could pick collisions
/// cheaply enough to matter beyond slowing one load.
#[derive(Clone, Copy, Default)]
pub(super) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;
