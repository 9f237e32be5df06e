//! Where a member goes after logging in: a `return_to` URL, if it is allowed, or the
//! Organization's console URL. No open redirect: a `return_to` is allowed only when it starts
//! with one of the allowed prefixes exactly, as text, and every prefix is an absolute URL whose
//! path ends in `/`, so the scheme, host and port of an allowed target are always the prefix's.
//!
//! The normalisers are what the admin CLI checks an Organization's URLs with; the app checks a
//! `return_to` with [`return_target_allowed`] against the Organization's `return_urls` and its
//! runtime config's list.

/// The longest URL accepted anywhere here, in bytes.
pub const MAX_URL_LENGTH: usize = 2048;

/// Why a URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    /// Empty.
    Empty,
    /// Longer than [`MAX_URL_LENGTH`].
    TooLong,
    /// Whitespace or a control character somewhere in it.
    Whitespace,
    /// A backslash, which browsers read as `/` in some places and not in others.
    Backslash,
    /// A character outside ASCII: write it percent-encoded (and a host in its `xn--` form).
    NonAscii,
    /// Not `https://…` (nor, where allowed, `http://localhost…` or `http://127.0.0.1…`).
    Scheme,
    /// `http://` for a host other than `localhost` or `127.0.0.1`.
    Insecure,
    /// A user name or password before the host (`https://user@host/`).
    UserInfo,
    /// No host, or not a DNS name or IPv4 address.
    Host,
    /// A port that is not a number from 1 to 65535.
    Port,
    /// A `?query`, not allowed here.
    Query,
    /// A `#fragment`, not allowed here.
    Fragment,
    /// A `.` or `..` path segment (also percent-encoded).
    DotSegment,
    /// A return URL prefix whose path does not end in `/`.
    NotAPrefix,
}

impl UrlError {
    /// The refusal in words, for the admin CLI.
    pub fn message(self) -> &'static str {
        match self {
            Self::Empty => "it is empty",
            Self::TooLong => "it is longer than 2048 characters",
            Self::Whitespace => "it contains whitespace or a control character",
            Self::Backslash => "it contains a backslash",
            Self::NonAscii => {
                "it contains a character outside ASCII: percent-encode it (and write a host in \
                 its xn-- form)"
            }
            Self::Scheme => "it must be an absolute URL starting with https://",
            Self::Insecure => "http:// is allowed only for localhost and 127.0.0.1: use https://",
            Self::UserInfo => "it must not carry a user name or password (user@host)",
            Self::Host => "its host must be a DNS name or an IPv4 address",
            Self::Port => "its port must be a number from 1 to 65535",
            Self::Query => "it must not have a ?query",
            Self::Fragment => "it must not have a #fragment",
            Self::DotSegment => "its path must not have . or .. segments",
            Self::NotAPrefix => "its path must end with /",
        }
    }
}

impl core::fmt::Display for UrlError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

/// An absolute URL taken apart. Scheme and host are lower case; a default port is dropped.
pub(crate) struct Url<'a> {
    scheme: &'static str,
    host: String,
    port: Option<u16>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

impl Url<'_> {
    /// Scheme, host and port: `https://console.example` (no trailing `/`).
    fn origin(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// The whole URL in normal form; an empty path becomes `/`.
    pub(crate) fn normalized(&self) -> String {
        let mut text = self.origin();
        text.push_str(if self.path.is_empty() { "/" } else { self.path });
        if let Some(query) = self.query {
            text.push('?');
            text.push_str(query);
        }
        if let Some(fragment) = self.fragment {
            text.push('#');
            text.push_str(fragment);
        }
        text
    }
}

/// Text no URL here may hold: whitespace, control characters, backslashes, non-ASCII, or more
/// than [`MAX_URL_LENGTH`] bytes.
fn check_characters(text: &str) -> Result<(), UrlError> {
    if text.len() > MAX_URL_LENGTH {
        return Err(UrlError::TooLong);
    }
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            return Err(UrlError::Whitespace);
        }
        if c == '\\' {
            return Err(UrlError::Backslash);
        }
        if !c.is_ascii() {
            return Err(UrlError::NonAscii);
        }
    }
    Ok(())
}

