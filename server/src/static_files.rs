//! Serves the built app (`dist/`) behind the API, with security headers and an SPA fallback:
//! any path that is not a file gets `index.html`, so every step's URL survives a reload. Files
//! go out compressed when the build left a `.br` or `.gz` copy beside them.

use std::path::Path;

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use base64::Engine;
use sha2::{Digest, Sha256};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

pub fn serve_app(api: Router, dist: &Path) -> Router {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index).unwrap_or_default();
    let csp = content_security_policy(&html);
    // The build writes `.br` and `.gz` copies of each file (scripts/precompress.mjs); browsers
    // that accept them get those, with `Content-Encoding` and `Vary: Accept-Encoding`.
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(index)
                .precompressed_br()
                .precompressed_gzip(),
        );
    // Caches must keep the encodings apart.
    let files = SetResponseHeader::overriding(
        files,
        header::VARY,
        HeaderValue::from_static("accept-encoding"),
    );
    let fixed = |name: HeaderName, value: &str| {
        SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_str(value).expect("header values here are ASCII"),
        )
    };
    api.fallback_service(files)
        .layer(fixed(header::CONTENT_SECURITY_POLICY, &csp))
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(fixed(header::REFERRER_POLICY, "no-referrer"))
        .layer(fixed(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
}

/// A strict policy: scripts only from this origin plus the exact inline loader(s) in
/// `index.html`, WebAssembly compilation allowed, no framing. Images may also come from any
/// `https:` origin, for an Organization's logo (its URL is https-only, checked by the admin
/// CLI); an image runs no code, and every other kind of request stays on this origin.
pub fn content_security_policy(index_html: &str) -> String {
    let hashes: String = inline_scripts(index_html)
        .map(|body| {
            let digest = Sha256::digest(body.as_bytes());
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The bodies of `<script>` elements that have no `src`, exactly as the browser hashes them.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, after) = rest.split_once('>')?;
        let (body, _) = after.split_once("</script>")?;
        (!attributes.contains("src=") && !body.is_empty()).then_some(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_each_inline_script_and_skips_external_ones() {
        let html = r#"<head><script type="module">import init from '/app.js';init();</script>
            <script src="/other.js"></script><script>a()</script></head>"#;
        let csp = content_security_policy(html);
        // sha256 of the exact bodies, as `printf %s BODY | openssl dgst -sha256 -binary | base64`.
        let expect = |body: &str| {
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()))
        };
        assert!(csp.contains(&format!(
            "'sha256-{}'",
            expect("import init from '/app.js';init();")
        )));
        assert!(csp.contains(&format!("'sha256-{}'", expect("a()"))));
        assert_eq!(csp.matches("'sha256-").count(), 2);
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("'wasm-unsafe-eval'"));
        // An Organization's logo over HTTPS shows; nothing else leaves the origin.
        assert!(csp.contains("img-src 'self' data: https:;"), "{csp}");
        assert!(csp.contains("default-src 'self';"), "{csp}");
        assert!(csp.contains("connect-src 'self';"), "{csp}");
        assert!(!csp.contains("http:"), "{csp}");
    }
}
