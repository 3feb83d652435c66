//! A figure as data (title, axis labels, bars or x/y series) and its drawing with plotters
//! into an SVG string or a PNG file. Run and sweep plots build [`Figure`]s; this module is
//! the only one that talks to plotters' chart API.

use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::chart::SeriesAnno;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::element::{Drawable, DynElement, PointCollection};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{BackendCoord, DrawingErrorKind};

use super::PlotError;
use super::style::{self, FAMILY, GRID, INK, LABEL_PX, SIZE, TICK_PX, TITLE_PX};

/// A figure, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// File stem: the figure is written as `<name>.png` and `<name>.svg`.
    pub name: String,
    /// Title above the plot.
    pub title: String,
    /// x axis label, with its unit.
    pub x_label: String,
    /// y axis label, with its unit.
    pub y_label: String,
    /// What is drawn.
    pub body: Body,
}

/// The content of a figure.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// Counts per integer category (a bar chart).
    Bars(Bars),
    /// Lines, markers and error bars on numeric axes.
    Xy(Xy),
}

/// A bar chart over integer categories.
#[derive(Clone, Debug, PartialEq)]
pub struct Bars {
    /// (category, count), any order; categories without a bar have height 0.
    pub bars: Vec<(u16, u64)>,
    /// Legend text for the bars.
    pub label: String,
    /// The last category holds every value from it up: its bar is labelled `≥ k`.
    pub overflow: Option<u16>,
}

/// At most this many category labels on a bar chart's x axis.
const MAX_BAR_TICKS: u32 = 20;

/// The x axis of a bar chart: its range (each category `c` is centred on `c`, the axis
/// from half a category before the first to half after the last, 0 included) and the
/// categories that get a label.
fn bar_axis(b: &Bars) -> ((f64, f64), Vec<u32>) {
    let top = b.bars.iter().map(|&(x, _)| u32::from(x)).max().unwrap_or(0);
    let top = top.max(b.overflow.map_or(0, u32::from));
    // Label every category, or every 2nd, 5th, 10th, 20th, 50th, … so at most
    // MAX_BAR_TICKS labels show.
    let needed = (top + 1).div_ceil(MAX_BAR_TICKS);
    let step = [1u32, 2, 5]
        .iter()
        .flat_map(|&m| (0..6).map(move |e| m * 10u32.pow(e)))
        .filter(|&s| s >= needed)
        .min()
        .unwrap_or(needed);
    let mut ticks: Vec<u32> = (0..=top).step_by(step as usize).collect();
    if let Some(k) = b.overflow.map(u32::from) {
        // The `≥ k` label replaces regular labels too close to it.
        ticks.retain(|&t| t + step <= k);
        ticks.push(k);
    }
    ((-0.5, f64::from(top) + 0.5), ticks)
}

/// Where the legend goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Legend {
    /// Top left corner of the plotting area.
    UpperLeft,
    /// Top right corner.
    UpperRight,
    /// Bottom right corner.
    LowerRight,
    /// Bottom left corner.
    LowerLeft,
    /// A column right of the plotting area (for many series).
    Right,
}

/// Numeric x/y plot, optionally with a second y axis on the right.
#[derive(Clone, Debug, PartialEq)]
pub struct Xy {
    /// Series on the left y axis.
    pub series: Vec<Series>,
    /// x axis range; `None`: the data's, padded.
    pub x_range: Option<(f64, f64)>,
    /// Left y axis range; `None`: from 0 (or below, for negative data) to the data's top.
    pub y_range: Option<(f64, f64)>,
    /// Logarithmic (base 2) x axis: points with x <= 0 are gaps.
    pub log_x: bool,
    /// Logarithmic left y axis: points with y <= 0 are gaps.
    pub log_y: bool,
    /// Series on a right-hand y axis.
    pub secondary: Option<Secondary>,
    /// Shaded spans of x behind the series, each with a line and its label at its start.
    pub bands: Vec<Band>,
    /// Legend placement.
    pub legend: Legend,
}

