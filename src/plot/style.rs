//! The look shared by every plot: the embedded font (no system fonts), colours, sizes.

use std::sync::OnceLock;

use plotters::style::{FontStyle, RGBColor, register_font};

use super::PlotError;

/// DejaVu Sans 2.37 (Bitstream Vera licence, `assets/fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The font family every text uses. plotters measures and rasterizes text with the
/// embedded font registered under this name; SVG files name it as a CSS font list, so a
/// viewer uses DejaVu Sans when it has it and its own sans-serif face otherwise.
pub const FAMILY: &str = "DejaVu Sans, sans-serif";

/// Registers the embedded font with plotters (once per process).
pub fn ensure_font() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font("DejaVuSans.ttf"))
    }
}

/// Figure size, pixels (PNG) and user units (SVG).
pub const SIZE: (u32, u32) = (960, 560);
/// Title font size, px.
pub const TITLE_PX: u32 = 22;
/// Axis label font size, px.
pub const LABEL_PX: u32 = 17;
/// Tick label and legend font size, px.
pub const TICK_PX: u32 = 14;

/// Plain text colour.
pub const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Light grid lines.
pub const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);

/// Series colours (Tableau 10), used in order.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0x79, 0x70, 0x6e),
];

/// Colour number `i`: palette colour `i mod 10`, darkened by a factor 3 / (3 + round) in
/// every further round of ten, so no two of the first few hundred series share a colour
/// (run and sweep plots also change the line style per round, `figure::Line::nth`).
pub fn color(i: usize) -> RGBColor {
    let RGBColor(r, g, b) = PALETTE[i % PALETTE.len()];
    let round = (i / PALETTE.len()) as u64;
    let darken = |c: u8| (u64::from(c) * 3 / (3 + round)) as u8;
    RGBColor(darken(r), darken(g), darken(b))
}

/// A plot title: `"<scenario> (<seeds>): <what>"`, `seeds` as `seed 3` or `seeds 1–3`.
pub fn title(scenario: &str, seeds: &str, what: &str) -> String {
    format!("{scenario} ({seeds}): {what}")
}

/// A number for a legend or table: integers as they are, others with up to `decimals`
/// decimals and no trailing zeros.
pub fn num(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lose_trailing_zeros() {
        assert_eq!(num(4.0, 2), "4");
        assert_eq!(num(4.5, 2), "4.5");
        assert_eq!(num(0.499_99, 2), "0.5");
        assert_eq!(num(-0.0001, 2), "0");
        assert_eq!(num(f64::NAN, 2), "NaN");
    }

    #[test]
    fn palette_cycles_without_panicking() {
        assert_eq!(color(0), PALETTE[0]);
        assert_ne!(color(10), PALETTE[0]);
        let _ = color(usize::MAX);
    }

    #[test]
    fn the_first_hundred_colours_differ() {
        let colours: Vec<RGBColor> = (0..100).map(color).collect();
        for (i, a) in colours.iter().enumerate() {
            for (j, b) in colours.iter().enumerate().skip(i + 1) {
                assert_ne!(a, b, "series {i} and {j} share a colour");
            }
        }
    }

    #[test]
    fn the_embedded_font_registers() {
        ensure_font().unwrap();
        ensure_font().unwrap();
    }
}
