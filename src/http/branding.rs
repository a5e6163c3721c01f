//! How an app's `branding` setting looks on the hosted pages: CSS variables over
//! the default style, the text colour of buttons chosen by contrast, and the
//! Content-Security-Policy sources the logo and style sheet need
//! (docs/src/hosted-pages.md#branding).
//!
//! Contrast is WCAG 2.2's (relative luminance, ratio `(L1 + 0.05) / (L2 + 0.05)`):
//! button text is black or white, whichever reads better on the brand colour (one
//! of the two always reaches 4.5:1); links and focus rings take the brand colour
//! only where it reaches 4.5:1 against the card, else they keep the default ones.

use crate::services::apps::Branding;

/// The default card colours (`templates/pages/style.css`), light and dark.
const CARD_LIGHT: &str = "#ffffff";
const CARD_DARK: &str = "#1c1f26";
/// The default dark-mode link and focus colours, which a brand colour too dark for
/// the dark card leaves in place (the brand's variables come after the default
/// style and would otherwise apply in both modes).
const ACCENT_DARK: &str = "#8fb0ff";
const FOCUS_DARK: &str = "#a9c2ff";

/// An app's branding, ready for a page.
#[derive(Clone, Debug, Default)]
pub struct Look {
    pub product_name: Option<String>,
    pub logo_url: Option<String>,
    pub css_url: Option<String>,
    /// CSS variables over the default style; `None` without brand colours.
    pub style: Option<String>,
    /// CSP `img-src` source of an off-origin logo (the exact URL).
    pub img_source: Option<String>,
    /// CSP `style-src` source of the style sheet (the exact URL).
    pub style_source: Option<String>,
}

fn rgb(hex: &str) -> Option<[f64; 3]> {
    let hex = hex.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some([
        f64::from(channel(0)?),
        f64::from(channel(2)?),
        f64::from(channel(4)?),
    ])
}

/// WCAG relative luminance of `#rrggbb`.
pub fn luminance(hex: &str) -> Option<f64> {
    let [r, g, b] = rgb(hex)?.map(|c| {
        let c = c / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    });
    Some(0.2126 * r + 0.7152 * g + 0.0722 * b)
}

/// WCAG contrast ratio of two `#rrggbb` colours (1 to 21).
pub fn contrast(a: &str, b: &str) -> Option<f64> {
    let (la, lb) = (luminance(a)?, luminance(b)?);
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    Some((hi + 0.05) / (lo + 0.05))
}

/// Black or white, whichever contrasts more with `background`.
pub fn text_on(background: &str) -> &'static str {
    let white = contrast(background, "#ffffff").unwrap_or(21.0);
    let black = contrast(background, "#000000").unwrap_or(1.0);
    if white >= black { "#ffffff" } else { "#000000" }
}

/// A CSP source for `url` (absolute https, or a path on `origin`): the exact URL
/// without its query, which CSP ignores.
fn csp_source(url: &str, origin: &str) -> Option<String> {
    let absolute = if url.starts_with('/') {
        format!("{origin}{url}")
    } else {
        url.to_owned()
    };
    let parsed = url::Url::parse(&absolute).ok()?;
    let mut source = format!("{}://{}", parsed.scheme(), parsed.host_str()?);
    if let Some(port) = parsed.port() {
        source.push_str(&format!(":{port}"));
    }
    source.push_str(parsed.path());
    // The setting's validation refuses these already; a source must not end early.
    (!source.contains([' ', ';', ',', '\'', '"'])).then_some(source)
}