/// A shaded span of x (an event and its recovery).
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    /// Start (the line and the label), in x units.
    pub from: f64,
    /// End of the shading, in x units.
    pub to: f64,
    /// Text by the line, at the top of the plot.
    pub label: String,
}

/// The right-hand y axis of an [`Xy`] plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Secondary {
    /// Axis label, with its unit.
    pub y_label: String,
    /// Axis range.
    pub y_range: (f64, f64),
    /// Series drawn against it.
    pub series: Vec<Series>,
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// Points joined by a solid line.
    Solid,
    /// Points joined by a dashed line (8 px dashes, 5 px gaps).
    Dashed,
    /// Points joined by a dotted line (2 px dots, 4 px gaps).
    Dotted,
    /// Points joined by a long-dashed line (18 px dashes, 6 px gaps).
    LongDashed,
    /// Points not joined.
    None,
}

impl Line {
    /// The joined styles in the order series take them: series `i` of many is drawn with
    /// colour `i` and `Line::nth(i)`, so each round of ten colours (darker every round,
    /// [`style::color`]) also gets its own line style.
    pub const CYCLE: [Line; 4] = [Line::Solid, Line::Dashed, Line::Dotted, Line::LongDashed];

    /// The line style of series `i`: solid for the first ten colours, then dashed, dotted,
    /// long-dashed, and round again.
    pub fn nth(i: usize) -> Line {
        Self::CYCLE[(i / style::PALETTE.len()) % Self::CYCLE.len()]
    }

    /// (dash, gap) lengths, px, of a broken line.
    fn dashes(self) -> Option<(u32, u32)> {
        match self {
            Line::Dashed => Some((8, 5)),
            Line::Dotted => Some((2, 4)),
            Line::LongDashed => Some((18, 6)),
            Line::Solid | Line::None => None,
        }
    }
}

/// One series of an [`Xy`] plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text; empty: not in the legend.
    pub label: String,
    /// Palette index ([`style::color`]).
    pub color: usize,
    /// (x, y) points in drawing order; a point with a non-finite coordinate breaks the line.
    pub points: Vec<(f64, f64)>,
    /// How the points are joined.
    pub line: Line,
    /// A dot on every point.
    pub markers: bool,
    /// Vertical error bars: (x, low, mean, high).
    pub errors: Vec<(f64, f64, f64, f64)>,
}

impl Series {
    /// A solid line through `points`, no markers or error bars.
    pub fn line(label: impl Into<String>, color: usize, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            color,
            points,
            line: Line::Solid,
            markers: false,
            errors: Vec::new(),
        }
    }
}

type DrawResult = Result<(), Box<dyn Error + Send + Sync>>;

/// Draws `fig` as SVG text.
pub fn svg_string(fig: &Figure, path_for_errors: &Path) -> Result<String, PlotError> {
    style::ensure_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(fig, &root)
            .and_then(|()| root.present().map_err(Into::into))
            .map_err(|e| draw_error(path_for_errors, &*e))?;
    }
    Ok(svg)
}

/// Draws `fig` into an RGB image and encodes it as PNG.
pub fn png_bytes(fig: &Figure, path_for_errors: &Path) -> Result<Vec<u8>, PlotError> {
    style::ensure_font()?;
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        draw(fig, &root)
            .and_then(|()| root.present().map_err(Into::into))
            .map_err(|e| draw_error(path_for_errors, &*e))?;
    }
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc
            .write_header()
            .map_err(|e| draw_error(path_for_errors, &e))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| draw_error(path_for_errors, &e))?;
        writer
            .finish()
            .map_err(|e| draw_error(path_for_errors, &e))?;
    }
    Ok(png)
}

/// Writes `fig` as `<dir>/<name>.png` and `<dir>/<name>.svg`; returns both paths.
pub fn write_figure(fig: &Figure, dir: &Path) -> Result<[PathBuf; 2], PlotError> {
    let png_path = dir.join(format!("{}.png", fig.name));
    let svg_path = dir.join(format!("{}.svg", fig.name));
    let png = png_bytes(fig, &png_path)?;
    std::fs::write(&png_path, png).map_err(|e| PlotError::io(&png_path, e))?;
    let svg = svg_string(fig, &svg_path)?;
    std::fs::write(&svg_path, svg).map_err(|e| PlotError::io(&svg_path, e))?;
    Ok([png_path, svg_path])
}

