//! iproute2's `json_writer` for the shapes `ip netns` prints: an array of flat objects.
//!
//! Byte rules (from `lib/json_writer.c` and the golden transcripts): without `-p` there is no
//! whitespace at all; with `-p` the array opens as `[ `, keys sit on their own line indented by
//! four spaces per level and are written `"k": v`, an object closes on a new line, the next
//! object follows the `}` straight after a `,`, and the array closes as ` ]`.
//! Strings escape only `\t \n \r \f \b \\ "`; every other byte goes out raw.

/// A value in an object.
pub enum Val<'a> {
    Str(&'a [u8]),
    Int(i64),
    Bool(bool),
    Null,
    /// Already formatted (a decimal number).
    Raw(&'a [u8]),
}

/// iproute2's `json_writer`: a depth, a pretty flag and a pending separator. Output goes to
/// a byte buffer that callers hand to stdout.
pub struct Writer {
    pretty: bool,
    depth: usize,
    /// `,` once something was written at this level, NUL right after an opening or a key.
    sep: bool,
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn new(pretty: bool) -> Self {
        Writer {
            pretty,
            depth: 0,
            sep: false,
            buf: Vec::new(),
        }
    }

    fn eol(&mut self) {
        if self.pretty {
            self.buf.push(b'\n');
            for _ in 0..self.depth {
                self.buf.extend_from_slice(b"    ");
            }
        }
    }

    fn eor(&mut self) {
        if self.sep {
            self.buf.push(b',');
        }
        self.sep = true;
    }

    fn begin(&mut self, c: u8) {
        self.eor();
        self.buf.push(c);
        self.depth += 1;
        self.sep = false;
    }

    fn end(&mut self, c: u8) {
        self.depth -= 1;
        if self.sep {
            self.eol();
        }
        self.buf.push(c);
        self.sep = true;
    }

    /// `"key": ` (the value follows).
    pub fn name(&mut self, key: &str) {
        self.eor();
        self.eol();
        self.sep = false;
        escape_into(&mut self.buf, key.as_bytes());
        self.buf.push(b':');
        if self.pretty {
            self.buf.push(b' ');
        }
    }

    pub fn value(&mut self, v: Val<'_>) {
        self.eor();
        match v {
            Val::Str(s) => escape_into(&mut self.buf, s),
            Val::Int(n) => self.buf.extend_from_slice(n.to_string().as_bytes()),
            Val::Bool(t) => self
                .buf
                .extend_from_slice(if t { b"true" } else { b"false" }),
            Val::Null => self.buf.extend_from_slice(b"null"),
            Val::Raw(r) => self.buf.extend_from_slice(r),
        }
    }

    pub fn field(&mut self, key: &str, v: Val<'_>) {
        self.name(key);
        self.value(v);
    }

    pub fn start_object(&mut self) {
        self.begin(b'{');
    }

    pub fn end_object(&mut self) {
        self.end(b'}');
    }

    pub fn start_array(&mut self) {
        self.begin(b'[');
        if self.pretty {
            self.buf.push(b' ');
        }
    }

    pub fn end_array(&mut self) {
        if self.pretty && self.sep {
            self.buf.push(b' ');
        }
        self.sep = false;
        self.end(b']');
    }

    /// An array of strings under `key`.
    pub fn str_array<S: AsRef<[u8]>>(&mut self, key: &str, items: &[S]) {
        self.name(key);
        self.start_array();
        for i in items {
            self.value(Val::Str(i.as_ref()));
        }
        self.end_array();
    }

    /// Take what was written so far (to stream records as they are printed).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

/// The document shape `ip -j` prints: one top-level array of objects, then a newline.
pub struct Array {
    w: Writer,
}

impl Array {
    pub fn new(pretty: bool) -> Self {
        let mut w = Writer::new(pretty);
        w.start_array();
        Array { w }
    }

    /// Append one flat object with its keys in the given order.
    pub fn object(&mut self, fields: &[(&str, Val<'_>)]) {
        self.w.start_object();
        for (k, v) in fields {
            let v = match v {
                Val::Str(s) => Val::Str(s),
                Val::Int(n) => Val::Int(*n),
                Val::Bool(b) => Val::Bool(*b),
                Val::Null => Val::Null,
                Val::Raw(r) => Val::Raw(r),
            };
            self.w.field(k, v);
        }
        self.w.end_object();
    }

    /// The writer, for objects with nested arrays.
    pub fn writer(&mut self) -> &mut Writer {
        &mut self.w
    }

    /// Take the text written so far (used to stream records as they arrive).
    pub fn take(&mut self) -> Vec<u8> {
        self.w.take()
    }

    /// Close the array and return the remaining bytes, with the final newline.
    pub fn finish(mut self) -> Vec<u8> {
        self.w.end_array();
        self.w.buf.push(b'\n');
        self.w.buf
    }
}

/// Write `s` as a JSON string with iproute2's escaping.
pub fn escape_into(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(pretty: bool, items: &[(&[u8], Option<i64>)]) -> String {
        let mut a = Array::new(pretty);
        for (name, id) in items {
            match id {
                Some(id) => a.object(&[("name", Val::Str(name)), ("id", Val::Int(*id))]),
                None => a.object(&[("name", Val::Str(name))]),
            }
        }
        String::from_utf8(a.finish()).unwrap()
    }

    #[test]
    fn compact_matches_golden_json_ids() {
        let s = list(
            false,
            &[(b"ns3", Some(0)), (b"ns2", Some(16)), (b"ns1", Some(7))],
        );
        assert_eq!(s, "[{\"name\":\"ns3\",\"id\":0},{\"name\":\"ns2\",\"id\":16},{\"name\":\"ns1\",\"id\":7}]\n");
    }

    #[test]
    fn pretty_matches_golden_json_pretty_ids() {
        let s = list(true, &[(b"ns3", Some(0)), (b"ns2", Some(16))]);
        assert_eq!(
            s,
            "[ {\n        \"name\": \"ns3\",\n        \"id\": 0\n    },{\n        \"name\": \"ns2\",\n        \"id\": 16\n    } ]\n"
        );
    }

    #[test]
    fn empty_arrays() {
        assert_eq!(list(false, &[]), "[]\n");
        assert_eq!(list(true, &[]), "[ ]\n");
    }

    #[test]
    fn escaping_matches_json_odd_names() {
        let s = list(
            false,
            &[
                ("über".as_bytes(), None),
                (b"b\\s", None),
                (b"t\tb", None),
                (b"q\"x", None),
            ],
        );
        assert_eq!(s, "[{\"name\":\"über\"},{\"name\":\"b\\\\s\"},{\"name\":\"t\\tb\"},{\"name\":\"q\\\"x\"}]\n");
        let mut v = Vec::new();
        escape_into(&mut v, b"\x01\x0c\x08\r\n");
        assert_eq!(v, b"\"\x01\\f\\b\\r\\n\"");
    }
}

#[cfg(test)]
mod writer_tests {
    use super::*;

    #[test]
    fn nested_arrays_match_ip_link_json() {
        for (pretty, want) in [
            (false, "[{\"ifindex\":1,\"flags\":[\"LOOPBACK\",\"UP\"],\"addr_info\":[]}]\n"),
            (true, "[ {\n        \"ifindex\": 1,\n        \"flags\": [ \"LOOPBACK\",\"UP\" ],\n        \"addr_info\": [ ]\n    } ]\n"),
        ] {
            let mut a = Array::new(pretty);
            let w = a.writer();
            w.start_object();
            w.field("ifindex", Val::Int(1));
            w.str_array("flags", &["LOOPBACK", "UP"]);
            w.name("addr_info");
            w.start_array();
            w.end_array();
            w.end_object();
            assert_eq!(String::from_utf8(a.finish()).unwrap(), want);
        }
    }

    #[test]
    fn nested_objects_indent_like_addr_info() {
        let mut a = Array::new(true);
        let w = a.writer();
        w.start_object();
        w.name("addr_info");
        w.start_array();
        w.start_object();
        w.field("family", Val::Str(b"inet"));
        w.end_object();
        w.end_array();
        w.end_object();
        let s = String::from_utf8(a.finish()).unwrap();
        assert_eq!(s, "[ {\n        \"addr_info\": [ {\n                \"family\": \"inet\"\n            } ]\n    } ]\n");
    }
}
