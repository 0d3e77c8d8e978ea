//! Base64 as Go reads it (`encoding/json` for `[]byte`, go-yaml for `!!binary`): standard alphabet,
//! padded, line breaks ignored, stray bits in the last character tolerated.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Decodes `text`, or `None` when Go would reject it.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b'\r' | b'\n'))
        .collect();
    GO_STD.decode(compact).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_go() {
        assert_eq!(decode_base64("dmFsdWUx").unwrap(), b"value1");
        assert_eq!(
            decode_base64("dmFsdWUxY2hhbmdlZA==").unwrap(),
            b"value1changed"
        );
        assert_eq!(decode_base64("YQ==").unwrap(), b"a");
        assert_eq!(decode_base64("YWI=").unwrap(), b"ab");
        assert_eq!(decode_base64("dmFs\ndWUx\r\n").unwrap(), b"value1");
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(
            decode_base64("YR==").unwrap(),
            b"a",
            "stray bits are ignored like Go's StdEncoding"
        );
        for bad in [
            "YQ",
            "Y===",
            "YQ==YQ==",
            "YQ=a",
            "a b=",
            "é===",
            "dmFsdWUx=",
        ] {
            assert_eq!(decode_base64(bad), None, "{bad}");
        }
    }
}