fn draw_error(path: &Path, e: &dyn std::fmt::Display) -> PlotError {
    PlotError::Draw {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn draw<DB: DrawingBackend>(fig: &Figure, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.margin(8, 8, 8, 16);
    match &fig.body {
        Body::Bars(b) => draw_bars(fig, b, &root),
        Body::Xy(xy) => draw_xy(fig, xy, &root),
    }
}

fn font(px: u32) -> TextStyle<'static> {
    (FAMILY, px).into_font().color(&INK)
}

/// Decimals for tick labels (round numbers without float noise: 0.30000000000000004 →
/// 0.3) on an axis spanning `range`: six, or more when the span is so small that six
/// would print the same text at every tick.
fn tick_decimals(range: (f64, f64)) -> usize {
    let span = range.1 - range.0;
    if !(span.is_finite() && span > 0.0) {
        return 6;
    }
    // About ten ticks: one decimal finer than the tick spacing.
    let needed = (-(span / 10.0).log10()).ceil() + 1.0;
    (needed.max(6.0) as usize).min(15)
}

fn draw_bars<DB: DrawingBackend>(
    fig: &Figure,
    b: &Bars,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let top_y = b.bars.iter().map(|&(_, c)| c).max().unwrap_or(0);
    // Counts past 2^53 are clamped: plotters' integer axes overflow near u64::MAX.
    const MAX_COUNT: u64 = 1 << 53;
    let y_max = ((top_y.min(MAX_COUNT) as f64 * 1.08).ceil().max(1.0)) as u64;
    let ((x0, x1), ticks) = bar_axis(b);
    let key_points: Vec<f64> = ticks.iter().map(|&t| f64::from(t)).collect();
    let mut chart = ChartBuilder::on(root)
        .caption(&fig.title, font(TITLE_PX))
        .margin(10)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(
            Ticked {
                axis: (x0..x1).into(),
                ticks: key_points,
            },
            0u64..y_max,
        )?;
    let overflow = b.overflow.map(f64::from);
    let x_fmt = |v: &f64| {
        let text = style::num(*v, 0);
        if Some(*v) == overflow {
            format!("≥ {text}")
        } else {
            text
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(WHITE)
        .x_desc(fig.x_label.as_str())
        .y_desc(fig.y_label.as_str())
        .axis_desc_style(font(LABEL_PX))
        .label_style(font(TICK_PX))
        .x_label_formatter(&x_fmt)
        .draw()?;
    let color = style::color(0);
    let mut bars = b.bars.clone();
    bars.sort_unstable();
    chart
        .draw_series(bars.iter().map(|&(x, c)| {
            // A bar fills 80 % of its category, centred on it.
            let (x, c) = (f64::from(x), c.min(MAX_COUNT));
            Rectangle::new([(x - 0.4, 0), (x + 0.4, c)], color.filled())
        }))?
        .label(b.label.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
    legend(&mut chart, Legend::UpperRight, !b.label.is_empty())?;
    Ok(())
}

/// A linear axis whose ticks are exactly the given values (plotters picks its own).
struct Ticked {
    axis: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.axis.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Bold points only: no light grid lines between the ticks.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.axis.range()
    }
}

impl ValueFormatter<f64> for Ticked {
    fn format(value: &f64) -> String {
        style::num(*value, 6)
    }
}

fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    at: Legend,
    any_label: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if !any_label {
        return Ok(());
    }
    let pos = match at {
        Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
        Legend::UpperRight => SeriesLabelPosition::UpperRight,
        Legend::LowerRight => SeriesLabelPosition::LowerRight,
        Legend::LowerLeft | Legend::Right => SeriesLabelPosition::LowerLeft,
    };
    chart
        .configure_series_labels()
        .position(pos)
        .margin(12)
        .label_font(font(TICK_PX))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xbb, 0xbb, 0xbb))
        .draw()?;
    Ok(())
}

