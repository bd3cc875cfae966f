//! The library's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the hamsim library.
///
/// Each message names the offending value, the allowed range and, where there is one, the fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system file could not be read, parsed or validated.
    #[error("invalid system file {}: {message}", path.display())]
    SystemFile {
        /// The TOML file.
        path: PathBuf,
        /// The problem, naming the key, the value and the allowed range.
        message: String,
    },

    /// A command-line option or library argument is out of range.
    #[error("invalid {name}: {message}")]
    InvalidArgument {
        /// The option, for example `--count`.
        name: String,
        /// The problem and its fix.
        message: String,
    },

    /// A dataset file could not be read, or its contents are inconsistent.
    #[error("invalid dataset {}: {message}", path.display())]
    Dataset {
        /// The dataset file.
        path: PathBuf,
        /// The problem with the file.
        message: String,
    },

    /// The ODE solver failed on one system.
    #[error("integration of system {index} failed: {message}")]
    Integration {
        /// Index of the system in the dataset.
        index: usize,
        /// The solver's message.
        message: String,
    },

    /// An I/O operation failed; the cause is the `source`, printed after the context by
    /// `anyhow`'s alternate format.
    #[error("{context}")]
    Io {
        /// The failed operation, with its path.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Builds an [`Error::InvalidArgument`].
    pub fn invalid(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            name: name.into(),
            message: message.into(),
        }
    }

    /// Builds an [`Error::Io`] from a context string and an I/O error.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
