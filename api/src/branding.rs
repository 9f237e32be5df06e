//! An Organization's logo and accent colour: what the admin CLI accepts, and the one contrast
//! rule the app applies before it uses the colour.
//!
//! **The rule:** an accent colour is used only if white text on it has a WCAG 2 contrast ratio
//! of at least 4.5:1 (AA for normal text), `contrast_ratio(accent, white) >= 4.5`. The app uses
//! the accent as the background of its primary button (white text on it) and as the colour of
//! links and text on the white card; both are the same pair of colours, so the one ratio
//! covers both. A colour that fails, or is not `#rgb`/`#rrggbb`, is not used: the app keeps its
//! default colour.

use crate::handoff::{parse_absolute, UrlError};

/// The contrast WCAG 2 AA asks of normal text.
pub const AA_CONTRAST: f64 = 4.5;

const WHITE: [u8; 3] = [255, 255, 255];

/// `#rgb` or `#rrggbb`, hex digits in any case, as red, green and blue.
pub fn parse_hex_color(text: &str) -> Option<[u8; 3]> {
    let hex = text.strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digit = |i: usize| u8::from_str_radix(&hex[i..=i], 16).ok();
    match hex.len() {
        3 => Some([digit(0)? * 17, digit(1)? * 17, digit(2)? * 17]),
        6 => Some([
            u8::from_str_radix(&hex[0..2], 16).ok()?,
            u8::from_str_radix(&hex[2..4], 16).ok()?,
            u8::from_str_radix(&hex[4..6], 16).ok()?,
        ]),
        _ => None,
    }
}

/// An accent colour in the form the Organization record keeps: `#rrggbb`, lower case. Accepts
/// `#rgb` or `#rrggbb` in any case (surrounding spaces ignored); `None` for anything else.
pub fn normalize_accent_color(text: &str) -> Option<String> {
    let [r, g, b] = parse_hex_color(text.trim())?;
    Some(format!("#{r:02x}{g:02x}{b:02x}"))
}

/// WCAG 2 relative luminance of an sRGB colour: 0 for black, 1 for white.
pub fn relative_luminance([r, g, b]: [u8; 3]) -> f64 {
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// WCAG 2 contrast ratio of two colours, from 1 (the same) to 21 (black and white), whichever
/// order they come in.
pub fn contrast_ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (a, b) = (relative_luminance(a), relative_luminance(b));
    let (light, dark) = if a > b { (a, b) } else { (b, a) };
    (light + 0.05) / (dark + 0.05)
}

/// Whether the app may use `accent` (see the rule at the top of this module): it is `#rgb` or
/// `#rrggbb` and white has a contrast of at least [`AA_CONTRAST`] with it.
pub fn accent_passes_aa(accent: &str) -> bool {
    parse_hex_color(accent).is_some_and(|rgb| contrast_ratio(rgb, WHITE) >= AA_CONTRAST)
}

/// A logo URL in the form the Organization record keeps: an absolute `https://` URL, no user
/// name or password, no whitespace, control character, backslash or non-ASCII character, at
/// most 2048 bytes; scheme and host lower-cased. A query or fragment may stay.
pub fn normalize_logo_url(text: &str) -> Result<String, UrlError> {
    match parse_absolute(text, false) {
        Ok(url) => Ok(url.normalized()),
        // Not even on localhost: the app's pages are served over HTTPS.
        Err(UrlError::Insecure) => Err(UrlError::Scheme),
        Err(other) => Err(other),
    }
}

/// One sRGB channel, linear. WCAG's formula raises to the power 2.4: done here as
/// `x² · x^0.4` with a fifth root by Newton's method, so the wasm app does not carry a `pow`.
fn linear(channel: u8) -> f64 {
    let c = f64::from(channel) / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        let x = (c + 0.055) / 1.055;
        x * x * fifth_root(x * x)
    }
}