/// Smallest and largest finite value; `None` for none.
fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((f64::min(lo, v), f64::max(hi, v))),
        })
}

fn series_xs(s: &[Series]) -> impl Iterator<Item = f64> + '_ {
    s.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.0)
            .chain(s.errors.iter().map(|e| e.0))
    })
}

fn series_ys(s: &[Series]) -> impl Iterator<Item = f64> + '_ {
    s.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.1)
            .chain(s.errors.iter().flat_map(|e| [e.1, e.3]))
    })
}

/// A usable axis range: finite, increasing, with a little room.
/// `r` if plotters can draw it (finite, increasing, positive on a log axis), else a
/// stand-in range.
fn usable(r: (f64, f64), log: bool) -> (f64, f64) {
    let (lo, hi) = r;
    let finite = lo.is_finite() && hi.is_finite() && (hi - lo).is_finite();
    if finite && hi > lo && (!log || lo > 0.0) {
        return r;
    }
    if log {
        return (0.1, 10.0);
    }
    if finite && lo == hi {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        if (lo - d).is_finite() && (hi + d).is_finite() {
            return (lo - d, hi + d);
        }
    }
    (0.0, 1.0)
}

fn axis(range: Option<(f64, f64)>, pad: f64, from_zero: bool) -> (f64, f64) {
    let (mut lo, hi) = range.unwrap_or((0.0, 1.0));
    if from_zero {
        lo = lo.min(0.0);
    }
    if !matches!(hi.partial_cmp(&lo), Some(std::cmp::Ordering::Greater)) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - d, hi + d);
    }
    let span = hi - lo;
    let lo = if from_zero && lo == 0.0 {
        0.0
    } else {
        lo - span * pad
    };
    (lo, hi + span * pad)
}

fn draw_xy<DB: DrawingBackend>(fig: &Figure, xy: &Xy, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if xy.log_x {
        // Plot log2 x on a linear axis whose tick labels show 2^t.
        let log = |x: f64| if x > 0.0 { x.log2() } else { f64::NAN };
        let map = |s: &Series| Series {
            points: s.points.iter().map(|&(x, y)| (log(x), y)).collect(),
            errors: s
                .errors
                .iter()
                .map(|&(x, a, m, b)| (log(x), a, m, b))
                .collect(),
            ..s.clone()
        };
        let flat = Xy {
            series: xy.series.iter().map(map).collect(),
            x_range: xy.x_range.map(|(a, b)| (log(a), log(b))),
            secondary: xy.secondary.as_ref().map(|sec| Secondary {
                series: sec.series.iter().map(map).collect(),
                ..sec.clone()
            }),
            log_x: false,
            ..xy.clone()
        };
        return draw_xy_with(fig, &flat, root, &pow2_tick, true);
    }
    let all_x =
        bounds(series_xs(&xy.series).chain(xy.secondary.iter().flat_map(|s| series_xs(&s.series))));
    let decimals = tick_decimals(x_axis(xy.x_range, all_x));
    draw_xy_with(
        fig,
        xy,
        root,
        &move |v: &f64| style::num(*v, decimals),
        false,
    )
}

/// The x axis range drawn: `given`, or the data's padded, made drawable.
fn x_axis(given: Option<(f64, f64)>, data: Option<(f64, f64)>) -> (f64, f64) {
    usable(given.unwrap_or_else(|| axis(data, 0.02, false)), false)
}

/// Tick labels of a log2 axis: 2^t, three significant digits at most.
fn pow2_tick(t: &f64) -> String {
    let v = t.exp2();
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    style::num(v, digits)
}

