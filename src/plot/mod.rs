//! Plots of result folders (plotters, PNG and SVG) for `reload-sim plot` and `reload-sim run`.
//! `report.html` is written by [`crate::html`], which builds on this module; this module
//! does not depend on it.
//!
//! - [`data`]: the CSV and JSON files of a run folder, read row by row into what the
//!   plots need.
//! - [`histogram`]: counts of a column's values for CDFs and quantiles, bounded in size.
//! - [`sweep_data`]: `sweep.json` and `aggregate.csv` of a sweep folder.
//! - [`run`]: the plots of one run ([`draw_run`]).
//! - [`sweep`]: the plots of a sweep ([`draw_sweep`]).
//! - [`figure`]: a figure as data, drawn with plotters as SVG text or PNG bytes.
//! - [`stats`]: quantiles of a few values and least-squares fits.
//! - [`style`]: the embedded font, colours, sizes, and writing a figure as PNG and SVG.
//!
//! Every plot is written into `<dir>/plots/` twice, as `<name>.png` and `<name>.svg`. The
//! bytes depend only on the input files: no timestamps, no hash-order iteration.

use std::path::{Path, PathBuf};

pub mod data;
pub mod figure;
pub mod histogram;
pub mod run;
pub mod stats;
pub mod style;
pub mod sweep;
pub mod sweep_data;

pub use run::draw_run;
pub use sweep::draw_sweep;

/// The folder under a run or sweep folder that receives the plots.
pub const PLOTS_DIR: &str = "plots";

/// Why plots or a report could not be made. Every variant names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file that must be there is not.
    #[error("{}: missing ({what})", path.display())]
    Missing {
        /// The file expected.
        path: PathBuf,
        /// What it is needed for.
        what: &'static str,
    },
    /// An input file does not have the expected form.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Malformed {
        /// The input file.
        path: PathBuf,
        /// 1-based line of the problem, when known.
        line: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// The folder holds neither `sweep.json` nor `summary.json`.
    #[error(
        "{}: not a result folder (no sweep.json or summary.json)",
        path.display()
    )]
    NotAResultFolder {
        /// The folder given.
        path: PathBuf,
    },
    /// The embedded font could not be loaded.
    #[error("the embedded font {0} is not a usable TrueType font")]
    Font(&'static str),
    /// plotters failed to draw or encode a figure.
    #[error("{}: drawing failed: {message}", path.display())]
    Draw {
        /// The output file.
        path: PathBuf,
        /// plotters' error.
        message: String,
    },
}

impl PlotError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        PlotError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn malformed(path: &Path, line: Option<u64>, message: impl Into<String>) -> Self {
        PlotError::Malformed {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

/// What kind of result folder `dir` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolderKind {
    /// A sweep: holds `sweep.json`.
    Sweep,
    /// One run: holds `summary.json`.
    Run,
}

/// Tells a sweep folder (`sweep.json`) from a run folder (`summary.json`); a folder with
/// both is a sweep.
pub fn folder_kind(dir: &Path) -> Result<FolderKind, PlotError> {
    if dir.join(sweep_data::SWEEP_JSON).is_file() {
        Ok(FolderKind::Sweep)
    } else if dir.join(data::SUMMARY_JSON).is_file() {
        Ok(FolderKind::Run)
    } else {
        Err(PlotError::NotAResultFolder {
            path: dir.to_path_buf(),
        })
    }
}
