//! One structured JSON line per request on stdout (the host prefixes it with the component
//! id). It carries what an operator needs and nothing sensitive: no headers, bodies or tokens.

use serde::Serialize;

/// The fields of a request log line.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestLog<'a> {
    pub ts: String,
    pub level: &'static str,
    pub request_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<&'a str>,
}

impl RequestLog<'_> {
    pub(crate) fn emit(&self) {
        if let Ok(line) = serde_json::to_string(self) {
            println!("{line}");
        }
    }
}