fn draw_xy_with<DB: DrawingBackend>(
    fig: &Figure,
    xy: &Xy,
    root: &DrawingArea<DB, Shift>,
    x_tick: &dyn Fn(&f64) -> String,
    whole_ticks: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let secondary = xy.secondary.as_ref();
    let all_x = bounds(
        series_xs(&xy.series).chain(secondary.into_iter().flat_map(|s| series_xs(&s.series))),
    );
    let x = x_axis(xy.x_range, all_x);
    // At most one tick per whole number (powers of two on a log2 axis).
    let x_labels = if whole_ticks {
        ((x.1.floor() - x.0.ceil()) as usize + 1).clamp(2, 12)
    } else {
        10
    };
    let (plot, side) = if xy.legend == Legend::Right {
        let area = root.titled(&fig.title, font(TITLE_PX))?;
        let width = area.dim_in_pixel().0;
        let (plot, side) = area.split_horizontally(width.saturating_sub(LEGEND_COLUMN_PX));
        (plot, Some(side))
    } else {
        (root.clone(), None)
    };
    let mut builder = ChartBuilder::on(&plot);
    builder
        .margin(10)
        .x_label_area_size(48)
        .y_label_area_size(84);
    if side.is_none() {
        builder.caption(&fig.title, font(TITLE_PX));
    }
    if secondary.is_some() {
        builder.right_y_label_area_size(72);
    }
    if xy.log_y {
        let ys = series_ys(&xy.series).filter(|y| *y > 0.0);
        let (y0, y1) = usable(xy.y_range.unwrap_or_else(|| log_axis(bounds(ys))), true);
        let chart = builder.build_cartesian_2d(x.0..x.1, (y0..y1).log_scale())?;
        finish_xy(fig, xy, chart, (x, x_labels), (y0, y1), x_tick)?;
    } else {
        let auto = || axis(bounds(series_ys(&xy.series)), 0.06, true);
        let (y0, y1) = usable(xy.y_range.unwrap_or_else(auto), false);
        let chart = builder.build_cartesian_2d(x.0..x.1, y0..y1)?;
        finish_xy(fig, xy, chart, (x, x_labels), (y0, y1), x_tick)?;
    }
    if let Some(side) = side {
        side_legend(xy, &side)?;
    }
    Ok(())
}

/// Whether any series of `xy` has a legend text.
fn labelled(xy: &Xy) -> bool {
    xy.series
        .iter()
        .chain(xy.secondary.iter().flat_map(|s| s.series.iter()))
        .any(|s| !s.label.is_empty())
}

/// Width of the [`Legend::Right`] column, px.
const LEGEND_COLUMN_PX: u32 = 200;

/// The legend as a column beside the plot: one row per labelled series.
fn side_legend<DB: DrawingBackend>(xy: &Xy, side: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let labelled: Vec<&Series> = xy
        .series
        .iter()
        .chain(xy.secondary.iter().flat_map(|s| s.series.iter()))
        .filter(|s| !s.label.is_empty())
        .collect();
    // Rows of TICK_PX + 7 px, closer (and smaller text) when that many do not fit.
    const TOP: i32 = 24;
    let height = side.dim_in_pixel().1 as i32 - TOP;
    let fit = height / labelled.len().max(1) as i32;
    let row = (TICK_PX as i32 + 7).min(fit).max(8);
    let px = (TICK_PX as i32).min(row - 2).max(7) as u32;
    for (i, s) in labelled.into_iter().enumerate() {
        let y = TOP + i as i32 * row;
        side.draw(&mark(s, (6, y)))?;
        let text = font(px).pos(Pos::new(HPos::Left, VPos::Center));
        side.draw(&Text::new(s.label.clone(), (36, y), text))?;
    }
    Ok(())
}

/// A log axis range around positive data: a little room at both ends, widened to whole
/// decades so at least two decade ticks show (one value of 20 gives 10..100).
fn log_axis(range: Option<(f64, f64)>) -> (f64, f64) {
    match range {
        Some((lo, hi)) if lo > 0.0 && hi >= lo => {
            let lo = 10f64.powf((lo / 1.5).log10().floor());
            let hi = 10f64.powf((hi * 1.5).log10().ceil());
            if lo > 0.0 && hi.is_finite() && hi > lo {
                (lo, hi)
            } else {
                (0.1, 10.0)
            }
        }
        _ => (0.1, 10.0),
    }
}

