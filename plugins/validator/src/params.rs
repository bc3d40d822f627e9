//! Path, query and header parameter checks.

use wasmgate_plugin_sdk::Request;

use crate::config::{Location, Param, ParamType};
use crate::{Violation, pointer};

/// Every violation of `params` by `request`, in config order (path, query, headers).
pub(crate) fn check(params: &[Param], request: &Request<'_>) -> Vec<Violation> {
    let mut errors = Vec::new();
    for param in params {
        let location = pointer([param.location.pointer_segment(), param.name.as_str()]);
        let values: Vec<Option<String>> = match param.location {
            Location::Path => request
                .path_param(&param.name)
                .map(Some)
                .into_iter()
                .collect(),
            Location::Query => request
                .query_param(&param.name)
                .map(Some)
                .into_iter()
                .collect(),
            // Every value of a repeated header is checked; a non-UTF-8 value is `None`.
            Location::Header => request
                .header_values(&param.name)
                .into_iter()
                .map(|value| String::from_utf8(value).ok())
                .collect(),
        };
        if values.is_empty() {
            if param.required {
                errors.push(Violation::new(location, missing(param.location)));
            }
            continue;
        }
        for value in values {
            if let Some(message) = value_error(param, value.as_deref()) {
                errors.push(Violation::new(location.clone(), message));
            }
        }
    }
    errors
}

fn missing(location: Location) -> &'static str {
    match location {
        Location::Path => "missing required path parameter",
        Location::Query => "missing required query parameter",
        Location::Header => "missing required header",
    }
}

/// Why `value` breaks `param`, if it does.
fn value_error(param: &Param, value: Option<&str>) -> Option<String> {
    let Some(value) = value else {
        return Some("the value is not valid UTF-8".to_owned());
    };
    let well_typed = match param.kind {
        ParamType::String => true,
        ParamType::Integer => value.parse::<i64>().is_ok(),
        ParamType::Number => value.parse::<f64>().is_ok_and(f64::is_finite),
        ParamType::Boolean => matches!(value, "true" | "false"),
    };
    if !well_typed {
        let expected = match param.kind {
            ParamType::String => "a string",
            ParamType::Integer => "an integer",
            ParamType::Number => "a number",
            ParamType::Boolean => "`true` or `false`",
        };
        return Some(format!("{value:?} is not {expected}"));
    }
    match &param.pattern {
        Some(pattern) if !pattern.is_match(value) => {
            Some(format!("{value:?} does not match {:?}", pattern.as_str()))
        }
        _ => None,
    }
}
