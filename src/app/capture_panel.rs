//! File ▸ Capture…: the capture panel's state, what the user asks of it ([`CaptureCommand`]) and
//! what it remembers ([`CaptureSettings`]). [`super::capture_view`] draws it,
//! [`super::capture_handle`] applies its commands, and every exchange with the target runs on a
//! task ([`super::capture_tasks`]).

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::capture::{SavedSnapshot, Target};

use super::capture_chart::Mark;
use super::capture_link::{Feed, Link};
use super::capture_tasks::CaptureTask;

/// The inspector address the panel starts with: Node's default for `--inspect`.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:9229";

/// How the panel reaches a heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SourceMode {
    /// A process already listening with the inspector (`heapdiff capture --inspect`).
    #[default]
    Inspect,
    /// A command heapdiff starts with the inspector on (`heapdiff capture -- COMMAND`).
    Command,
}

/// What the panel remembers between runs (in [`super::settings::Settings`]). "Allow remote" is
/// not among them: reaching another machine is chosen afresh each time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaptureSettings {
    pub mode: SourceMode,
    pub address: String,
    pub command: String,
    pub ready: String,
    pub load: String,
    pub folder: Option<PathBuf>,
}

impl Default for CaptureSettings {
    fn default() -> CaptureSettings {
        CaptureSettings {
            mode: SourceMode::Inspect,
            address: DEFAULT_ADDRESS.to_string(),
            command: String::new(),
            ready: String::new(),
            load: String::new(),
            folder: None,
        }
    }
}

/// What the user asks of the capture panel.
#[derive(Clone, Debug, PartialEq)]
pub enum CaptureCommand {
    /// File ▸ Capture…
    Open,
    /// Close the panel: the capture is let go of and a started process stopped.
    Close,
    SetMode(SourceMode),
    SetAddress(String),
    SetCommand(String),
    SetReady(String),
    SetLoad(String),
    SetAllowRemote(bool),
    /// List the targets at the address (on a task).
    FindTargets,
    /// Take this target (by id) when connecting.
    ChooseTarget(String),
    /// Attach (starting the command first in command mode).
    Connect,
    /// Let go of the target (stopping a started process); the chart stays.
    Disconnect,
    /// The native folder dialog.
    ChooseFolder,
    SetFolder(PathBuf),
    SnapshotBefore,
    RunLoad,
    CollectGarbage,
    SnapshotAfter,
    /// Cancel the running step (or the listing, or the attach).
    Cancel,
}

/// The targets found at the address.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Targets {
    #[default]
    Unknown,
    Listed {
        address: String,
        targets: Vec<Target>,
    },
    Failed(String),
}

/// The target attached to, and the process heapdiff started for it.
#[derive(Clone, Debug, PartialEq)]
pub struct AttachedTo {
    pub target: Target,
    /// Its label (the command in backquotes) and pid.
    pub process: Option<(String, u32)>,
}

/// One before/after pair: its folder and what has been saved into it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Round {
    pub dir: Option<PathBuf>,
    pub before: Option<SavedSnapshot>,
    pub after: Option<SavedSnapshot>,
}

/// The panel's runtime state (never persisted).
pub struct CapturePanel {
    pub allow_remote: bool,
    pub targets: Targets,
    pub chosen: Option<String>,
    /// The target being attached to or attached; shared with its tasks.
    pub link: Option<Arc<Link>>,
    pub attached: Option<AttachedTo>,
    pub feed: Feed,
    pub marks: Vec<Mark>,
    pub round: Round,
    /// The last failure, in red until the next success.
    pub error: Option<String>,
    /// The last thing that went well.
    pub note: Option<String>,
    /// Why the heap chart stopped, if it did.
    pub heap_error: Option<String>,
    pub(super) next_link: u64,
    /// Where the screenshot view's scripted capture is (see `capture_script`).
    pub(super) script: u8,
    pub(super) script_at: f64,
}

impl Default for CapturePanel {
    fn default() -> CapturePanel {
        CapturePanel {
            allow_remote: false,
            targets: Targets::Unknown,
            chosen: None,
            link: None,
            attached: None,
            feed: Feed::new(),
            marks: Vec::new(),
            round: Round::default(),
            error: None,
            note: None,
            heap_error: None,
            next_link: 1,
            script: 0,
            script_at: 0.0,
        }
    }
}

impl Drop for CapturePanel {
    /// The window is going away with the panel open (closing the panel hands the link to a
    /// task instead): the started process is stopped here, since worker threads end with the
    /// window's process.
    fn drop(&mut self) {
        if let Some(link) = self.link.take() {
            link.close_at_exit();
        }
    }
}

/// The steps that use the session or the target's time, one at a time.
pub const STEPS: [CaptureTask; 3] = [CaptureTask::Snapshot, CaptureTask::Load, CaptureTask::Gc];