/// Mesh, series and legend of an [`Xy`] figure on a chart with y coordinates `Y`
/// (linear or logarithmic).
fn finish_xy<'a, DB, Y>(
    fig: &Figure,
    xy: &Xy,
    chart: ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    (x, x_labels): ((f64, f64), usize),
    y: (f64, f64),
    x_tick: &dyn Fn(&f64) -> String,
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let y_decimals = tick_decimals(y);
    let y_tick = move |v: &f64| style::num(*v, y_decimals);
    let mesh = |chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>| -> DrawResult {
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(WHITE)
            .x_desc(fig.x_label.as_str())
            .y_desc(fig.y_label.as_str())
            .axis_desc_style(font(LABEL_PX))
            .label_style(font(TICK_PX))
            .x_labels(x_labels)
            .x_label_formatter(x_tick)
            .y_label_formatter(&y_tick)
            .draw()?;
        draw_bands(chart, &xy.bands, x, y)
    };
    let Some(sec) = xy.secondary.as_ref() else {
        let mut chart = chart;
        mesh(&mut chart)?;
        for s in &xy.series {
            annotate(chart.draw_series(elements::<DB>(s, xy.log_y, x, y))?, s);
        }
        if xy.legend != Legend::Right {
            legend(&mut chart, xy.legend, labelled(xy))?;
        }
        return Ok(());
    };
    // The secondary axis takes the right label area: set it before the primary mesh is
    // drawn, or the primary labels are drawn there too.
    let (y0, y1) = usable(sec.y_range, false);
    let sec_decimals = tick_decimals((y0, y1));
    let sec_tick = move |v: &f64| style::num(*v, sec_decimals);
    let mut chart = chart.set_secondary_coord(x.0..x.1, y0..y1);
    mesh(&mut chart)?;
    chart
        .configure_secondary_axes()
        .y_desc(sec.y_label.as_str())
        .axis_desc_style(font(LABEL_PX))
        .label_style(font(TICK_PX))
        .y_label_formatter(&sec_tick)
        .draw()?;
    for s in &xy.series {
        annotate(chart.draw_series(elements::<DB>(s, xy.log_y, x, y))?, s);
    }
    for s in &sec.series {
        annotate(
            chart.draw_secondary_series(elements::<DB>(s, false, x, (y0, y1)))?,
            s,
        );
    }
    if xy.legend != Legend::Right {
        legend(&mut chart, xy.legend, labelled(xy))?;
    }
    Ok(())
}

/// The bands of an [`Xy`] figure: a light fill from `from` to `to` over the whole height,
/// a line at `from`, and the label beside it at the top. Band `k` takes colour `k + 5`
/// (past the colours the series of one plot take first).
fn draw_bands<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    bands: &[Band],
    x: (f64, f64),
    y: (f64, f64),
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    for (k, b) in bands.iter().enumerate() {
        if !(b.from.is_finite() && b.to.is_finite()) || b.from > x.1 {
            continue;
        }
        let from = b.from.max(x.0);
        let to = b.to.clamp(from, x.1);
        let c = style::color(k + 5);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(from, y.0), (to, y.1)],
            c.mix(0.12).filled(),
        )))?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(from, y.0), (from, y.1)],
            c.stroke_width(1),
        )))?;
        // Labels of neighbouring events take turns on three rows, so they do not overlap.
        let text = font(TICK_PX).pos(Pos::new(HPos::Left, VPos::Top));
        let row = (k % 3) as i32 * (TICK_PX as i32 + 4);
        chart.draw_series(std::iter::once(
            EmptyElement::at((from, y.1)) + Text::new(format!(" {}", b.label), (0, row), text),
        ))?;
    }
    Ok(())
}

fn annotate<DB: DrawingBackend>(anno: &mut SeriesAnno<'_, DB>, s: &Series) {
    if s.label.is_empty() {
        return;
    }
    let m = mark(s, (0, 0));
    anno.label(s.label.as_str())
        .legend(move |at| LegendMark { at, ..m });
}

fn mark(s: &Series, at: BackendCoord) -> LegendMark {
    LegendMark {
        at,
        line: s.line,
        dot: s.markers || s.line == Line::None,
        color: style::color(s.color),
    }
}

/// The sample drawn beside a series' legend text: its line (solid or dashed) and marker.
#[derive(Clone, Copy)]
struct LegendMark {
    at: BackendCoord,
    line: Line,
    dot: bool,
    color: RGBColor,
}

