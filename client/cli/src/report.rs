//! What a command did, as a typed value `main` renders once: text for a person, or JSON
//! (`--json`) for a program. A command that streams renders each typed event as it
//! happens instead (`job watch`'s `WatchEvent`, the provider worker's `ProviderEvent`), and
//! returns no report.

use std::fmt::Display;

use serde::Serialize;

/// A command's result: its fields serialize to the JSON form, `Display` is the text form.
pub trait Report: Display {
    fn to_json(&self) -> serde_json::Value;
}

impl<T: Serialize + Display> Report for T {
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }))
    }
}

/// What a command returns: a report to render, or nothing (it printed as it went).
pub type Outcome = anyhow::Result<Option<Box<dyn Report>>>;

/// The outcome of a command that printed as it went (no report).
pub fn printed(done: anyhow::Result<()>) -> Outcome {
    done.map(|()| None)
}

/// `report` boxed as an [`Outcome`].
pub fn report(report: impl Report + 'static) -> Outcome {
    Ok(Some(Box::new(report)))
}

/// Prints `report` once, as JSON or text.
pub fn render(report: &dyn Report, json: bool) {
    if json {
        println!("{}", report.to_json());
    } else {
        println!("{report}");
    }
}