/// Parses an absolute `https://` URL (or `http://` for `localhost` and `127.0.0.1` when
/// `local_http`), refusing anything a browser could read differently.
pub(crate) fn parse_absolute(text: &str, local_http: bool) -> Result<Url<'_>, UrlError> {
    if text.is_empty() {
        return Err(UrlError::Empty);
    }
    check_characters(text)?;
    let (scheme, rest) = text.split_once("://").ok_or(UrlError::Scheme)?;
    let scheme = if scheme.eq_ignore_ascii_case("https") {
        "https"
    } else if scheme.eq_ignore_ascii_case("http") {
        "http"
    } else {
        return Err(UrlError::Scheme);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err(UrlError::UserInfo);
    }
    if authority.starts_with('[') {
        return Err(UrlError::Host);
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(parse_port(port)?)),
        None => (authority, None),
    };
    let host = host.to_ascii_lowercase();
    if !is_host(&host) {
        return Err(UrlError::Host);
    }
    if scheme == "http" && !(local_http && (host == "localhost" || host == "127.0.0.1")) {
        return Err(UrlError::Insecure);
    }
    let port = port.filter(|&p| !matches!((scheme, p), ("https", 443) | ("http", 80)));
    let (rest, fragment) = match rest.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (rest, None),
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if has_dot_segment(path) {
        return Err(UrlError::DotSegment);
    }
    Ok(Url {
        scheme,
        host,
        port,
        path,
        query,
        fragment,
    })
}

fn parse_port(text: &str) -> Result<u16, UrlError> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::Port);
    }
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(UrlError::Port),
    }
}

/// A DNS name of labels `a-z0-9-` (not starting or ending with `-`), in the lower case
/// `parse_absolute` gives, or an IPv4 address as four decimal numbers. A host whose last label
/// is a number (or starts `0x`) is one a browser reads as an IPv4 address, so it must be
/// written as one: `0x7f.1` is refused, not taken for a name.
fn is_host(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let last = labels.last().copied().unwrap_or_default();
    if last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x") {
        return labels.len() == 4
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 3
                    && l.bytes().all(|b| b.is_ascii_digit())
                    && (l.len() == 1 || !l.starts_with('0'))
                    && l.parse::<u8>().is_ok()
            });
    }
    host.len() <= 253
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Whether a path has a segment a browser resolves (`.`, `..`, or either percent-encoded).
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let segment = segment.to_ascii_lowercase();
        matches!(
            segment.as_str(),
            "." | ".." | "%2e" | ".%2e" | "%2e." | "%2e%2e"
        )
    })
}

/// An allowed `return_to` prefix in normal form: an absolute `https://` URL (`http://` only for
/// `localhost` and `127.0.0.1`), no user name or password, no query or fragment, scheme and
/// host in lower case, no default port, and a path ending in `/` (an origin alone gets `/`).
pub fn normalize_return_prefix(text: &str) -> Result<String, UrlError> {
    let url = parse_absolute(text, true)?;
    if url.query.is_some() {
        return Err(UrlError::Query);
    }
    if url.fragment.is_some() {
        return Err(UrlError::Fragment);
    }
    if !url.path.is_empty() && !url.path.ends_with('/') {
        return Err(UrlError::NotAPrefix);
    }
    Ok(url.normalized())
}

/// An Organization's console URL in normal form: as [`normalize_return_prefix`], except that
/// the path may be anything.
pub fn normalize_console_url(text: &str) -> Result<String, UrlError> {
    let url = parse_absolute(text, true)?;
    if url.query.is_some() {
        return Err(UrlError::Query);
    }
    if url.fragment.is_some() {
        return Err(UrlError::Fragment);
    }
    Ok(url.normalized())
}