impl<'a> PointCollection<'a, BackendCoord> for &'a LegendMark {
    type Point = &'a BackendCoord;
    type IntoIter = std::iter::Once<&'a BackendCoord>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<DB: DrawingBackend> Drawable<DB> for LegendMark {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut pos: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = pos.next() else {
            return Ok(());
        };
        let stroke = self.color.stroke_width(2);
        match self.line.dashes() {
            None if self.line == Line::Solid => backend.draw_line((x, y), (x + 22, y), &stroke)?,
            None => {}
            Some((dash, gap)) => {
                // The line's own pattern over 22 px.
                let mut a = x;
                while a < x + 22 {
                    let b = (a + dash as i32).min(x + 22);
                    backend.draw_line((a, y), (b, y), &stroke)?;
                    a = b + gap as i32;
                }
            }
        }
        if self.dot {
            backend.draw_circle((x + 11, y), 4, &self.color.filled(), true)?;
        }
        Ok(())
    }
}

fn elements<DB: DrawingBackend>(
    s: &Series,
    log_y: bool,
    x: (f64, f64),
    y: (f64, f64),
) -> Vec<DynElement<'static, DB, (f64, f64)>>
where
    DB::ErrorType: 'static,
{
    let color = style::color(s.color);
    let mut out: Vec<DynElement<'static, DB, (f64, f64)>> = Vec::new();
    // Points beyond the axes are drawn at their edge: plotters' pixel arithmetic overflows
    // for coordinates far outside the axis range.
    let inside = |(px, py): (f64, f64)| (clamp(px, x), clamp(py, y));
    // A point with a non-finite coordinate (or y <= 0 on a log axis) is a gap: the line
    // stops there and resumes after it.
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite() && (!log_y || p.1 > 0.0);
    for run in s.points.split(|p| !finite(p)).filter(|r| !r.is_empty()) {
        let run: Vec<(f64, f64)> = run.iter().map(|&p| inside(p)).collect();
        match (s.line, s.line.dashes()) {
            (Line::Solid, _) => out.extend(LineSeries::new(run, color.stroke_width(2))),
            (_, Some((dash, gap))) => out.extend(
                DashedLineSeries::new(run, dash, gap, color.stroke_width(2))
                    .into_iter()
                    .map(|e| e.into_dyn()),
            ),
            (_, None) => {}
        }
    }
    let pts: Vec<(f64, f64)> = s
        .points
        .iter()
        .copied()
        .filter(finite)
        .map(inside)
        .collect();
    for &(x, lo, mean, hi) in &s.errors {
        if [x, lo, mean, hi].iter().all(|v| v.is_finite()) {
            // ErrorBar also rings the mean with a circle of radius 5 px; the marker
            // (same radius, filled) covers it.
            let (x, lo) = inside((x, lo));
            let (mean, hi) = (clamp(mean, y), clamp(hi, y));
            let bar = ErrorBar::new_vertical(x, lo, mean, hi, color.stroke_width(1), 10);
            out.push(bar.into_dyn());
        }
    }
    if s.markers || s.line == Line::None {
        out.extend(
            pts.iter()
                .map(|&p| Circle::new(p, 5, color.filled()).into_dyn()),
        );
    }
    out
}

