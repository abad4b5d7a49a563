//! Each edge's type and `name_or_index`, packed into one column of 3 bytes per edge.
//!
//! A `u8` type column beside a `u32` name column takes 5 bytes per edge: 181 MB for the 36 M
//! edges of a 943 MB snapshot, 108 MB packed. Of an edge's 24 bits, the low `type_bits` hold
//! its raw type (as many as the meta's largest type needs: 3 for V8's 7 types, 8 for 256) and
//! the rest its name: a string index for named edges, the index of `element` and `hidden`
//! edges.
//!
//! A name that does not fit (2^21 - 1 or more beside V8's 7 types: over three times the 617,886
//! strings of the 943 MB test snapshot, or an element past two million) stores all ones instead
//! and is kept in [`Spilled`], in edge order. A hostile file can make every name spill: each
//! then costs 4 bytes more, 7 in all, within a little of the 5 bytes per edge of separate
//! columns; a table of `(edge, name)` pairs searched by edge would cost 11.

/// Edges per group of [`Spilled::before`]: a spilled name is found from the count before its
/// group and the spilled names among the at most 63 edges before it in the group.
const GROUP: u64 = 64;

/// Where an edge's type and name sit in its 24 bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Packing {
    type_bits: u32,
    type_mask: u32,
    /// The name bits of a spilled name: all ones. A name this large spills too.
    escape: u32,
}

impl Packing {
    /// The packing for a meta that lists `types` edge types (at most 256): every listed type
    /// fits, and no more bits are taken from the names.
    pub fn for_types(types: usize) -> Packing {
        debug_assert!(types <= 256, "{types} edge types");
        let largest = types.saturating_sub(1) as u32;
        let type_bits = u32::BITS - largest.leading_zeros();
        Packing {
            type_bits,
            type_mask: (1 << type_bits) - 1,
            escape: (1 << (24 - type_bits)) - 1,
        }
    }

    /// The packed type and name, and whether the name spills (the packed value holds the
    /// escape instead). `ty` must be one of the packing's types.
    #[inline(always)]
    pub fn pack(self, ty: u8, name: u32) -> (u32, bool) {
        debug_assert!(u32::from(ty) <= self.type_mask, "type {ty}");
        let spills = name >= self.escape;
        let bits = if spills { self.escape } else { name };
        ((bits << self.type_bits) | u32::from(ty), spills)
    }

    /// `packed` with its type replaced by `ty` (the loader's careful path stores the fields
    /// of a record one at a time, in the layout's order).
    #[inline(always)]
    pub fn with_type(self, packed: u32, ty: u8) -> u32 {
        debug_assert!(u32::from(ty) <= self.type_mask, "type {ty}");
        (packed & !self.type_mask) | u32::from(ty)
    }

    /// `packed` with its name replaced by `name`, and whether the name spills.
    #[inline(always)]
    pub fn with_name(self, packed: u32, name: u32) -> (u32, bool) {
        let (bits, spills) = self.pack(0, name);
        (bits | (packed & self.type_mask), spills)
    }

    #[inline(always)]
    fn type_of(self, word: u32) -> u8 {
        (word & self.type_mask) as u8
    }

    /// The name bits of an edge read as a 4-byte word (the next edge's first byte on top).
    #[inline(always)]
    fn name_bits(self, word: u32) -> u32 {
        (word & 0xff_ffff) >> self.type_bits
    }
}

/// The 3 bytes of one edge in a slice of whole edges. The loader's sinks read and write only
/// these: the next byte belongs to the next edge, which another thread may be writing.
#[inline(always)]
pub fn read_slot(slot: &[u8; 3]) -> u32 {
    u32::from_le_bytes([slot[0], slot[1], slot[2], 0])
}

#[inline(always)]
pub fn write_slot(slot: &mut [u8; 3], packed: u32) {
    let [a, b, c, _] = packed.to_le_bytes();
    *slot = [a, b, c];
}

/// The names that did not fit in their edge, in edge order.
#[derive(Debug, Default)]
pub struct Spilled {
    names: Vec<u32>,
    /// How many names are spilled before each group of [`GROUP`] edges, up to the group of the
    /// last spilled name (1/16 byte per edge at most).
    before: Vec<u32>,
}

impl Spilled {
    /// Keeps the name of `edge`; edges come in ascending order.
    pub fn push(&mut self, edge: u64, name: u32) {
        let group = (edge / GROUP) as usize;
        debug_assert!(self.before.len() <= group + 1, "edge {edge} out of order");
        while self.before.len() <= group {
            self.before.push(self.names.len() as u32);
        }
        self.names.push(name);
    }
}

/// Every edge's type and name, 3 bytes each.
#[derive(Debug, Default)]
pub struct PackedEdges {
    /// Three bytes per edge, little-endian, then one zero byte so that the last edge too is
    /// read as one unaligned `u32` (empty when there are no edges).
    bytes: Vec<u8>,
    packing: Packing,
    spilled: Spilled,
}

impl PackedEdges {
    /// An empty column for a meta that lists `types` edge types (see [`Packing::for_types`]).
    pub fn new(types: usize) -> PackedEdges {
        PackedEdges {
            packing: Packing::for_types(types),
            ..PackedEdges::default()
        }
    }

