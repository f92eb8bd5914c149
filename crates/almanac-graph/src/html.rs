//! Graph event bodies: Graph wraps HTML bodies in a whole document
//! (`<html><head>…</head><body>…</body></html>`) on the way back, so a body written as
//! a fragment would look changed on every read. The wrapper is removed on read; a plain
//! text rendering is derived for search, previews and the text field.

/// The content of `<body>` when `html` is a whole document, else `html` itself.
pub fn unwrap_document(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let Some(open) = lower.find("<body") else {
        return html.trim().to_string();
    };
    let Some(open_end) = lower[open..].find('>').map(|i| open + i + 1) else {
        return html.trim().to_string();
    };
    let close = lower
        .rfind("</body>")
        .filter(|&c| c >= open_end)
        .unwrap_or(html.len());
    html[open_end..close].trim().to_string()
}

/// Text of an HTML fragment: tags dropped (block ends become line breaks), the common
/// entities decoded, runs of blank lines collapsed. Never interprets anything.
///
/// A line end in the source right after such a tag is no second break: Graph keeps a
/// text body as HTML with `<br>` and a line end for each line break, and its text
/// must read back as the text written (else it looks changed here on every read).
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut broke = false;
    while let Some(lt) = rest.find('<') {
        out.push_str(after_break(&rest[..lt], broke));
        let Some(gt) = rest[lt..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[lt + 1..lt + gt]
            .trim_start_matches('/')
            .to_ascii_lowercase();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        broke = matches!(
            name.as_str(),
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4"
        );
        if broke {
            out.push('\n');
        }
        rest = &rest[lt + gt + 1..];
    }
    out.push_str(after_break(rest, broke));
    let decoded = decode_entities(&out);
    let mut lines: Vec<&str> = Vec::new();
    for line in decoded.lines().map(str::trim_end) {
        if line.trim().is_empty() && lines.last().is_some_and(|l| l.trim().is_empty()) {
            continue;
        }
        lines.push(line);
    }
    lines.join("\n").trim().to_string()
}

/// `text`, without the line end that follows a tag that broke the line (`broke`).
fn after_break(text: &str, broke: bool) -> &str {
    if !broke {
        return text;
    }
    text.strip_prefix("\r\n")
        .or_else(|| text.strip_prefix('\n'))
        .unwrap_or(text)
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        // An entity is short: its `;` is looked for nearby only (a body of `&`s with no
        // `;` searched to its end from each one would be quadratic). ASCII: a char
        // boundary.
        let end = tail.as_bytes().iter().take(11).position(|&b| b == b';');
        let decoded = end.and_then(|e| entity(&tail[1..e]));
        match (decoded, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &tail[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" | "#39" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code).filter(|c| !c.is_control() || *c == '\n')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_of_ampersands_reads_in_one_pass() {
        // 400k `&` with no `;`: each one's entity is looked for nearby only (searched to
        // the end from each, this took seconds, growing with the square of the length).
        let body = "&".repeat(400_000) + "&amp;";
        let text = to_text(&body);
        assert_eq!(text.len(), 400_001);
        assert!(text.ends_with("&&"));
    }

    #[test]
    fn graph_wrapper_is_removed_and_fragments_pass() {
        let doc = "<html><head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head><body><p>Agenda: <b>renewal</b></p></body></html>";
        assert_eq!(unwrap_document(doc), "<p>Agenda: <b>renewal</b></p>");
        assert_eq!(unwrap_document("<p>x</p>"), "<p>x</p>");
        assert_eq!(unwrap_document("<BODY class=x>y</BODY>"), "y");
        // A round trip fragment → document → fragment is stable.
        let frag = "<p>Hi &amp; welcome</p>";
        let wrapped = format!("<html><head></head><body>{frag}</body></html>");
        assert_eq!(unwrap_document(&wrapped), frag);
    }

    #[test]
    fn text_rendering_is_plain_and_safe() {
        // Paragraphs stay apart by one blank line.
        assert_eq!(
            to_text("<p>Hi &amp; welcome</p><p>Line&nbsp;2 &lt;x&gt;</p>"),
            "Hi & welcome\n\nLine\u{a0}2 <x>"
        );
        assert_eq!(to_text("a<br>b<br/>c"), "a\nb\nc");
        // As Graph keeps a text body: a break and a line end are one line break.
        assert_eq!(
            to_text("Agenda:<br>\r\nPricing<br>\r\n<br>\r\nNext steps"),
            "Agenda:\nPricing\n\nNext steps"
        );
        assert_eq!(to_text("a<br>\nb\r\nc"), "a\nb\nc");
        assert_eq!(to_text("<script>alert(1)</script>ok"), "alert(1)ok");
        for hostile in [
            "<",
            "<<<>",
            "&",
            "&#xFFFFFFFF;",
            "&#0;",
            "<p",
            "&amp",
            "<body>",
        ] {
            let _ = to_text(hostile);
            let _ = unwrap_document(hostile);
        }
    }
}