/// `v` limited to the range `r`.
fn clamp(v: f64, r: (f64, f64)) -> f64 {
    v.max(r.0).min(r.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xy(series: Vec<Series>) -> Xy {
        Xy {
            series,
            x_range: None,
            y_range: None,
            log_x: false,
            log_y: false,
            secondary: None,
            bands: Vec::new(),
            legend: Legend::UpperLeft,
        }
    }

    fn fig(body: Body) -> Figure {
        Figure {
            name: "t".into(),
            title: "t <&> \"q\"".into(),
            x_label: "x (s)".into(),
            y_label: "y (ms)".into(),
            body,
        }
    }

    fn bars(top: u16, overflow: Option<u16>) -> Bars {
        Bars {
            bars: vec![(0, 1), (top, 1)],
            label: String::new(),
            overflow,
        }
    }

    #[test]
    fn bar_axes_centre_every_category_on_its_label() {
        assert_eq!(bar_axis(&bars(0, None)), ((-0.5, 0.5), vec![0]));
        assert_eq!(bar_axis(&bars(3, None)), ((-0.5, 3.5), vec![0, 1, 2, 3]));
        // Past 20 categories every 2nd, 5th, … is labelled.
        let (_, ticks) = bar_axis(&bars(30, None));
        assert_eq!(ticks, (0..=30).step_by(2).collect::<Vec<_>>());
        let (_, ticks) = bar_axis(&bars(u16::MAX, None));
        assert!(ticks.len() <= MAX_BAR_TICKS as usize + 1, "{}", ticks.len());
        // The overflow bar is labelled, and labels too close to it give way.
        assert_eq!(
            bar_axis(&bars(11, Some(11))).1,
            (0..=11).collect::<Vec<_>>()
        );
        let (_, ticks) = bar_axis(&bars(41, Some(41)));
        assert_eq!(ticks.last(), Some(&41));
        assert!(!ticks.contains(&40), "{ticks:?}");
    }

    #[test]
    fn tick_decimals_grow_for_tiny_spans() {
        assert_eq!(tick_decimals((0.0, 100.0)), 6);
        assert_eq!(tick_decimals((0.0, 1e-9)), 11);
        assert_eq!(tick_decimals((1.0, 1.0)), 6);
        assert_eq!(tick_decimals((0.0, f64::NAN)), 6);
        assert_eq!(tick_decimals((0.0, f64::MIN_POSITIVE)), 15);
    }

    #[test]
    fn series_styles_change_every_ten_series() {
        assert_eq!(Line::nth(0), Line::Solid);
        assert_eq!(Line::nth(9), Line::Solid);
        assert_eq!(Line::nth(10), Line::Dashed);
        assert_eq!(Line::nth(25), Line::Dotted);
        assert_eq!(Line::nth(39), Line::LongDashed);
        assert_eq!(Line::nth(40), Line::Solid);
    }

    #[test]
    fn degenerate_figures_draw_without_panicking() {
        let p = Path::new("t");
        let line = |pts: Vec<(f64, f64)>| Series::line("l", 0, pts);
        let mut cases = vec![
            Body::Bars(Bars {
                bars: vec![(0, 5)],
                label: "one".into(),
                overflow: None,
            }),
            Body::Bars(Bars {
                bars: vec![(u16::MAX, u64::MAX), (3, 0)],
                label: "wide".into(),
                overflow: Some(u16::MAX),
            }),
            Body::Bars(Bars {
                bars: Vec::new(),
                label: String::new(),
                overflow: None,
            }),
            Body::Xy(xy(Vec::new())),
            Body::Xy(xy(vec![line(vec![(1.0, 1.0)])])),
            Body::Xy(xy(vec![line(vec![(f64::NAN, 1.0), (2.0, f64::INFINITY)])])),
            Body::Xy(xy(vec![line(vec![(0.0, 1e308), (1e308, -1e308)])])),
        ];
        let mut log = xy(vec![line(vec![(-1.0, 0.0), (0.0, -5.0)])]);
        log.log_x = true;
        log.log_y = true;
        cases.push(Body::Xy(log));
        for style in Line::CYCLE {
            let mut s = line(vec![(0.0, 1.0), (1.0, 2.0)]);
            s.line = style;
            cases.push(Body::Xy(xy(vec![s])));
        }
        let mut fixed = xy(vec![line(vec![(1.0, 1.0)])]);
        fixed.x_range = Some((3.0, 3.0));
        fixed.y_range = Some((f64::NAN, 1.0));
        fixed.legend = Legend::Right;
        cases.push(Body::Xy(fixed));
        for body in cases {
            let f = fig(body);
            let svg = svg_string(&f, p).unwrap();
            assert!(svg.contains("t &lt;&amp;&gt; &quot;q&quot;"), "{svg}");
            assert!(png_bytes(&f, p).unwrap().starts_with(b"\x89PNG"));
        }
    }
}
