//! The six scenarios, the (scenario, workload) cells that are measured, and the ratios the
//! report prints.

use super::workload::Workload;

/// One way of reaching the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// 1: straight to the backend — the ceiling.
    Direct,
    /// 2: nginx `proxy_pass` with upstream keep-alive.
    Nginx,
    /// 3: wasmgate, no plugins.
    Gateway,
    /// 4: wasmgate, the no-op plugin at every stage.
    Noop,
    /// 5: wasmgate, the realistic chain (WAF, JWT authorizer, rate limiter, validator, mapper).
    Chain,
    /// 6: scenario 3 while the config file is rewritten every 100 ms.
    Reload,
}

impl Scenario {
    /// All scenarios, in report order.
    pub const ALL: [Scenario; 6] = [
        Scenario::Direct,
        Scenario::Nginx,
        Scenario::Gateway,
        Scenario::Noop,
        Scenario::Chain,
        Scenario::Reload,
    ];

    /// Its number in the issue and the report (1 to 6).
    pub fn number(self) -> usize {
        Scenario::ALL
            .iter()
            .position(|s| *s == self)
            .map_or(0, |i| i + 1)
    }

    /// A short title.
    pub fn title(self) -> &'static str {
        match self {
            Scenario::Direct => "direct to the backend",
            Scenario::Nginx => "nginx proxy_pass",
            Scenario::Gateway => "wasmgate, no plugins",
            Scenario::Noop => "wasmgate, no-op plugin at every stage",
            Scenario::Chain => "wasmgate, realistic chain",
            Scenario::Reload => "wasmgate, no plugins, reload every 100 ms",
        }
    }

    /// The workloads it is measured with: the realistic chain validates a JSON body, so it
    /// runs `json` only; every other scenario runs both.
    pub fn workloads(self) -> &'static [Workload] {
        match self {
            Scenario::Chain => &[Workload::Json],
            _ => &[Workload::Small, Workload::Json],
        }
    }

    /// Whether a proxy process sits between wrk and the backend (its CPU is measured).
    pub fn has_proxy(self) -> bool {
        self != Scenario::Direct
    }
}

/// One measured combination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    /// The scenario.
    pub scenario: Scenario,
    /// The request sent.
    pub workload: Workload,
}

impl Cell {
    /// `3/json`-style label.
    pub fn label(self) -> String {
        format!("{}/{}", self.scenario.number(), self.workload.name())
    }
}

/// The cells for `scenarios`, grouped by workload (all `small` cells first).
pub fn cells(scenarios: &[Scenario]) -> Vec<Cell> {
    let mut cells: Vec<Cell> = scenarios
        .iter()
        .flat_map(|&scenario| {
            scenario
                .workloads()
                .iter()
                .map(move |&workload| Cell { scenario, workload })
        })
        .collect();
    cells.sort_by_key(|c| (c.workload, c.scenario));
    cells
}

/// The ratios the report prints: numerator over denominator scenario, per workload both run.
pub const RATIOS: [(Scenario, Scenario); 5] = [
    (Scenario::Gateway, Scenario::Direct),
    (Scenario::Gateway, Scenario::Nginx),
    (Scenario::Noop, Scenario::Gateway),
    (Scenario::Chain, Scenario::Gateway),
    (Scenario::Reload, Scenario::Gateway),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_runs_json_only_and_everything_else_both() {
        let cells = cells(&Scenario::ALL);
        assert_eq!(cells.len(), 11);
        assert!(!cells.contains(&Cell {
            scenario: Scenario::Chain,
            workload: Workload::Small
        }));
        assert_eq!(cells[0].label(), "1/small");
    }
}
