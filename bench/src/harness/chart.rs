//! The report's chart: a PNG with throughput (median bar, min–max whisker) and p50/p99 latency
//! per cell. Drawn with plotters' bitmap backend; text is rendered by ab_glyph from the DejaVu
//! Sans font embedded in the binary, so no system font library is involved.

use std::path::Path;

use anyhow::anyhow;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::summary::CellSummary;
use super::workload::Workload;

const FONT: &str = "sans-serif";
const SMALL_COLOUR: RGBColor = RGBColor(66, 133, 244);
const JSON_COLOUR: RGBColor = RGBColor(234, 134, 0);
const P50_COLOUR: RGBColor = RGBColor(120, 180, 120);
const P99_COLOUR: RGBColor = RGBColor(30, 110, 50);

/// Draws the chart for `cells` into `path` (PNG) under `title`.
pub fn draw(path: &Path, title: &str, cells: &[CellSummary]) -> anyhow::Result<()> {
    plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| anyhow!("the embedded DejaVu Sans font is unusable"))?;
    let root = BitMapBackend::new(path, (1400, 1000)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let (top, bottom) = root.split_vertically(500);
    throughput(&top, title, cells).map_err(plot_error)?;
    latency(&bottom, cells).map_err(plot_error)?;
    root.present().map_err(plot_error)?;
    Ok(())
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
type PlotResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn plot_error(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("drawing the chart: {error}")
}

/// `3·json` for cell index `x` when `x` is a whole index, else nothing.
fn cell_label(cells: &[CellSummary], x: f64) -> String {
    let index = x.round();
    if (x - index).abs() > 1e-6 || index < 0.0 || index as usize >= cells.len() {
        return String::new();
    }
    let cell = cells[index as usize].cell;
    format!("{}·{}", cell.scenario.number(), cell.workload.name())
}

fn throughput(area: &Area<'_>, title: &str, cells: &[CellSummary]) -> PlotResult {
    let top = cells.iter().map(|c| c.rps.max).fold(1.0, f64::max) * 1.15;
    let width = cells.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 24))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(-0.5..width - 0.5, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(cells.len() * 2 + 1)
        .x_label_formatter(&|x| cell_label(cells, *x))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .y_desc("requests/s (median, min–max)")
        .label_style((FONT, 15))
        .draw()?;
    for (workload, colour) in [
        (Workload::Small, SMALL_COLOUR),
        (Workload::Json, JSON_COLOUR),
    ] {
        let bars = cells
            .iter()
            .enumerate()
            .filter(|(_, c)| c.cell.workload == workload)
            .map(|(i, c)| {
                let x = i as f64;
                Rectangle::new([(x - 0.35, 0.0), (x + 0.35, c.rps.median)], colour.filled())
            });
        chart
            .draw_series(bars)?
            .label(format!("workload {}", workload.name()))
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], colour.filled()));
    }
    chart.draw_series(cells.iter().enumerate().map(|(i, c)| {
        let x = i as f64;
        PathElement::new(vec![(x, c.rps.min), (x, c.rps.max)], BLACK.stroke_width(2))
    }))?;
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}

fn latency(area: &Area<'_>, cells: &[CellSummary]) -> PlotResult {
    let top = cells.iter().map(|c| c.p99_us.median).fold(100.0, f64::max) * 2.0;
    let bottom = cells.iter().map(|c| c.p50_us.median).fold(top, f64::min) / 2.0;
    let width = cells.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(
            "latency, µs, log scale (median over rounds) — 1 direct · 2 nginx · 3 wasmgate · \
             4 + no-op · 5 + chain · 6 + reload · 7 https · 8 conn/req · 9 https conn/req",
            (FONT, 16),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(-0.5..width - 0.5, (bottom.max(1.0)..top).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(cells.len() * 2 + 1)
        .x_label_formatter(&|x| cell_label(cells, *x))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .y_desc("µs")
        .label_style((FONT, 15))
        .draw()?;
    for (name, colour, offset, value) in [
        (
            "p50",
            P50_COLOUR,
            -0.36,
            (|c: &CellSummary| c.p50_us.median) as fn(&_) -> f64,
        ),
        ("p99", P99_COLOUR, 0.02, |c: &CellSummary| c.p99_us.median),
    ] {
        let bars = cells.iter().enumerate().map(move |(i, c)| {
            let x = i as f64 + offset;
            Rectangle::new(
                [(x, bottom.max(1.0)), (x + 0.34, value(c))],
                colour.filled(),
            )
        });
        chart
            .draw_series(bars)?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    Ok(())
}
