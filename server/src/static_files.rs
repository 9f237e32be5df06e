//! Serves the built app (`dist/`) behind the API, with security headers and an SPA fallback
//! per page. The app is two pages, each a build of its own: the login (`index.html`) and the
//! account screens (`account/index.html`, with its files under `account/`). A path that is no
//! file gets its page's `index.html` (`/account` and anything under `/account/` the account
//! page's, every other path the login's), so every step's and screen's URL survives a reload.
//! A build without the account page (an older one) gets the login's `index.html` for every
//! path. Files go out compressed when the build left a `.br` or `.gz` copy beside them.

use std::path::{Path, PathBuf};

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use base64::Engine;
use sha2::{Digest, Sha256};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

/// The account screens' page, from `dist/`; its URLs are `/account` and everything under
/// `/account/`.
pub const ACCOUNT_INDEX: &str = "account/index.html";

pub fn serve_app(api: Router, dist: &Path) -> Router {
    let login = dist.join("index.html");
    let account = Some(dist.join(ACCOUNT_INDEX)).filter(|page| page.is_file());
    // One policy for both pages: it allows the inline scripts of each.
    let pages: Vec<String> = std::iter::once(&login)
        .chain(&account)
        .map(|page| std::fs::read_to_string(page).unwrap_or_default())
        .collect();
    let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
    let csp = content_security_policy(&pages);
    // The build writes `.br` and `.gz` copies of each file (scripts/precompress.mjs); browsers
    // that accept them get those, with `Content-Encoding` and `Vary: Accept-Encoding`. So does
    // each page's index.html as the fallback.
    let page = |index: PathBuf| {
        ServeFile::new(index)
            .precompressed_br()
            .precompressed_gzip()
    };
    // Which page a path that is no file gets.
    let mut fallback = Router::new().fallback_service(page(login));
    if let Some(account) = &account {
        fallback = fallback
            .route_service("/account/", page(account.clone()))
            .route_service("/account/{*screen}", page(account.clone()));
    }
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(fallback);
    let files = varying(files);
    let fixed = |name: HeaderName, value: &str| {
        SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_str(value).expect("header values here are ASCII"),
        )
    };
    let mut app = api;
    // `/account` is the account page too, not a redirect to the folder `/account/`.
    if let Some(account) = account {
        app = app.route_service("/account", varying(page(account)));
    }
    app.fallback_service(files)
        .layer(fixed(header::CONTENT_SECURITY_POLICY, &csp))
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(fixed(header::REFERRER_POLICY, "no-referrer"))
        .layer(fixed(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
}

/// Caches must keep the encodings apart.
fn varying<S>(files: S) -> SetResponseHeader<S, HeaderValue> {
    SetResponseHeader::overriding(
        files,
        header::VARY,
        HeaderValue::from_static("accept-encoding"),
    )
}

/// A strict policy: scripts only from this origin plus the exact inline scripts of the pages
/// (`index.html`, `account/index.html`: each page's own, one policy for both), styles likewise
/// (each page carries its stylesheet inline, so the first paint waits for no second request),
/// WebAssembly compilation allowed, no framing. Images may also come from any `https:` origin,
/// for an Organization's logo (its URL is https-only, checked by the admin CLI); an image runs
/// no code, and every other kind of request stays on this origin.
pub fn content_security_policy(pages: &[&str]) -> String {
    let scripts = hashes(pages, "script");
    let styles = hashes(pages, "style");
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{scripts}; style-src 'self'{styles}; \
         img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// `" 'sha256-…'"` for each inline `element` of the pages, each body once, in the pages' order.
fn hashes(pages: &[&str], element: &str) -> String {
    let mut hashes: Vec<String> = Vec::new();
    for body in pages.iter().flat_map(|html| inline_bodies(html, element)) {
        let hash = format!(
            " 'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()))
        );
        if !hashes.contains(&hash) {
            hashes.push(hash);
        }
    }
    hashes.concat()
}

/// The bodies of the `<script>` or `<style>` elements (`element`) that have no `src`, exactly
/// as the browser hashes them.
fn inline_bodies<'a>(html: &'a str, element: &str) -> Vec<&'a str> {
    let open = format!("<{element}");
    let close = format!("</{element}>");
    html.split(open.as_str())
        .skip(1)
        .filter_map(|rest| {
            // `<style>` or `<style …>`, not `<styles>`.
            if !rest.starts_with(['>', ' ', '\t', '\n', '\r']) {
                return None;
            }
            let (attributes, after) = rest.split_once('>')?;
            let (body, _) = after.split_once(close.as_str())?;
            (!attributes.contains("src=") && !body.is_empty()).then_some(body)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The source that allows an inline element with this body: `'sha256-…'`.
    fn hash(body: &str) -> String {
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()))
        )
    }

    #[test]
    fn hashes_each_inline_script_and_skips_external_ones() {
        let html = r#"<head><script type="module">import init from '/app.js';init();</script>
            <script src="/other.js"></script><script>a()</script></head>"#;
        let csp = content_security_policy(&[html]);
        // sha256 of the exact bodies, as `printf %s BODY | openssl dgst -sha256 -binary | base64`.
        assert!(csp.contains(&hash("import init from '/app.js';init();")));
        assert!(csp.contains(&hash("a()")));
        assert_eq!(csp.matches("'sha256-").count(), 2);
        // No inline style: styles only from this origin.
        assert!(csp.contains("; style-src 'self'; "), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("'wasm-unsafe-eval'"));
        // An Organization's logo over HTTPS shows; nothing else leaves the origin.
        assert!(csp.contains("img-src 'self' data: https:;"), "{csp}");
        assert!(csp.contains("default-src 'self';"), "{csp}");
        assert!(csp.contains("connect-src 'self';"), "{csp}");
        assert!(!csp.contains("http:"), "{csp}");
    }

    #[test]
    fn allows_each_pages_inline_stylesheet_and_no_other_style() {
        let login = "<head><style>a{color:red}</style><script>x()</script></head>";
        let account = "<head><style>a{color:red}</style><style media=\"print\">b{}</style></head>";
        let csp = content_security_policy(&[login, account]);
        assert!(
            csp.contains(&format!(
                "; style-src 'self' {} {}; ",
                hash("a{color:red}"),
                hash("b{}")
            )),
            "{csp}"
        );
        // A script's hash is no style's, and the other way round.
        assert!(csp.contains(&format!(
            "script-src 'self' 'wasm-unsafe-eval' {};",
            hash("x()")
        )));
        assert_eq!(csp.matches("'sha256-").count(), 3, "{csp}");
    }

    #[test]
    fn allows_the_inline_scripts_of_both_pages_once_each() {
        let login = "<script>picker()</script><script type=\"module\">load('/login.js')</script>";
        let account = "<script type=\"module\">load('/account/account.js')</script>";
        let both = content_security_policy(&[login, account]);
        for body in [
            "picker()",
            "load('/login.js')",
            "load('/account/account.js')",
        ] {
            assert!(both.contains(&hash(body)), "{body}: {both}");
        }
        assert_eq!(both.matches("'sha256-").count(), 3, "{both}");
        // In the pages' order, and the rest of the policy as for one page.
        let login_only = content_security_policy(&[login]);
        assert_eq!(
            both,
            login_only.replace(
                "; style-src",
                &format!(" {}; style-src", hash("load('/account/account.js')"))
            )
        );
        // A script both pages carry is allowed once.
        let shared = content_security_policy(&[login, login]);
        assert_eq!(shared, login_only);
        // An older build: the login page alone.
        assert_eq!(login_only.matches("'sha256-").count(), 2, "{login_only}");
    }
}
