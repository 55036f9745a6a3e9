//! iproute2's small parsers: `matches()` prefix matching and `strtol`-style integers.

/// iproute2 6.1 `matches(prefix, word)`: true when `prefix` is non-empty and a prefix of `word`.
pub fn matches(prefix: &[u8], word: &str) -> bool {
    !prefix.is_empty() && word.as_bytes().starts_with(prefix)
}

/// `strtol(s, &end, 0)` that must consume the whole string: leading white space, an optional
/// sign, then `0x` hex, `0` octal or decimal. Returns `None` on junk or overflow of i64.
pub fn strtol0(s: &[u8]) -> Option<i64> {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let rest = &s[i..];
    let (radix, digits) = if (rest.starts_with(b"0x") || rest.starts_with(b"0X"))
        && rest.len() > 2
        && rest[2].is_ascii_hexdigit()
    {
        (16, &rest[2..])
    } else if rest.starts_with(b"0") {
        (8, rest)
    } else {
        (10, rest)
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i128 = 0;
    for &c in digits {
        let d = (c as char).to_digit(radix)? as i128;
        v = v * radix as i128 + d;
        if v > i64::MAX as i128 + 1 {
            return None;
        }
    }
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// `get_integer(&val, s, 0)`: a C `int`.
pub fn get_integer(s: &[u8]) -> Option<i32> {
    strtol0(s).and_then(|v| i32::try_from(v).ok())
}

/// `get_s32(&val, s, 0)`.
pub fn get_s32(s: &[u8]) -> Option<i32> {
    get_integer(s)
}

/// `get_unsigned(&val, s, 0)`: a C `unsigned int`, no sign allowed.
pub fn get_unsigned(s: &[u8]) -> Option<u32> {
    if s.first() == Some(&b'-') {
        return None;
    }
    strtol0(s).and_then(|v| u32::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_is_prefix_and_never_empty() {
        assert!(matches(b"l", "list"));
        assert!(matches(b"list", "list"));
        assert!(!matches(b"lists", "list"));
        assert!(!matches(b"", "list"));
    }

    #[test]
    fn strtol_base0() {
        assert_eq!(get_integer(b"7"), Some(7));
        assert_eq!(get_integer(b"0x10"), Some(16));
        assert_eq!(get_integer(b"010"), Some(8));
        assert_eq!(get_integer(b"  5"), Some(5));
        assert_eq!(get_integer(b"-1"), Some(-1));
        assert_eq!(get_integer(b"0"), Some(0));
        assert_eq!(get_integer(b"abc"), None);
        assert_eq!(get_integer(b"12x"), None);
        assert_eq!(get_integer(b""), None);
        assert_eq!(get_integer(b"0x"), None);
        assert_eq!(get_integer(b"99999999999"), None);
        assert_eq!(get_integer(b"2147483647"), Some(i32::MAX));
        assert_eq!(get_integer(b"09"), None);
        assert_eq!(get_unsigned(b"-1"), None);
        assert_eq!(get_unsigned(b"4096"), Some(4096));
    }
}
