//! The UUID text form of ids the TypeScript library made for its users
//! (`crypto.randomUUID()`): 32 hex digits in groups of 8-4-4-4-12, parsed
//! strictly, written in lowercase.

/// Where the hyphens of the canonical form are.
const HYPHENS: [usize; 4] = [8, 13, 18, 23];

/// Length of the canonical text form.
pub(super) const LEN: usize = 36;

/// The 128-bit value of canonical UUID text (either case), or the position
/// of the first character that is wrong.
pub(super) fn parse(text: &str) -> Result<u128, usize> {
    let bytes = text.as_bytes();
    if bytes.len() != LEN {
        return Err(bytes.len().min(LEN));
    }
    let mut value: u128 = 0;
    for (position, &byte) in bytes.iter().enumerate() {
        if HYPHENS.contains(&position) {
            if byte != b'-' {
                return Err(position);
            }
            continue;
        }
        let digit = (byte as char).to_digit(16).ok_or(position)?;
        value = (value << 4) | u128::from(digit);
    }
    Ok(value)
}

/// The canonical lowercase text of `value`.
pub(super) fn encode(value: u128) -> [u8; LEN] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; LEN];
    let mut shift = 128;
    for (position, slot) in out.iter_mut().enumerate() {
        if HYPHENS.contains(&position) {
            continue;
        }
        shift -= 4;
        *slot = HEX[((value >> shift) & 0xf) as usize];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_is_not_canonical() {
        let text = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
        let value = parse(text).unwrap();
        assert_eq!(std::str::from_utf8(&encode(value)).unwrap(), text);
        assert_eq!(parse("1B4E28BA-2FA1-41D2-883F-0016D3CCA427"), Ok(value), "either case");
        assert_eq!(parse("1b4e28ba2fa141d2883f0016d3cca427"), Err(32), "no hyphens");
        assert_eq!(parse("1b4e28ba-2fa1-41d2-883f_0016d3cca427"), Err(23));
        assert_eq!(parse("{b4e28ba-2fa1-41d2-883f-0016d3cca427"), Err(0));
        assert_eq!(parse("1b4e28ba-2fa1-41d2-883f-0016d3cca42g"), Err(35));
        assert_eq!(parse("1b4e28ba-2fa1-41d2-883f-0016d3cca4270"), Err(36));
        assert!(parse("1b4e28ba-2fa1-41d2-883f-0016d3cca4é").is_err(), "non-ASCII");
    }
}