    /// Packs the types and names of hand-built edges (tests, `testkit::cut`).
    pub fn from_columns(types: &[u8], names: &[u32]) -> PackedEdges {
        assert_eq!(types.len(), names.len(), "one name per edge type");
        let most = types.iter().max().map_or(0, |&t| usize::from(t) + 1);
        let mut packed = PackedEdges::new(most);
        let packing = packed.packing;
        let slots = packed.grow(types.len());
        let mut spilled = Spilled::default();
        for (edge, ((slot, &ty), &name)) in slots.iter_mut().zip(types).zip(names).enumerate() {
            let (value, spills) = packing.pack(ty, name);
            write_slot(slot, value);
            if spills {
                spilled.push(edge as u64, name);
            }
        }
        packed.spilled = spilled;
        packed
    }

    pub fn packing(&self) -> Packing {
        self.packing
    }

    pub fn len(&self) -> usize {
        self.bytes.len() / 3
    }

    /// Reserves room for `edges` more edges.
    pub fn reserve(&mut self, edges: usize) {
        self.bytes.reserve_exact(3 * edges + 1);
        crate::mem::advise_huge(self.bytes.spare_capacity_mut());
    }

    /// Appends `edges` zeroed edges, keeping the padding byte last, and returns their slots.
    pub fn grow(&mut self, edges: usize) -> &mut [[u8; 3]] {
        let from = self.bytes.len().saturating_sub(1);
        self.bytes.truncate(from);
        super::columns::extend_zeroed(&mut self.bytes, 3 * edges + 1);
        self.bytes[from..from + 3 * edges].as_chunks_mut().0
    }

    /// Takes the names the loader spilled while it filled the slots of [`PackedEdges::grow`].
    pub fn set_spilled(&mut self, spilled: Spilled) {
        self.spilled = spilled;
    }

    /// The edge's bits, read as one unaligned word: the padding byte makes the last edge's
    /// read as safe as any other's.
    #[inline(always)]
    fn word(&self, edge: u32) -> u32 {
        let at = 3 * edge as usize;
        let four: [u8; 4] = self.bytes[at..at + 4].try_into().unwrap_or_default();
        u32::from_le_bytes(four)
    }

    /// Asks for the line holding `edge`'s bits (see [`crate::mem::prefetch`]).
    #[inline(always)]
    pub fn prefetch(&self, edge: u32) {
        crate::mem::prefetch(&self.bytes, 3 * edge as usize);
    }

    /// The raw type: an index into `meta.edge_types`.
    #[inline(always)]
    pub fn edge_type(&self, edge: u32) -> u8 {
        self.packing.type_of(self.word(edge))
    }

    /// The raw `name_or_index`.
    #[inline(always)]
    pub fn name(&self, edge: u32) -> u32 {
        let bits = self.packing.name_bits(self.word(edge));
        if bits == self.packing.escape {
            return self.spilled_name(edge);
        }
        bits
    }

    #[cold]
    #[inline(never)]
    fn spilled_name(&self, edge: u32) -> u32 {
        let group = u64::from(edge) / GROUP;
        let first = (group * GROUP) as u32;
        let spills = |e: &u32| self.packing.name_bits(self.word(*e)) == self.packing.escape;
        let within = (first..edge).filter(spills).count();
        self.spilled.names[self.spilled.before[group as usize] as usize + within]
    }

    /// Bytes held (capacity), for the benchmark's accounting.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + 4 * (self.spilled.names.capacity() + self.spilled.before.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_bits_follow_the_largest_type() {
        let bits = |types| Packing::for_types(types).type_bits;
        assert_eq!(
            [bits(0), bits(1), bits(2), bits(7), bits(8), bits(9)],
            [0, 0, 1, 3, 3, 4]
        );
        assert_eq!(bits(256), 8);
    }

    /// Names at and around the escape, for every width of the type bits, read back unchanged;
    /// only those that do not fit are spilled.
    #[test]
    fn names_that_do_not_fit_spill_and_read_back() {
        for types in [1usize, 2, 7, 8, 100, 256] {
            let escape = Packing::for_types(types).escape;
            let edges = 1000u32;
            let ty = |e: u32| (e as usize * 3 % types) as u8;
            let name = |e: u32| match e % 5 {
                0 => e,
                1 => escape - 1,
                2 => escape,
                3 if e.is_multiple_of(3) => u32::MAX,
                _ => escape + e,
            };
            let types_of: Vec<u8> = (0..edges).map(ty).collect();
            let names: Vec<u32> = (0..edges).map(name).collect();
            let packed = PackedEdges::from_columns(&types_of, &names);
            assert_eq!(packed.len(), edges as usize);
            for e in 0..edges {
                assert_eq!(
                    (packed.edge_type(e), packed.name(e)),
                    (ty(e), name(e)),
                    "{e}"
                );
            }
            let spilled = names.iter().filter(|&&n| n >= escape).count();
            assert_eq!(packed.spilled.names.len(), spilled, "{types} types");
        }
    }

    /// The careful path sets a record's type and name one at a time, in either order.
    #[test]
    fn fields_set_apart_keep_each_other() {
        let p = Packing::for_types(7);
        let (named, _) = p.with_name(p.with_type(0, 6), 12345);
        let typed = p.with_type(p.with_name(0, 12345).0, 6);
        assert_eq!(named, typed);
        assert_eq!(named, p.pack(6, 12345).0);
        let mut slot = [0u8; 3];
        write_slot(&mut slot, named);
        assert_eq!(read_slot(&slot), named);
    }

    #[test]
    fn no_edges_read_as_empty() {
        assert_eq!(PackedEdges::from_columns(&[], &[]).len(), 0);
        assert_eq!(PackedEdges::default().len(), 0);
    }
}
