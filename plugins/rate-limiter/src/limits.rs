//! The validated limits and the choice of the one that applies: method, else route, else the
//! default — the most specific wins, as with AWS API Gateway's stage and method throttling.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use wasmgate_plugin_sdk::rate_limit::{Bucket, algorithm};
use wasmgate_plugin_sdk::{InitError, header};

use crate::config::{LimitConfig, RouteConfig};
use wasmgate_plugin_sdk::rate_limit::parse_period;

/// One limit: its bucket, and the scope that keeps its buckets apart from other limits'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Limit {
    /// `default`, `route:<id>` or `route:<id>:<METHOD>`: the first part of the bucket keys.
    pub(crate) scope: String,
    /// `burst` at once, then `rate` per period.
    pub(crate) bucket: Bucket,
}

/// Every configured limit.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    global: Option<Limit>,
    routes: HashMap<String, RouteLimits>,
}

#[derive(Debug, Default)]
struct RouteLimits {
    own: Option<Limit>,
    /// By upper-case method.
    methods: HashMap<String, Limit>,
}

impl Limits {
    /// Validates the `default` and `routes` tables; at least one limit is needed.
    pub(crate) fn new(
        global: Option<LimitConfig>,
        routes: BTreeMap<String, RouteConfig>,
    ) -> Result<Limits, InitError> {
        let global = global
            .map(|config| limit("default", "default".into(), &config))
            .transpose()?;
        if global.is_none() && routes.is_empty() {
            return Err(InitError::invalid_config(
                "",
                "no limit: set `default = { rate = 100 }` and/or limits under `routes`",
            ));
        }
        let routes = routes
            .into_iter()
            .map(|(id, config)| route(&id, config).map(|limits| (id, limits)))
            .collect::<Result<_, _>>()?;
        Ok(Limits { global, routes })
    }

    /// The limit for a request on `route` (none when no route matched); `method` is only
    /// asked for when the route has method limits.
    pub(crate) fn select(
        &self,
        route: Option<&str>,
        method: impl FnOnce() -> String,
    ) -> Option<&Limit> {
        let Some(limits) = route.and_then(|route| self.routes.get(route)) else {
            return self.global.as_ref();
        };
        let by_method = (!limits.methods.is_empty())
            .then(method)
            .and_then(|method| limits.methods.get(&method));
        by_method.or(limits.own.as_ref()).or(self.global.as_ref())
    }
}

fn route(id: &str, config: RouteConfig) -> Result<RouteLimits, InitError> {
    let path = format!("routes.{id}");
    if id.is_empty() {
        return Err(InitError::invalid_config("routes", "a route id is empty"));
    }
    let own = match config.rate {
        Some(rate) => {
            let own = LimitConfig {
                rate,
                burst: config.burst,
                period: config.period,
            };
            Some(limit(&path, format!("route:{id}"), &own)?)
        }
        None if config.burst.is_some() || config.period.is_some() => {
            return Err(InitError::invalid_config(
                &format!("{path}.rate"),
                "missing: `burst` and `period` need a `rate`",
            ));
        }
        None if config.methods.is_empty() => {
            return Err(InitError::invalid_config(
                &path,
                "no limit: set `rate` and/or `methods`",
            ));
        }
        None => None,
    };
    let mut methods = HashMap::new();
    for (method, config) in &config.methods {
        let method_path = format!("{path}.methods.{method}");
        if !header::is_valid_name(method) {
            return Err(InitError::invalid_config(
                &method_path,
                "not an HTTP method (a token such as `POST`)",
            ));
        }
        let upper = method.to_ascii_uppercase();
        let limit = limit(&method_path, format!("route:{id}:{upper}"), config)?;
        if methods.insert(upper, limit).is_some() {
            return Err(InitError::invalid_config(
                &method_path,
                "the same method is listed twice (methods are case-insensitive)",
            ));
        }
    }
    Ok(RouteLimits { own, methods })
}

fn limit(path: &str, scope: String, config: &LimitConfig) -> Result<Limit, InitError> {
    for (field, value) in [("rate", Some(config.rate)), ("burst", config.burst)] {
        if value == Some(0) {
            return Err(InitError::invalid_config(
                &format!("{path}.{field}"),
                "must be at least 1",
            ));
        }
    }
    let period = match &config.period {
        Some(period) => parse_period(period)
            .map_err(|err| InitError::invalid_config(&format!("{path}.period"), err))?,
        None => Duration::from_secs(1),
    };
    let bucket = Bucket {
        rate: config.rate,
        period,
        burst: config.burst.unwrap_or(config.rate),
    };
    algorithm::validate_bucket(&bucket).map_err(|err| InitError::invalid_config(path, err))?;
    if u128::from(bucket.rate) > period.as_micros() {
        return Err(InitError::invalid_config(
            &format!("{path}.rate"),
            "more than one request per microsecond: use a longer period or a lower rate",
        ));
    }
    Ok(Limit { scope, bucket })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit_config(rate: u32) -> LimitConfig {
        LimitConfig {
            rate,
            burst: None,
            period: None,
        }
    }

    fn limits() -> Limits {
        let routes = BTreeMap::from([
            (
                "orders".to_owned(),
                RouteConfig {
                    rate: Some(10),
                    burst: None,
                    period: None,
                    methods: BTreeMap::from([("post".to_owned(), limit_config(2))]),
                },
            ),
            (
                "search".to_owned(),
                RouteConfig {
                    rate: None,
                    burst: None,
                    period: None,
                    methods: BTreeMap::from([("GET".to_owned(), limit_config(5))]),
                },
            ),
        ]);
        Limits::new(Some(limit_config(100)), routes).unwrap()
    }

    fn scope(limits: &Limits, route: Option<&str>, method: &str) -> Option<String> {
        limits
            .select(route, || method.to_owned())
            .map(|limit| limit.scope.clone())
    }

    #[test]
    fn the_most_specific_limit_wins() {
        let limits = limits();
        let scope = |route, method| scope(&limits, route, method);
        assert_eq!(
            scope(Some("orders"), "POST").as_deref(),
            Some("route:orders:POST")
        );
        assert_eq!(
            scope(Some("orders"), "GET").as_deref(),
            Some("route:orders")
        );
        assert_eq!(
            scope(Some("search"), "GET").as_deref(),
            Some("route:search:GET")
        );
        // A route with method limits only: other methods fall back to the default.
        assert_eq!(scope(Some("search"), "HEAD").as_deref(), Some("default"));
        assert_eq!(scope(Some("other"), "GET").as_deref(), Some("default"));
        assert_eq!(scope(None, "GET").as_deref(), Some("default"));
    }

    #[test]
    fn the_method_is_read_only_for_routes_with_method_limits() {
        let limits = limits();
        let limit = limits.select(Some("other"), || panic!("method read"));
        assert_eq!(limit.map(|limit| limit.bucket.rate), Some(100));
    }

    #[test]
    fn without_a_default_unlisted_routes_are_not_limited() {
        let routes = BTreeMap::from([(
            "orders".to_owned(),
            RouteConfig {
                rate: Some(1),
                burst: Some(3),
                period: Some("1m".into()),
                methods: BTreeMap::new(),
            },
        )]);
        let limits = Limits::new(None, routes).unwrap();
        assert_eq!(limits.select(Some("other"), String::new), None);
        let orders = limits.select(Some("orders"), String::new).unwrap();
        assert_eq!(orders.bucket.period, Duration::from_secs(60));
        assert_eq!(orders.bucket.burst, 3);
    }
}
