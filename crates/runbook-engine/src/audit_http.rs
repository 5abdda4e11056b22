//! An HTTP endpoint as an audit sink: each record is POSTed as JSON, in order, by a background
//! thread, so a slow collector never holds up a step. Delivery failures are counted and reported
//! when the run ends; the file sink stays the record of truth.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use crate::audit::{AuditError, AuditSink};

/// How long one delivery may take.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// POSTs records to a URL.
pub struct HttpSink {
    sender: Option<Sender<Value>>,
    worker: Option<JoinHandle<Vec<String>>>,
}

impl HttpSink {
    /// Starts the delivery thread. `headers` are sent with every record (e.g. an Authorization
    /// header for the collector).
    pub fn start(url: String, headers: Vec<(String, String)>) -> Result<Self, AuditError> {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(AuditError::NotHttp {
                url: crate::http_client::url_for_messages(&url),
            });
        }
        for (number, (name, value)) in headers.iter().enumerate() {
            // Neither the name nor the value is echoed: a misplaced `:` can put a token in either.
            let number = number + 1;
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(AuditError::HeaderName { number });
            }
            if reqwest::header::HeaderValue::from_str(value).is_err() {
                return Err(AuditError::HeaderValue { number });
            }
        }
        let (sender, receiver) = channel();
        let worker = std::thread::Builder::new()
            .name("runbook-audit-http".into())
            .spawn(move || deliver(url, headers, receiver))
            .map_err(AuditError::Thread)?;
        Ok(HttpSink {
            sender: Some(sender),
            worker: Some(worker),
        })
    }

    /// Waits for every queued record to be delivered (or to fail) and returns the failures.
    pub fn finish(mut self) -> Vec<String> {
        self.close()
    }

    fn close(&mut self) -> Vec<String> {
        drop(self.sender.take());
        self.worker
            .take()
            .map(|worker| worker.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

impl AuditSink for HttpSink {
    fn write(&mut self, record: &Value, _sync: bool) -> Result<(), AuditError> {
        match &self.sender {
            Some(sender) => sender
                .send(record.clone())
                .map_err(|_| AuditError::CollectorStopped),
            None => Err(AuditError::CollectorClosed),
        }
    }

    fn finish(&mut self) -> Vec<String> {
        self.close()
    }
}

impl Drop for HttpSink {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

fn deliver(url: String, headers: Vec<(String, String)>, records: Receiver<Value>) -> Vec<String> {
    let mut failures = Vec::new();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return vec![format!("cannot start the audit delivery runtime: {error}")],
    };
    let clients = crate::http_client::HttpClients::default();
    for record in records {
        let result = runtime.block_on(async {
            let transport = crate::http_client::Transport::of_text(&url);
            let client = clients
                .get(false, transport)
                .map_err(|error| error.to_string())?;
            let mut request = client
                .post(&url)
                .timeout(POST_TIMEOUT)
                .header("content-type", "application/json")
                .body(record.to_string());
            for (name, value) in &headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let response = request.send().await.map_err(|error| {
                format!(
                    "POST {}: {}",
                    crate::http_client::url_for_messages(&url),
                    error.without_url()
                )
            })?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(format!("the collector answered {}", response.status()))
            }
        });
        if let Err(error) = result {
            let kind = record["type"].as_str().unwrap_or("record");
            failures.push(format!("{kind}: {error}"));
        }
    }
    failures
}
