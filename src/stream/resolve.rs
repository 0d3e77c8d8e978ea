//! Plain-scalar resolution as go-yaml v2 (`resolve.go`) does it, plus the wider
//! "could any YAML reader take this for a non-string?" test the emitter needs.

use std::borrow::Cow;

/// What an untagged plain scalar means to go-yaml v2.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    /// May be infinite or NaN (`.inf`, `.nan`); JSON cannot hold those.
    Float(f64),
    Str,
}

/// go-yaml v2's `resolve("", s)` for a plain scalar.
///
/// Timestamps resolve to strings because go-yaml v2 hands them back as the
/// original text when decoding into `interface{}` (what sigs.k8s.io/yaml does).
pub(crate) fn resolve_plain(s: &str) -> Scalar {
    let Some(&first) = s.as_bytes().first() else {
        return Scalar::Null;
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            word(s).unwrap_or(Scalar::Str)
        }
        b'.' => word(s).unwrap_or_else(|| dot_float(s)),
        b'+' | b'-' | b'0'..=b'9' => word(s).unwrap_or_else(|| number(s)),
        _ => Scalar::Str,
    }
}

/// [`resolve_plain`] as go-yaml v3 does it, which is what kustomize's kyaml reads YAML with: YAML
/// 1.2's core-schema booleans (`true`, `false` as `true`/`True`/`TRUE`) only, so YAML 1.1's `y`, `n`,
/// `yes`, `no`, `on`, `off` in any case stay strings. Everything else matches go-yaml v2: v3 keeps
/// 1.1's `0755` octal and `1_000` underscores for compatibility, and the same null, float and
/// infinity words.
pub(crate) fn resolve_plain_yaml12(s: &str) -> Scalar {
    match resolve_plain(s) {
        Scalar::Bool(_) if !matches!(s, "true" | "True" | "TRUE" | "false" | "False" | "FALSE") => {
            Scalar::Str
        }
        other => other,
    }
}

/// The fixed words of go-yaml v2's resolve table (case variants exactly as listed there).
fn word(s: &str) -> Option<Scalar> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Scalar::Bool(false)
        }
        "~" | "null" | "Null" | "NULL" => Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Scalar::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Scalar::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// `strconv.ParseFloat(s)` for text starting with `.`: `.5`, `.5e3`; no underscores.
fn dot_float(s: &str) -> Scalar {
    match s.strip_prefix('.') {
        Some(rest) if float_tail(rest, true) => finite_float(s),
        _ => Scalar::Str,
    }
}

/// Ints in any base Go's `ParseInt(s, 0, 64)` accepts (after dropping `_`), then
/// YAML-style floats; out-of-range values fall through exactly as in go-yaml.
fn number(s: &str) -> Scalar {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    let (neg, signed, body) = match plain.as_bytes().first() {
        Some(b'-') => (true, true, &plain[1..]),
        Some(b'+') => (false, true, &plain[1..]),
        _ => (false, false, plain.as_str()),
    };
    if let Some(mag) = go_uint(body) {
        if neg {
            if mag <= 1u128 << 63 {
                return Scalar::Int((mag as i128).wrapping_neg() as i64);
            }
        } else if mag <= i64::MAX as u128 {
            return Scalar::Int(mag as i64);
        } else if !signed && mag <= u64::MAX as u128 {
            return Scalar::Uint(mag as u64);
        }
    }
    if is_yaml_float(&plain) {
        return finite_float(&plain);
    }
    Scalar::Str
}

/// Magnitude of an unsigned Go integer literal with base prefix (`0x`, `0o`, `0b`,
/// leading `0` = octal); `None` if malformed. Saturates above u64 so callers see overflow.
fn go_uint(body: &str) -> Option<u128> {
    let b = body.as_bytes();
    let (radix, digits) = match b {
        [b'0', b'x' | b'X', ..] => (16, &body[2..]),
        [b'0', b'o' | b'O', ..] => (8, &body[2..]),
        [b'0', b'b' | b'B', ..] => (2, &body[2..]),
        [b'0', _, ..] => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() {
        return None;
    }
    let mut acc: u128 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        acc = (acc * u128::from(radix) + u128::from(d)).min(u128::from(u64::MAX) + 1);
    }
    Some(acc)
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
pub(crate) fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    if let Some(rest) = s.strip_prefix('.') {
        return float_tail(rest, true);
    }
    let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
    if int_len == 0 {
        return false;
    }
    let rest = &s[int_len..];
    match rest.strip_prefix('.') {
        Some(frac) => float_tail(frac, false),
        None => exponent(rest),
    }
}