/// The fifth root of `a` in (0, 1]: Newton's method from 1, which only falls towards the root.
fn fifth_root(a: f64) -> f64 {
    let mut y = 1.0_f64;
    for _ in 0..64 {
        let next = (4.0 * y + a / (y * y * y * y)) / 5.0;
        if next >= y {
            break;
        }
        y = next;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_follow_the_wcag_formula() {
        for channel in 0..=255u8 {
            let c = f64::from(channel) / 255.0;
            let want = if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            };
            assert!(
                (linear(channel) - want).abs() < 1e-12,
                "channel {channel}: {} != {want}",
                linear(channel)
            );
        }
    }

    #[test]
    fn luminance_and_contrast_of_known_colours() {
        assert_eq!(relative_luminance([0, 0, 0]), 0.0);
        assert!((relative_luminance(WHITE) - 1.0).abs() < 1e-12);
        assert!((contrast_ratio([0, 0, 0], WHITE) - 21.0).abs() < 1e-9);
        assert!((contrast_ratio(WHITE, [0, 0, 0]) - 21.0).abs() < 1e-9);
        assert!((contrast_ratio([0x77, 0x77, 0x77], [0x77, 0x77, 0x77]) - 1.0).abs() < 1e-12);
        // Published pairs: #767676 on white is 4.54:1, the lightest grey that passes AA;
        // #777777 is 4.48:1.
        assert!((contrast_ratio([0x76, 0x76, 0x76], WHITE) - 4.54).abs() < 0.005);
        assert!((contrast_ratio([0x77, 0x77, 0x77], WHITE) - 4.48).abs() < 0.005);
        // #0b5fff: luminance 0.1548, 5.13:1 on white.
        assert!((relative_luminance([0x0b, 0x5f, 0xff]) - 0.1548).abs() < 0.0005);
        assert!((contrast_ratio([0x0b, 0x5f, 0xff], WHITE) - 5.13).abs() < 0.005);
    }

    #[test]
    fn accents_pass_only_with_white_at_four_and_a_half() {
        for accent in [
            "#0b5fff", "#000000", "#000", "#767676", "#4f0599", "#0B5FFF",
        ] {
            assert!(accent_passes_aa(accent), "{accent} should pass");
        }
        for accent in [
            "#ffcc00",
            "#ffffff",
            "#fff",
            "#777777",
            "#00ff00",
            "#1a73e880",
        ] {
            assert!(!accent_passes_aa(accent), "{accent} should fail");
        }
    }

    #[test]
    fn a_malformed_accent_fails() {
        for accent in [
            "",
            "#",
            "000000",
            "#00000",
            "#0000000",
            "#ggg",
            "#12345g",
            "red",
            " #000000",
            "#+00000",
            "rgb(0,0,0)",
            "#٠٠٠",
        ] {
            assert!(!accent_passes_aa(accent), "{accent:?} should fail");
            assert_eq!(parse_hex_color(accent), None, "{accent:?}");
        }
    }

    #[test]
    fn accent_colours_are_normalised_to_lower_case_rrggbb() {
        for (input, want) in [
            ("#0B5FFF", "#0b5fff"),
            ("#0b5fff", "#0b5fff"),
            ("#ABC", "#aabbcc"),
            ("#fc0", "#ffcc00"),
            (" #000 ", "#000000"),
        ] {
            assert_eq!(normalize_accent_color(input).as_deref(), Some(want));
        }
        for input in ["", "0b5fff", "#0b5ff", "#0b5fffa", "#xyz", "blue"] {
            assert_eq!(normalize_accent_color(input), None, "{input:?}");
        }
    }

    #[test]
    fn logo_urls_are_https_only() {
        assert_eq!(
            normalize_logo_url("HTTPS://CDN.Example/Logo.svg?v=2").as_deref(),
            Ok("https://cdn.example/Logo.svg?v=2")
        );
        for (input, want) in [
            ("", UrlError::Empty),
            ("http://cdn.example/logo.svg", UrlError::Scheme),
            ("http://localhost/logo.svg", UrlError::Scheme),
            ("//cdn.example/logo.svg", UrlError::Scheme),
            ("/logo.svg", UrlError::Scheme),
            ("javascript:alert(1)", UrlError::Scheme),
            ("data:image/svg+xml,<svg/>", UrlError::Scheme),
            ("https://user:pw@cdn.example/logo.svg", UrlError::UserInfo),
            ("https://cdn.example/my logo.svg", UrlError::Whitespace),
            ("https://cdn.example/logo.svg\n", UrlError::Whitespace),
            ("https://cdn.example\\logo.svg", UrlError::Backslash),
        ] {
            assert_eq!(normalize_logo_url(input), Err(want), "input {input:?}");
        }
        let long = format!("https://cdn.example/{}", "a".repeat(2048));
        assert_eq!(normalize_logo_url(&long), Err(UrlError::TooLong));
    }
}
