//! The admin listener, separate from traffic: health, readiness, the active config, reload,
//! recording.
//!
//! | endpoint | answer |
//! | --- | --- |
//! | `GET /healthz` | 200 while the process serves |
//! | `GET /readyz` | 200 once the first snapshot is live (always, once started) |
//! | `GET /config` | the active generation, config file and digest, load time, plugins |
//! | `GET /metrics` | Prometheus text format (names in [`crate::metrics`]) |
//! | `POST /reload` | 200 with the new generation, or 400 with the same reasons as `wasmgate check` |
//! | `POST /record?route=ID&count=N` | 200: the next N requests of route ID are recorded (needs `[record]`) |
//! | `GET /record` | what `[record]` is doing: file, budget left, requests armed by route |
//!
//! When a token is configured (required for non-loopback addresses) every endpoint but the
//! health checks needs `Authorization: Bearer <token>`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::record::recorder::MAX_ARMED;
use crate::reload::{Reloaded, Reloader, Trigger};

/// Serves the admin API on `listener` until `shutdown` flips.
pub(crate) async fn serve(
    listener: TcpListener,
    reloader: Arc<Reloader>,
    token: Option<String>,
    mut shutdown: watch::Receiver<bool>,
) {
    let token: Option<Arc<str>> = token.map(Arc::from);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "admin accept failed");
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let reloader = reloader.clone();
        let token = token.clone();
        let service = service_fn(move |request| {
            let reloader = reloader.clone();
            let token = token.clone();
            async move { Ok::<_, Infallible>(route(request, &reloader, token.as_deref()).await) }
        });
        tokio::spawn(async move {
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn route(
    request: Request<Incoming>,
    reloader: &Reloader,
    token: Option<&str>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    let public = matches!(path, "/healthz" | "/readyz");
    if !public && !authorized(&request, token) {
        return json(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"error": "missing or wrong bearer token"}),
        );
    }
    match (request.method(), path) {
        (&Method::GET, "/healthz") => json(StatusCode::OK, serde_json::json!({"status": "ok"})),
        (&Method::GET, "/readyz") => {
            let generation = reloader.current().generation;
            json(
                StatusCode::OK,
                serde_json::json!({"ready": true, "generation": generation}),
            )
        }
        (&Method::GET, "/config") => json(StatusCode::OK, active_config(reloader)),
        (&Method::GET, "/metrics") => {
            for plugin in reloader.current().plugins.values() {
                plugin.publish_pool_gauges();
            }
            let mut response = Response::new(Full::new(Bytes::from(
                crate::metrics::prometheus().render(),
            )));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        (&Method::POST, "/reload") => reload(reloader).await,
        (&Method::GET, "/record") => recording_status(reloader),
        (&Method::POST, "/record") => arm_recording(reloader, request.uri().query()),
        (_, "/healthz" | "/readyz" | "/config" | "/metrics" | "/reload" | "/record") => json(
            StatusCode::METHOD_NOT_ALLOWED,
            serde_json::json!({"error": "method not allowed"}),
        ),
        _ => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": "not found"}),
        ),
    }
}

async fn reload(reloader: &Reloader) -> Response<Full<Bytes>> {
    match reloader.reload(Trigger::Admin, false).await {
        Ok(Reloaded::Swapped(generation) | Reloaded::Unchanged(generation)) => json(
            StatusCode::OK,
            serde_json::json!({"status": "reloaded", "generation": generation}),
        ),
        Err(errors) => {
            let list: Vec<_> = errors
                .0
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "file": e.file.display().to_string(),
                        "line": e.line,
                        "column": e.column,
                        "key": e.key,
                        "message": e.message,
                        "help": e.help,
                    })
                })
                .collect();
            json(
                StatusCode::BAD_REQUEST,
                serde_json::json!({
                    "status": "failed",
                    "generation": reloader.current().generation,
                    "errors": list,
                    "report": errors.to_string(),
                }),
            )
        }
    }
}

/// Without `[record]`, nothing can be recorded: where would it go, and with what redacted?
fn no_recorder() -> Response<Full<Bytes>> {
    json(
        StatusCode::CONFLICT,
        serde_json::json!({
            "error": "recording needs a `[record]` section with a `path` in the config \
                      (`sample_ratio = 0.0` records only the requests armed here)"
        }),
    )
}

fn recording_status(reloader: &Reloader) -> Response<Full<Bytes>> {
    match &reloader.current().recorder {
        Some(recorder) => json(StatusCode::OK, recorder.status()),
        None => no_recorder(),
    }
}

/// `POST /record?route=ID&count=N`: arms the next N (default 1) requests of route ID.
fn arm_recording(reloader: &Reloader, query: Option<&str>) -> Response<Full<Bytes>> {
    let snapshot = reloader.current();
    let Some(recorder) = &snapshot.recorder else {
        return no_recorder();
    };
    let mut route = None;
    let mut count = Some(1);
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*key {
            "route" => route = Some(value.into_owned()),
            "count" => count = value.parse().ok().filter(|n| (1..=MAX_ARMED).contains(n)),
            _ => {}
        }
    }
    let bad = |message: String| {
        json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({ "error": message }),
        )
    };
    let Some(count) = count else {
        return bad(format!("`count` is a number from 1 to {MAX_ARMED}"));
    };
    let routes: Vec<&str> = snapshot
        .config
        .routes
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    let Some(route) = route else {
        return bad("name the route: `?route=ID` (ids are in `GET /config`)".into());
    };
    if !routes.contains(&route.as_str()) {
        let body = serde_json::json!({ "error": format!("no route `{route}`"), "routes": routes });
        return json(StatusCode::NOT_FOUND, body);
    }
    let armed = recorder.arm(&route, count);
    json(
        StatusCode::OK,
        serde_json::json!({ "route": route, "armed": armed, "path": recorder.settings().path }),
    )
}

fn active_config(reloader: &Reloader) -> serde_json::Value {
    let snapshot = reloader.current();
    let loaded_at_ms = snapshot
        .loaded_at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let plugins: Vec<_> = snapshot
        .plugins
        .values()
        .map(|plugin| {
            let def = &snapshot.config.plugins[plugin.name()];
            serde_json::json!({
                "name": plugin.name(),
                "path": def.path.display().to_string(),
                "sha256": plugin.compiled().digest(),
            })
        })
        .collect();
    serde_json::json!({
        "generation": snapshot.generation,
        "source": snapshot.config.source.display().to_string(),
        "sha256": snapshot.config.source_digest,
        "loaded_at_unix_ms": loaded_at_ms,
        "routes": snapshot.config.routes.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        "stages": snapshot.config.stages.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "plugins": plugins,
    })
}

/// Whether the request carries the bearer token (compared in constant time).
fn authorized(request: &Request<Incoming>, token: Option<&str>) -> bool {
    let Some(token) = token else { return true };
    let Some(presented) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (presented.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn json(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}