/// Digits (at least one if `need_digit`) followed by an optional exponent.
fn float_tail(s: &str, need_digit: bool) -> bool {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    (n > 0 || !need_digit) && exponent(&s[n..])
}

/// Empty, or `[eE][-+]?[0-9]+`.
fn exponent(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let Some(e) = s.strip_prefix(['e', 'E']) else {
        return false;
    };
    let e = e.strip_prefix(['-', '+']).unwrap_or(e);
    !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
}

/// Go's ParseFloat reports overflow as an error, and go-yaml then keeps the text.
fn finite_float(s: &str) -> Scalar {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() => Scalar::Float(f),
        _ => Scalar::Str,
    }
}

/// True when some YAML reader (go-yaml v2, YAML 1.1, YAML 1.2 core) could take the
/// plain text `s` for anything but this string, so the emitter must quote it.
pub(crate) fn is_ambiguous(s: &str) -> bool {
    let Some(&first) = s.as_bytes().first() else {
        return true;
    };
    let numeric_start = first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.');
    if !numeric_start && !b"yYnNoOtTfF~=<".contains(&first) {
        return false;
    }
    if resolve_plain(s) != Scalar::Str {
        return true;
    }
    const WORDS: [&str; 16] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".inf", "+.inf", "-.inf",
        ".nan", "=", "<<",
    ];
    if s.len() <= 5 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return true;
    }
    if !numeric_start {
        return false;
    }
    let plain: Cow<'_, str> = if s.contains('_') {
        Cow::Owned(s.replace('_', ""))
    } else {
        Cow::Borrowed(s)
    };
    // YAML 1.1 ints/floats with underscores, numbers go-yaml drops as out of
    // range (1e400), 1.1 timestamps (YYYY-...) and 1.1 base-60 numbers (1:20).
    resolve_plain(&plain) != Scalar::Str
        || is_yaml_float(&plain)
        || is_int_literal(&plain)
        || looks_like_timestamp(s)
        || looks_like_base60(s)
}

/// Any decimal/hex/octal/binary integer, whatever its size.
fn is_int_literal(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    go_uint(body).is_some()
}

fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