impl Look {
    /// The look of `branding` for pages served from `origin` (the public URL's).
    pub fn of(branding: &Branding, origin: &str) -> Self {
        let mut vars = String::new();
        let mut dark = String::new();
        if let Some(primary) = branding
            .primary_color
            .as_deref()
            .filter(|c| rgb(c).is_some())
        {
            let on = text_on(primary);
            vars.push_str(&format!("--primary:{primary};--on-primary:{on};"));
            if contrast(primary, CARD_LIGHT).unwrap_or(0.0) >= 4.5 {
                vars.push_str(&format!("--accent:{primary};--focus:{primary};"));
            }
            if contrast(primary, CARD_DARK).unwrap_or(0.0) >= 4.5 {
                dark.push_str(&format!("--accent:{primary};--focus:{primary};"));
            } else {
                dark.push_str(&format!("--accent:{ACCENT_DARK};--focus:{FOCUS_DARK};"));
            }
        }
        if let Some(background) = branding
            .background_color
            .as_deref()
            .filter(|c| rgb(c).is_some())
        {
            // Behind the card in both modes; the header and footer on it take black
            // or white text.
            vars.push_str(&format!(
                "--bg:{background};--on-bg:{};",
                text_on(background)
            ));
        }
        let style = (!vars.is_empty()).then(|| {
            let mut style = format!(":root{{{vars}}}");
            if !dark.is_empty() {
                style.push_str(&format!(
                    "@media (prefers-color-scheme:dark){{:root{{{dark}}}}}"
                ));
            }
            style
        });
        let logo_url = branding.logo_url.clone();
        let img_source = logo_url
            .as_deref()
            .filter(|u| !u.starts_with('/'))
            .and_then(|u| csp_source(u, origin));
        let css_url = branding.custom_css_url.clone();
        let style_source = css_url.as_deref().and_then(|u| csp_source(u, origin));
        Self {
            product_name: branding.product_name.clone(),
            logo_url,
            css_url: css_url.filter(|_| style_source.is_some()),
            style,
            img_source,
            style_source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `--name:#rrggbb` variables of the `:root` block that starts at `from`.
    fn palette(css: &str, from: usize) -> std::collections::HashMap<String, String> {
        let block = &css[from..];
        let block = &block[..block.find('}').unwrap()];
        block
            .split(['{', ';'])
            .filter_map(|decl| decl.trim().strip_prefix("--"))
            .filter_map(|decl| decl.split_once(':'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// The default style meets WCAG 2.2 AA in light and dark mode: text 4.5:1,
    /// focus rings and input borders 3:1.
    #[test]
    fn the_default_colours_have_enough_contrast() {
        let css = include_str!("../../templates/pages/style.css");
        let light = palette(css, css.find(":root{").unwrap());
        let dark_at = css.find("prefers-color-scheme:dark){:root{").unwrap();
        let dark = palette(css, dark_at + "prefers-color-scheme:dark){".len());
        for (mode, p, card) in [("light", &light, CARD_LIGHT), ("dark", &dark, CARD_DARK)] {
            assert_eq!(
                p["card"], card,
                "{mode}: the card colour moved; update CARD_*"
            );
            if mode == "dark" {
                assert_eq!(
                    (p["accent"].as_str(), p["focus"].as_str()),
                    (ACCENT_DARK, FOCUS_DARK)
                );
            }
            let ratio = |a: &str, b: &str| contrast(&p[a], &p[b]).unwrap();
            for (fg, bg, min) in [
                ("text", "card", 4.5),
                ("muted", "card", 4.5),
                ("accent", "card", 4.5),
                ("on-primary", "primary", 4.5),
                ("text", "secondary-bg", 4.5),
                ("error", "error-bg", 4.5),
                ("error", "card", 4.5),
                ("ok", "ok-bg", 4.5),
                ("focus", "card", 3.0),
                ("border", "card", 3.0),
                ("on-bg", "bg", 4.5),
            ] {
                let r = ratio(fg, bg);
                assert!(r >= min, "{mode}: {fg} on {bg} is {r:.2}:1, below {min}:1");
            }
        }
    }

    #[test]
    fn button_text_follows_the_brand_colour() {
        // A light brand colour gets black text, a dark one white; either way 4.5:1.
        for colour in [
            "#ffd60a", "#0b3d91", "#777777", "#00ff00", "#ff0000", "#000000", "#ffffff",
        ] {
            let on = text_on(colour);
            assert!(contrast(colour, on).unwrap() >= 4.5, "{colour} with {on}");
        }
        assert_eq!(text_on("#ffd60a"), "#000000");
        assert_eq!(text_on("#0b3d91"), "#ffffff");
        let look = Look::of(
            &Branding {
                primary_color: Some("#ffd60a".into()),
                background_color: Some("#102030".into()),
                ..Branding::default()
            },
            "https://id.example.com",
        );
        let style = look.style.unwrap();
        // Yellow is unreadable as link text on white: links keep the default colour,
        // but on the dark card yellow is fine.
        assert!(
            style.starts_with(
                ":root{--primary:#ffd60a;--on-primary:#000000;--bg:#102030;--on-bg:#ffffff;}"
            ),
            "{style}"
        );
        assert!(
            style.ends_with("dark){:root{--accent:#ffd60a;--focus:#ffd60a;}}"),
            "{style}"
        );
        // A dark blue is fine on white but not on the dark card.
        let navy = Look::of(
            &Branding {
                primary_color: Some("#0b3d91".into()),
                ..Branding::default()
            },
            "https://id.example.com",
        );
        assert_eq!(
            navy.style.unwrap(),
            ":root{--primary:#0b3d91;--on-primary:#ffffff;--accent:#0b3d91;--focus:#0b3d91;}\
             @media (prefers-color-scheme:dark){:root{--accent:#8fb0ff;--focus:#a9c2ff;}}"
        );
    }

    #[test]
    fn csp_sources_are_the_exact_urls() {
        let look = Look::of(
            &Branding {
                logo_url: Some("https://cdn.example.com:8443/a/logo.svg?v=2".into()),
                custom_css_url: Some("/static/brand.css".into()),
                ..Branding::default()
            },
            "https://id.example.com",
        );
        assert_eq!(
            look.img_source.as_deref(),
            Some("https://cdn.example.com:8443/a/logo.svg")
        );
        assert_eq!(
            look.style_source.as_deref(),
            Some("https://id.example.com/static/brand.css")
        );
        assert!(look.style.is_none());
        let own_logo = Look::of(
            &Branding {
                logo_url: Some("/logo.png".into()),
                ..Branding::default()
            },
            "https://id.example.com",
        );
        assert_eq!(own_logo.img_source, None);
    }
}
