//! What the `metrics` capability accepts, the same in the gateway and the SDK's fake host: metric
//! and label names, how many labels and label sets, and that a metric keeps its kind.

/// The kind of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// A monotonically increasing count.
    Counter,
    /// A distribution of observations.
    Histogram,
    /// A value that goes up and down.
    Gauge,
}

/// The most label sets (series) one plugin may create.
pub const MAX_SERIES_PER_PLUGIN: usize = 1000;
/// The most labels on one series.
pub const MAX_LABELS: usize = 8;
/// The longest label value, in bytes.
pub const MAX_LABEL_VALUE_BYTES: usize = 128;

/// Whether `name` is a valid metric or label name: `[a-z_][a-z0-9_]*`, at most 64 bytes.
pub fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= 64
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks a series a plugin is about to create: its name, its labels, and that the plugin has
/// fewer than [`MAX_SERIES_PER_PLUGIN`] (`existing`) already.
pub fn check_new_series<K: AsRef<str>, V: AsRef<str>>(
    name: &str,
    labels: &[(K, V)],
    existing: usize,
) -> Result<(), String> {
    if !is_valid_name(name) {
        return Err(format!(
            "invalid metric name `{name}`: use [a-z_][a-z0-9_]*, at most 64 bytes"
        ));
    }
    if labels.len() > MAX_LABELS {
        return Err(format!("more than {MAX_LABELS} labels"));
    }
    for (label, value) in labels {
        let label = label.as_ref();
        if !is_valid_name(label) {
            return Err(format!("invalid label name `{label}`"));
        }
        if value.as_ref().len() > MAX_LABEL_VALUE_BYTES {
            return Err(format!(
                "label `{label}` is longer than {MAX_LABEL_VALUE_BYTES} bytes"
            ));
        }
    }
    if existing >= MAX_SERIES_PER_PLUGIN {
        return Err(format!(
            "more than {MAX_SERIES_PER_PLUGIN} label sets: keep label values bounded"
        ));
    }
    Ok(())
}

/// The refusal of a call recording metric `name` as `wanted` when it is a `kind`.
pub fn kind_mismatch(name: &str, kind: MetricKind, wanted: MetricKind) -> String {
    format!("metric `{name}` is a {kind:?}, not a {wanted:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_labels_and_counts_are_bounded() {
        let none: &[(&str, &str)] = &[];
        assert!(check_new_series("hits_total", none, 0).is_ok());
        assert!(check_new_series("Hits", none, 0).is_err());
        assert!(check_new_series(&"a".repeat(65), none, 0).is_err());
        assert!(check_new_series("hits", &[("Bad", "v")], 0).is_err());
        let long = "x".repeat(MAX_LABEL_VALUE_BYTES + 1);
        assert_eq!(
            check_new_series("hits", &[("v", long.as_str())], 0),
            Err("label `v` is longer than 128 bytes".into())
        );
        let nine: Vec<(String, &str)> = (0..9).map(|i| (format!("l{i}"), "v")).collect();
        assert!(check_new_series("hits", &nine, 0).is_err());
        assert!(check_new_series("hits", none, MAX_SERIES_PER_PLUGIN).is_err());
    }
}