fn looks_like_base60(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    body.contains(':')
        && body.starts_with(|c: char| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ':' | '_' | '.'))
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`, which sigs.k8s.io/yaml uses to turn a
/// float map key into a JSON object key (`1e6: x` becomes `"1e+06"`).
pub(crate) fn go_float32_key(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    let short = f as f32;
    if short.is_infinite() {
        return if short > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    if short == 0.0 {
        return if short.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // `{:e}` yields the shortest round-trip digits: "-1.2345679e8".
    let sci = format!("{short:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // Go's shortest 'g' switches to exponent form outside 1e-4 <= |f| < 1e6.
    if !(-4..6).contains(&exp) {
        let (lead, rest) = digits.split_at(digits.len().min(1));
        let mut m = lead.to_string();
        if !rest.is_empty() {
            m.push('.');
            m.push_str(rest);
        }
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1;
    let out = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    format!("{sign}{out}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_table() {
        use Scalar::*;
        let cases: &[(&str, Scalar)] = &[
            ("", Null),
            ("~", Null),
            ("null", Null),
            ("Null", Null),
            ("NULL", Null),
            ("nULL", Str),
            ("y", Bool(true)),
            ("Y", Bool(true)),
            ("yes", Bool(true)),
            ("YES", Bool(true)),
            ("yEs", Str),
            ("on", Bool(true)),
            ("ON", Bool(true)),
            ("True", Bool(true)),
            ("n", Bool(false)),
            ("NO", Bool(false)),
            ("off", Bool(false)),
            ("Off", Bool(false)),
            ("FALSE", Bool(false)),
            ("0x1F", Int(31)),
            ("-0x1F", Int(-31)),
            ("0x_1F", Int(31)),
            ("0o17", Int(15)),
            ("017", Int(15)),
            ("08", Float(8.0)),
            ("09.5", Float(9.5)),
            ("1_000", Int(1000)),
            ("+12", Int(12)),
            ("-0", Int(0)),
            ("0b101", Int(5)),
            ("-0b11", Int(-3)),
            ("1e3", Float(1000.0)),
            ("1E+3", Float(1000.0)),
            ("1.", Float(1.0)),
            ("1.e5", Float(100000.0)),
            (".5", Float(0.5)),
            ("+.5", Float(0.5)),
            (".5_", Str),
            ("1e400", Str),
            ("9223372036854775807", Int(i64::MAX)),
            ("-9223372036854775808", Int(i64::MIN)),
            ("9223372036854775808", Uint(9223372036854775808)),
            ("18446744073709551615", Uint(u64::MAX)),
            ("18446744073709551616", Float(18446744073709551616.0)),
            ("+18446744073709551615", Float(18446744073709551615.0)),
            ("-9223372036854775809", Float(-9223372036854775809.0)),
            ("0xFFFFFFFFFFFFFFFFFF", Str),
            ("2001-12-14", Str),
            ("1:20", Str),
            ("-", Str),
            (".", Str),
            ("0x", Str),
            ("1.2.3", Str),
            ("<<", Str),
            ("NaN", Str),
        ];
        for (text, want) in cases {
            assert_eq!(&resolve_plain(text), want, "{text:?}");
        }
        assert!(matches!(resolve_plain(".nan"), Float(f) if f.is_nan()));
        assert_eq!(resolve_plain("-.Inf"), Float(f64::NEG_INFINITY));
        assert_eq!(resolve_plain("+.INF"), Float(f64::INFINITY));
    }

    #[test]
    fn yaml12_keeps_yaml11_booleans_as_strings() {
        use Scalar::*;
        for word in [
            "y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off",
            "Off", "OFF",
        ] {
            assert!(matches!(resolve_plain(word), Bool(_)), "{word}");
            assert_eq!(resolve_plain_yaml12(word), Str, "{word}");
        }
        for (word, want) in [
            ("true", Bool(true)),
            ("True", Bool(true)),
            ("TRUE", Bool(true)),
            ("false", Bool(false)),
            ("False", Bool(false)),
            ("FALSE", Bool(false)),
            ("tRUE", Str),
            ("~", Null),
            ("null", Null),
            ("", Null),
            ("0755", Int(493)),
            ("1_000", Int(1000)),
            ("0x1F", Int(31)),
            ("1e3", Float(1000.0)),
            ("2001-12-14", Str),
            ("yess", Str),
        ] {
            assert_eq!(resolve_plain_yaml12(word), want, "{word}");
        }
        assert_eq!(resolve_plain_yaml12(".inf"), Float(f64::INFINITY));
    }

    #[test]
    fn float_keys_like_go() {
        let cases = [
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1e6, "1e+06"),
            (1e7, "1e+07"),
            (1e-5, "1e-05"),
            (123456789.0, "1.2345679e+08"),
            (123456.0, "123456"),
            (0.0001, "0.0001"),
            (-2.5, "-2.5"),
            (1000.0, "1000"),
            (1e300, ".inf"),
            (f64::NEG_INFINITY, "-.inf"),
        ];
        for (f, want) in cases {
            assert_eq!(go_float32_key(f), want, "{f}");
        }
    }

    #[test]
    fn ambiguous_strings() {
        for s in [
            "yEs",
            "oN",
            "NuLl",
            "1_000",
            ".5_",
            "1e400",
            "2001-12-14",
            "1:20",
            "=",
            "<<",
            "0755",
            "0b1",
            "+1",
            ".inf",
            ".NaN",
            "-.inf",
            "0o17",
            "0x1F",
            "1e3",
            "",
        ] {
            assert!(is_ambiguous(s), "{s:?}");
        }
        for s in [
            "hello",
            "1.2.3",
            "v1",
            "nginx:1.21",
            "-foo",
            "0x",
            "yess",
            "2001",
        ] {
            let want = s == "2001";
            assert_eq!(is_ambiguous(s), want, "{s:?}");
        }
    }
}
