//! One file per subcommand, each a short orchestration of the modules.

pub mod consistent;
pub mod count;
pub mod docs;
pub mod dump;
pub mod explain;
pub mod export;
pub mod import;
pub mod incremental;
pub mod parallel;
pub mod plan;
pub mod prepare;
pub mod read;
pub mod restore;
pub mod snapshot;
pub mod step;
