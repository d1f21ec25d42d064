pub mod config;
pub mod operator;
pub mod registry;

pub use config::*;
pub use operator::*;
pub use registry::*;
