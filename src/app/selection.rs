//! What the user has selected: a class (its objects, its merged paths) and an object (its
//! retainer tree). Views read it; [`super::HeapdiffApp::handle_command`] changes it and starts
//! the tasks that fill it.

use crate::pipeline::Side;

use super::model::ObjectList;
use super::paths_view::MergedPaths;
use super::retainer_tree::{RetainerTree, TreePane};
use super::source::SourceSnippet;

#[derive(Default)]
pub struct Selection {
    /// The selected class key.
    pub class: Option<String>,
    pub instances: Instances,
    pub object: Option<(Side, u32)>,
    pub tree: TreePane,
    /// Merged retainer paths of the selected Comparison row's new objects.
    pub merged: Option<MergedPaths>,
    /// The selected leak group (an index into the open comparison's leaks).
    pub leak: Option<usize>,
    /// The selected leak group's objects (its entries).
    pub leak_objects: Instances,
    /// The source lines of the selected class, closure or leak entry, when the snapshot holds
    /// the script's source.
    pub source: Option<SourceSnippet>,
}

impl Selection {
    /// The selected object's retainer tree, once built.
    pub fn tree(&self) -> Option<&RetainerTree> {
        self.tree.tree()
    }
}

/// The objects of the selected class.
#[derive(Default)]
pub struct Instances {
    pub class_key: String,
    /// New objects in a Comparison (after snapshot), all objects in a Summary.
    pub new: ObjectList,
    /// Deleted objects in a Comparison (before snapshot).
    pub deleted: ObjectList,
}

impl Instances {
    pub fn len(&self) -> usize {
        self.new.len() + self.deleted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many of the rows are new (listed first).
    pub fn new_count(&self) -> usize {
        self.new.len()
    }

    /// Row `i`: new objects first, then deleted ones.
    pub fn get(&self, i: usize) -> Option<(Side, u32)> {
        if i < self.new.len() {
            self.new.get(i)
        } else {
            self.deleted.get(i - self.new.len())
        }
    }
}