/// Whether the app may send a member to `candidate` (a `return_to`): only if it starts, as
/// text, with one of `allowed_prefixes`, and has no whitespace, control character or
/// backslash, no `.`/`..` segment after the prefix, and at most [`MAX_URL_LENGTH`] bytes.
///
/// A prefix counts only in the normal form [`normalize_return_prefix`] gives (so it ends in
/// `/` and fixes scheme, host and port); any other entry is ignored, never loosened: normalise
/// a configured list first. Matching is exact: `HTTPS://console.example/` does not match
/// `https://console.example/`.
pub fn return_target_allowed(candidate: &str, allowed_prefixes: &[impl AsRef<str>]) -> bool {
    if check_characters(candidate).is_err() {
        return false;
    }
    allowed_prefixes.iter().any(|prefix| {
        let prefix = prefix.as_ref();
        let Some(rest) = candidate.strip_prefix(prefix) else {
            return false;
        };
        let path = rest.split(['?', '#']).next().unwrap_or_default();
        !has_dot_segment(path) && normalize_return_prefix(prefix).as_deref() == Ok(prefix)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWED: [&str; 3] = [
        "https://console.example/",
        "https://apps.example/team/",
        "http://localhost:3000/",
    ];

    #[test]
    fn allows_what_starts_with_an_allowed_prefix() {
        for candidate in [
            "https://console.example/",
            "https://console.example/projects?id=7#top",
            "https://console.example//double/slash",
            "https://console.example/@someone",
            "https://apps.example/team/board",
            "https://apps.example/team/a/b/c?x=%2F",
            "http://localhost:3000/dev",
        ] {
            assert!(
                return_target_allowed(candidate, &ALLOWED),
                "{candidate:?} should be allowed"
            );
        }
    }

    #[test]
    fn refuses_hostile_and_foreign_targets() {
        for candidate in [
            "//evil.example",
            "//console.example/",
            "https://evil.example@console.example/",
            "https://console.example.evil.example/",
            "https://console.example@evil.example/",
            "https://console.example:8443/",
            "javascript:alert(1)",
            "JavaScript:alert(1)//https://console.example/",
            "data:text/html,<script>alert(1)</script>",
            "https:\\\\evil.example",
            "https://console.example\\@evil.example/",
            "https://console.example/\\evil",
            "https://console.example/\t",
            "https://console.example/\n",
            "https://console.example/ x",
            "https://console.example/\u{0}",
            "https://console.example/\u{85}",
            "https://console.example/\u{a0}",
            "HTTPS://console.example/",
            "https://CONSOLE.example/",
            "http://console.example/",
            "https://console.example",
            "https://apps.example/",
            "https://apps.example/teamster/",
            "https://apps.example/team/../admin",
            "https://apps.example/team/%2e%2E/admin",
            "https://apps.example/team/./x",
            "https://apps.example/team/..",
            "/relative",
            "relative/path",
            "",
            " https://console.example/",
            "https://console.example/ ",
        ] {
            assert!(
                !return_target_allowed(candidate, &ALLOWED),
                "{candidate:?} should be refused"
            );
        }
        let long = format!("https://console.example/{}", "a".repeat(MAX_URL_LENGTH));
        assert!(!return_target_allowed(&long, &ALLOWED));
        let just_fits = format!(
            "https://console.example/{}",
            "a".repeat(MAX_URL_LENGTH - "https://console.example/".len())
        );
        assert!(return_target_allowed(&just_fits, &ALLOWED));
    }

    #[test]
    fn a_prefix_counts_only_in_normal_form() {
        // Without its trailing slash a prefix would let other hosts through: it is ignored.
        for prefix in [
            "https://console.example",
            "https://console.example/app",
            "HTTPS://console.example/",
            "https://console.example:443/",
            "https://user@console.example/",
            "http://console.example/",
            "https://console.example/?",
            "",
            "/",
            "//console.example/",
        ] {
            assert!(
                !return_target_allowed("https://console.example/app/x", &[prefix]),
                "prefix {prefix:?} should be ignored"
            );
            assert!(!return_target_allowed(
                "https://console.example.evil.example/",
                &[prefix]
            ));
        }
        let none: [&str; 0] = [];
        assert!(!return_target_allowed("https://console.example/", &none));
        let owned = vec![String::from("https://console.example/")];
        assert!(return_target_allowed("https://console.example/x", &owned));
    }

    #[test]
    fn normalises_a_return_prefix() {
        for (input, want) in [
            ("https://console.example", "https://console.example/"),
            ("https://console.example/", "https://console.example/"),
            ("HTTPS://Console.Example", "https://console.example/"),
            ("https://console.example:443", "https://console.example/"),
            (
                "https://console.example:8443",
                "https://console.example:8443/",
            ),
            ("https://apps.example/team/", "https://apps.example/team/"),
            ("https://apps.example/Team/", "https://apps.example/Team/"),
            ("http://localhost:3000", "http://localhost:3000/"),
            ("http://127.0.0.1:8080/app/", "http://127.0.0.1:8080/app/"),
            ("http://localhost:80/", "http://localhost/"),
            (
                "https://xn--bcher-kva.example",
                "https://xn--bcher-kva.example/",
            ),
        ] {
            assert_eq!(
                normalize_return_prefix(input).as_deref(),
                Ok(want),
                "input {input:?}"
            );
            // Normal form is a fixed point.
            assert_eq!(normalize_return_prefix(want).as_deref(), Ok(want));
        }
    }

    #[test]
    fn refuses_a_bad_return_prefix_and_says_why() {
        use UrlError::*;
        for (input, want) in [
            ("", Empty),
            ("console.example", Scheme),
            ("//console.example/", Scheme),
            ("/app/", Scheme),
            ("javascript:alert(1)", Scheme),
            ("ftp://console.example/", Scheme),
            ("http://console.example/", Insecure),
            ("http://localhost.evil.example/", Insecure),
            ("https://user@console.example/", UserInfo),
            ("https://user:pw@console.example/", UserInfo),
            ("https://evil.example@console.example/", UserInfo),
            ("https://console.example/app", NotAPrefix),
            ("https://console.example/?a=1", Query),
            ("https://console.example/#top", Fragment),
            ("https://console.example\\evil/", Backslash),
            ("https://console.example/ app/", Whitespace),
            ("https://console.example/\t", Whitespace),
            ("https://bücher.example/", NonAscii),
            ("https:///app/", Host),
            ("https://-bad.example/", Host),
            ("https://bad..example/", Host),
            ("https://[::1]/", Host),
            ("https://under_score.example/", Host),
            ("https://0x7f.1/", Host),
            ("https://127.1/", Host),
            ("https://127.0.0.01/", Host),
            ("https://256.0.0.1/", Host),
            ("https://console.example:0/", Port),
            ("https://console.example:65536/", Port),
            ("https://console.example:/", Port),
            ("https://console.example:x/", Port),
            ("https://console.example/a/../", DotSegment),
        ] {
            assert_eq!(normalize_return_prefix(input), Err(want), "input {input:?}");
        }
        let long = format!("https://console.example/{}/", "a".repeat(MAX_URL_LENGTH));
        assert_eq!(normalize_return_prefix(&long), Err(TooLong));
        assert!(!Scheme.message().is_empty());
    }

    #[test]
    fn a_console_url_may_have_any_path() {
        assert_eq!(
            normalize_console_url("HTTPS://Console.Example/Home").as_deref(),
            Ok("https://console.example/Home")
        );
        assert_eq!(
            normalize_console_url("https://console.example").as_deref(),
            Ok("https://console.example/")
        );
        assert_eq!(
            normalize_console_url("https://console.example/?a"),
            Err(UrlError::Query)
        );
        assert_eq!(
            normalize_console_url("https://console.example/#a"),
            Err(UrlError::Fragment)
        );
        assert_eq!(
            normalize_console_url("http://console.example/"),
            Err(UrlError::Insecure)
        );
        assert_eq!(
            normalize_console_url("//evil.example/"),
            Err(UrlError::Scheme)
        );
    }
}
