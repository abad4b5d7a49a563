//! Chromium 156's scope tables (`scopes`, `scope_context_vars`, `scope_uses`; workerd too): for
//! every script, its scopes in source order (a `depth` gives the nesting), the variables each
//! scope keeps in its Context, and which variables (of which enclosing scope) each scope
//! uses. DevTools' context analysis (`ContextAnalyzer.ts`) reads them to tell which fields of
//! a Context no live function can use; `analysis::contexts` does the same.

/// One scope of `scopes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope {
    /// The Script node (ordinal) the scope is in.
    pub script: u32,
    /// V8's scope id, unique within its script (negative ids exist: the script scope's).
    pub scope_id: i64,
    /// Position of the enclosing scope in [`Scopes::scopes`] ([`NO_SCOPE`] for a script's
    /// outermost ones).
    pub parent: u32,
    /// This scope's variables: `var_names[vars.0..vars.1]`, in Context slot order.
    pub vars: (u32, u32),
    /// This scope's uses: `uses[uses.0..uses.1]`.
    pub uses: (u32, u32),
}

pub const NO_SCOPE: u32 = u32::MAX;

/// The scope tables of a snapshot, validated; empty for files without them.
#[derive(Debug, Default)]
pub struct Scopes {
    pub scopes: Vec<Scope>,
    /// String table index of each Context variable's name.
    pub var_names: Vec<u32>,
    /// `(declaring scope id, slot index)` of each use.
    pub uses: Vec<(i64, u32)>,
}

impl Scopes {
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }

    pub fn heap_bytes(&self) -> usize {
        self.scopes.capacity() * std::mem::size_of::<Scope>()
            + self.var_names.capacity() * 4
            + self.uses.capacity() * 16
    }
}
