//! A minimal server-sent events parser: bytes in, `(event, data)` pairs out.
//!
//! Follows the parts of the EventSource format providers use: `event:` and `data:` fields
//! (several `data:` lines are joined with `\n`), comments (`:` lines) ignored, events
//! dispatched on a blank line, `\n`, `\r\n` or `\r` line ends, chunks split anywhere
//! (even inside a UTF-8 sequence).

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field (`message` when absent).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Incremental parser state.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buf: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
    /// The last byte seen was `\r`: a `\n` right after it ends no further line.
    last_was_cr: bool,
}

/// Longest line accepted (a guard against a server that never sends a newline).
const MAX_LINE: usize = 4 * 1024 * 1024;

impl SseParser {
    /// Feeds a chunk; returns the events completed by it.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, String> {
        let mut out = Vec::new();
        for &b in chunk {
            match b {
                b'\n' if self.last_was_cr => self.last_was_cr = false,
                b'\n' => self.line(&mut out),
                b'\r' => {
                    self.line(&mut out);
                    self.last_was_cr = true;
                }
                _ => {
                    self.last_was_cr = false;
                    self.buf.push(b);
                    if self.buf.len() > MAX_LINE {
                        return Err("a server-sent event line was too long".to_owned());
                    }
                }
            }
        }
        Ok(out)
    }

    fn line(&mut self, out: &mut Vec<SseEvent>) {
        let line = String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned();
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                out.push(SseEvent {
                    event: self.event.take().unwrap_or_else(|| "message".to_owned()),
                    data,
                });
            }
            self.event = None;
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_str(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
    }

    /// The stream ended: an event without its closing blank line is still delivered.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.buf.is_empty() {
            let mut out = Vec::new();
            self.line(&mut out);
        }
        self.data.take().map(|data| SseEvent {
            event: self.event.take().unwrap_or_else(|| "message".to_owned()),
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(p.push(c).unwrap());
        }
        out.extend(p.finish());
        out
    }

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn events_split_anywhere() {
        let text = b"event: ping\ndata: {}\n\n: comment\ndata: a\ndata: b\n\ndata:[DONE]\n\n";
        let whole = all(&[text]);
        assert_eq!(
            whole,
            vec![
                ev("ping", "{}"),
                ev("message", "a\nb"),
                ev("message", "[DONE]")
            ]
        );
        for split in 1..text.len() {
            assert_eq!(
                all(&[&text[..split], &text[split..]]),
                whole,
                "split at {split}"
            );
        }
    }

    #[test]
    fn crlf_and_cr_line_ends() {
        let text = b"data: x\r\n\r\ndata: y\r\rdata: z\n\n";
        let expected = vec![ev("message", "x"), ev("message", "y"), ev("message", "z")];
        assert_eq!(all(&[text]), expected);
        for split in 1..text.len() {
            assert_eq!(
                all(&[&text[..split], &text[split..]]),
                expected,
                "split at {split}"
            );
        }
    }

    #[test]
    fn unterminated_last_event_is_delivered_by_finish() {
        assert_eq!(all(&[b"data: tail"]), vec![ev("message", "tail")]);
        assert_eq!(all(&[b"event: x\n"]), vec![]);
    }

    #[test]
    fn utf8_split_inside_a_character() {
        let text = "data: caf\u{e9}\n\n".as_bytes();
        let cut = text.len() - 3;
        assert_eq!(
            all(&[&text[..cut], &text[cut..]]),
            vec![ev("message", "caf\u{e9}")]
        );
    }
}
