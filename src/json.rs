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
}

/// Writes one JSON array of objects into a byte buffer.
pub struct Array {
    pretty: bool,
    buf: Vec<u8>,
    objects: usize,
}

impl Array {
    pub fn new(pretty: bool) -> Self {
        Array {
            pretty,
            buf: vec![b'['],
            objects: 0,
        }
    }

    /// Append one object with its keys in the given order.
    pub fn object(&mut self, fields: &[(&str, Val<'_>)]) {
        let b = &mut self.buf;
        if self.objects > 0 {
            b.push(b',');
        } else if self.pretty {
            b.push(b' ');
        }
        b.push(b'{');
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            if self.pretty {
                b.extend_from_slice(b"\n        ");
            }
            escape_into(b, k.as_bytes());
            b.push(b':');
            if self.pretty {
                b.push(b' ');
            }
            match v {
                Val::Str(s) => escape_into(b, s),
                Val::Int(n) => b.extend_from_slice(n.to_string().as_bytes()),
                Val::Bool(t) => b.extend_from_slice(if *t { b"true" } else { b"false" }),
            }
        }
        if self.pretty {
            b.extend_from_slice(b"\n    ");
        }
        b.push(b'}');
        self.objects += 1;
    }

    /// Take the text written so far (used to stream records as they arrive).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Close the array and return the remaining bytes, with the final newline.
    pub fn finish(mut self) -> Vec<u8> {
        if self.pretty {
            self.buf.push(b' ');
        }
        self.buf.extend_from_slice(b"]\n");
        self.buf
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
