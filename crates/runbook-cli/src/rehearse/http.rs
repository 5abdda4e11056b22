//! The rehearsal's HTTP transport: requests are answered by the simulated service of their host,
//! in process. Nothing is sent anywhere; a host without a service is an error, never a fallback
//! to the network.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use runbook_dsl::rehearsal::escapes::host_of;
use runbook_dsl::rehearsal::{FaultKind, Rehearsal, Response, Route};
use runbook_engine::clock::BoxFuture;
use runbook_engine::transport::{HttpRequest, HttpResponse, HttpTransport, TransportError};

use super::clock::VirtualClock;
use super::world::{Answer, SharedWorld, World, lock};

pub struct SimTransport {
    pub rehearsal: Arc<Rehearsal>,
    pub world: SharedWorld,
    pub clock: Arc<VirtualClock>,
}

impl HttpTransport for SimTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            if lock(&self.world).killed {
                // The process is gone: nothing more happens, ever.
                return std::future::pending().await;
            }
            let answer = self.answer(&request);
            tokio::task::yield_now().await;
            answer
        })
    }
}

impl SimTransport {
    fn answer(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let host = host_of(request.url.as_str()).unwrap_or_default();
        let mut world = lock(&self.world);
        let Some(service) = self.rehearsal.service(&host) else {
            let step = world.step.clone().unwrap_or_default();
            world.problems.push(format!(
                "step `{step}` called `{host}`, which the rehearsal does not simulate"
            ));
            return Err(TransportError::NotSimulated { host });
        };
        let (step, call, fault) = world.next_call();
        let step = step.unwrap_or_default();
        if let Some(fault) = &fault {
            match &fault.kind {
                FaultKind::Timeout => {
                    self.clock.advance(request.timeout);
                    return Err(TransportError::Timeout {
                        limit: request.timeout,
                    });
                }
                FaultKind::NeverConverges if call > 1 => {
                    if let Some(Answer::Http {
                        status,
                        headers,
                        body,
                    }) = world.first_answers.get(&step).cloned()
                    {
                        return Ok(HttpResponse {
                            status,
                            headers,
                            body,
                        });
                    }
                }
                FaultKind::NeverConverges | FaultKind::Http { .. } | FaultKind::Command { .. } => {}
            }
        }
        let document = request_document(request);
        let found = service.routes.iter().enumerate().find(|(_, route)| {
            route.method.is_none_or(|method| method == request.method)
                && route.path.matches(request.url.path()).is_some()
                && matches(&world, route, request, &document)
        });
        let (mut response, latency) = match found {
            Some((index, route)) => {
                let document = with_params(&document, route, request);
                let counter = world.route_calls.entry((host.clone(), index)).or_insert(0);
                let nth = *counter as usize;
                *counter += 1;
                let shape = match route.sequence.len() {
                    0 => &route.response,
                    len => &route.sequence[nth.min(len - 1)],
                };
                let response = respond(&world, shape, &document);
                if let Err(problem) = world.apply(&route.set, &document) {
                    world
                        .problems
                        .push(format!("route `{}` of `{host}`: {problem}", route.name));
                }
                (response, route.latency)
            }
            None => {
                let message = format!(
                    "no route of `{host}` matches {} {}",
                    request.method.as_str(),
                    request.url.path()
                );
                world.problems.push(format!("step `{step}`: {message}"));
                let body = serde_json::json!({ "rehearsal": message }).to_string();
                (
                    Ok(HttpResponse {
                        status: 404,
                        headers: vec![("content-type".into(), "application/json".into())],
                        body: body.into_bytes(),
                    }),
                    Duration::ZERO,
                )
            }
        };
        let mut latency = latency;
        if let (Some(fault), Ok(answer)) = (&fault, &mut response)
            && let FaultKind::Http {
                status,
                headers,
                body,
                latency: extra,
            } = &fault.kind
        {
            latency += *extra;
            if let Some(status) = status {
                answer.status = *status;
            }
            let scope = world.scope(&document);
            for (name, value) in headers {
                let value = scope.eval(value).map(|v| super::world::as_text(&v));
                if let Ok(value) = value {
                    answer.headers.retain(|(existing, _)| existing != name);
                    answer.headers.push((name.clone(), value));
                }
            }
            if let Some(body) = body
                && let Ok(value) = scope.eval(body)
            {
                answer.body = body_bytes(&value);
            }
        }
        if latency > request.timeout {
            self.clock.advance(request.timeout);
            return Err(TransportError::Timeout {
                limit: request.timeout,
            });
        }
        self.clock.advance(latency);
        let response = response.map_err(|problem| {
            world.problems.push(problem.clone());
            TransportError::Failed {
                cause: format!("the rehearsal could not answer: {problem}"),
            }
        })?;
        world
            .first_answers
            .entry(step.clone())
            .or_insert(Answer::Http {
                status: response.status,
                headers: response.headers.clone(),
                body: response.body.clone(),
            });
        world.log.push(serde_json::json!({
            "step": step,
            "request": format!("{} {}{}", request.method.as_str(), host, request.url.path()),
            "status": response.status,
        }));
        Ok(response)
    }
}

fn matches(world: &World, route: &Route, request: &HttpRequest, document: &Value) -> bool {
    let document = with_params(document, route, request);
    world.scope(&document).holds(&route.when).unwrap_or(false)
}

fn with_params(document: &Value, route: &Route, request: &HttpRequest) -> Value {
    let mut document = document.clone();
    if let (Some(params), Value::Object(fields)) =
        (route.path.matches(request.url.path()), &mut document)
    {
        fields.insert("params".into(), Value::Object(params));
    }
    document
}

fn respond(world: &World, shape: &Response, document: &Value) -> Result<HttpResponse, String> {
    let scope = world.scope(document);
    let mut headers = Vec::new();
    for (name, value) in &shape.headers {
        headers.push((name.clone(), super::world::as_text(&scope.eval(value)?)));
    }
    let body = match &shape.body {
        Some(body) => {
            let value = scope.eval(body)?;
            if !value.is_string() && !headers.iter().any(|(name, _)| name == "content-type") {
                headers.push(("content-type".into(), "application/json".into()));
            }
            body_bytes(&value)
        }
        None => Vec::new(),
    };
    Ok(HttpResponse {
        status: shape.status,
        headers,
        body,
    })
}

fn body_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::String(text) => text.clone().into_bytes(),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => {
            value.to_string().into_bytes()
        }
    }
}

/// What routes read as `request`: method, path, query, headers (lowercase), body (JSON when it
/// is JSON).
fn request_document(request: &HttpRequest) -> Value {
    let mut query = Map::new();
    for (name, value) in request.url.query_pairs() {
        query.insert(name.into_owned(), Value::String(value.into_owned()));
    }
    let mut headers = Map::new();
    for (name, value) in &request.headers {
        headers.insert(name.to_ascii_lowercase(), Value::String(value.clone()));
    }
    let body = match &request.body {
        Some(bytes) => serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
        None => Value::Null,
    };
    serde_json::json!({
        "method": request.method.as_str(),
        "path": request.url.path(),
        "query": query,
        "headers": headers,
        "body": body,
        "params": {},
    })
}
