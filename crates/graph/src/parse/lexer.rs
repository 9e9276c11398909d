//! The lexer of the `.adn` formula language: source text to [`Token`]s with `line:column`.
//!
//! Columns count characters (a tab is one column), lines and columns are 1-based. `\r` is
//! whitespace, so `\r\n` files lex like `\n` files. A `#` starts a comment that runs to the end
//! of the line. The lexer walks the text with `char_indices`, so no input can make it panic.

use std::iter::Peekable;
use std::str::CharIndices;

use super::error::ParseError;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TokenKind {
    /// A name, keyword or function name: a letter or `_`, then letters, digits and `_`.
    Ident,
    /// A finite number literal (`1`, `2.5`, `1e-3`), without sign.
    Number(f64),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    LParen,
    RParen,
    Comma,
    Equals,
    /// The end of a line (statements end there).
    Newline,
    /// The end of the source.
    Eof,
}

/// One token, with its text and where it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Token<'a> {
    pub kind: TokenKind,
    /// The token's text (empty for `Newline` and `Eof`).
    pub text: &'a str,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters. `Newline` and `Eof` sit just after the line's last token,
    /// so an error about a missing `)` points where it belongs rather than after a comment.
    pub col: u32,
    /// Byte range of `text` in the source.
    pub start: usize,
    pub end: usize,
}

impl Token<'_> {
    /// How an error message shows the token: `` `x` ``, `` `+` ``, `end of line`.
    pub fn describe(&self) -> String {
        match self.kind {
            TokenKind::Newline => "end of line".to_string(),
            TokenKind::Eof => "end of file".to_string(),
            _ => format!("`{}`", self.text),
        }
    }
}

/// Turns source text into tokens, one at a time.
pub(crate) struct Lexer<'a> {
    source: &'a str,
    chars: Peekable<CharIndices<'a>>,
    line: u32,
    col: u32,
    /// The column just after the last token on the current line, if it has one.
    line_end_col: Option<u32>,
}

impl<'a> Lexer<'a> {
    pub fn new(source: &'a str) -> Self {
        let mut chars = source.char_indices().peekable();
        // a byte-order mark is not part of the text, and takes no column
        let _byte_order_mark = chars.next_if(|&(_, c)| c == '\u{feff}');
        Lexer {
            source,
            chars,
            line: 1,
            col: 1,
            line_end_col: None,
        }
    }

    fn bump(&mut self) -> Option<(usize, char)> {
        let next = self.chars.next();
        if next.is_some() {
            self.col = self.col.saturating_add(1);
        }
        next
    }

    fn offset(&mut self) -> usize {
        self.chars.peek().map_or(self.source.len(), |&(i, _)| i)
    }

    /// The next token.
    ///
    /// # Errors
    /// [`ParseError::UnexpectedChar`] or [`ParseError::BadNumber`].
    pub fn next_token(&mut self) -> Result<Token<'a>, ParseError> {
        // skip whitespace (but not newlines) and comments
        while let Some(&(_, c)) = self.chars.peek() {
            if c == '#' {
                while self.chars.next_if(|&(_, c)| c != '\n').is_some() {
                    self.col = self.col.saturating_add(1);
                }
            } else if c != '\n' && c.is_whitespace() {
                self.bump();
            } else {
                break;
            }
        }
        let start = self.offset();
        let (line, col) = (self.line, self.col);
        let Some((_, c)) = self.bump() else {
            let col = self.line_end_col.unwrap_or(col);
            return Ok(self.token(TokenKind::Eof, start, start, line, col));
        };
        let kind = match c {
            '\n' => {
                let col = self.line_end_col.take().unwrap_or(col);
                self.line = self.line.saturating_add(1);
                self.col = 1;
                return Ok(self.token(TokenKind::Newline, start, start, line, col));
            }
            '+' => TokenKind::Plus,
            '-' => TokenKind::Minus,
            '*' => TokenKind::Star,
            '/' => TokenKind::Slash,
            '^' => TokenKind::Caret,
            '(' => TokenKind::LParen,
            ')' => TokenKind::RParen,
            ',' => TokenKind::Comma,
            '=' => TokenKind::Equals,
            c if c.is_alphabetic() || c == '_' => {
                while self
                    .chars
                    .next_if(|&(_, c)| c.is_alphanumeric() || c == '_')
                    .is_some()
                {
                    self.col = self.col.saturating_add(1);
                }
                TokenKind::Ident
            }
            c if c.is_ascii_digit() || (c == '.' && self.peek_is_digit()) => {
                return self.number(start, line, col);
            }
            ch => return Err(ParseError::UnexpectedChar { line, col, ch }),
        };
        let end = self.offset();
        self.line_end_col = Some(self.col);
        Ok(self.token(kind, start, end, line, col))
    }

    fn peek_is_digit(&mut self) -> bool {
        self.chars.peek().is_some_and(|&(_, c)| c.is_ascii_digit())
    }

    /// Lexes a number whose first character is consumed. It takes every character a number
    /// could run into (letters, digits, `_`, `.`, and a sign right after an exponent's `e`), so
    /// `2x` and `1.2.3` are one bad number rather than two confusing tokens.
    fn number(&mut self, start: usize, line: u32, col: u32) -> Result<Token<'a>, ParseError> {
        let mut previous = '0';
        let mut has_letter = false;
        while let Some(&(_, c)) = self.chars.peek() {
            let exponent_sign =
                (c == '+' || c == '-') && (previous == 'e' || previous == 'E') && !has_letter;
            if c.is_alphanumeric() || c == '_' || c == '.' || exponent_sign {
                if previous.is_alphabetic() {
                    has_letter = true;
                }
                previous = c;
                self.bump();
            } else {
                break;
            }
        }
        let end = self.offset();
        let text = self.source.get(start..end).unwrap_or_default();
        // `f64::from_str` also takes `inf` and `nan`, which cannot start here (a digit or `.`
        // does), and rejects `_` separators, which is what we want.
        let value = text.parse::<f64>().ok().filter(|v| v.is_finite());
        let Some(value) = value else {
            return Err(ParseError::BadNumber {
                line,
                col,
                text: text.to_string(),
            });
        };
        self.line_end_col = Some(self.col);
        Ok(self.token(TokenKind::Number(value), start, end, line, col))
    }

    fn token(&self, kind: TokenKind, start: usize, end: usize, line: u32, col: u32) -> Token<'a> {
        Token {
            kind,
            text: self.source.get(start..end).unwrap_or_default(),
            line,
            col,
            start,
            end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Result<Vec<(TokenKind, u32, u32)>, ParseError> {
        let mut lexer = Lexer::new(source);
        let mut out = Vec::new();
        loop {
            let token = lexer.next_token()?;
            out.push((token.kind, token.line, token.col));
            if token.kind == TokenKind::Eof {
                return Ok(out);
            }
        }
    }

    #[test]
    fn lexes_numbers_in_every_spelling() -> Result<(), ParseError> {
        for (text, value) in [
            ("1", 1.0),
            ("2.5", 2.5),
            ("1e-3", 1e-3),
            ("1E+2", 100.0),
            (".5", 0.5),
            ("3.", 3.0),
        ] {
            assert_eq!(
                kinds(text)?[0].0,
                TokenKind::Number(value),
                "{text} should lex as {value}"
            );
        }
        Ok(())
    }

    #[test]
    fn rejects_malformed_numbers_as_one_token() {
        for text in ["1e", "2x", "1.2.3", "1e400", "1_000", "1e-x"] {
            let error = kinds(&format!("a = {text} + 1"));
            assert_eq!(
                error,
                Err(ParseError::BadNumber {
                    line: 1,
                    col: 5,
                    text: text.to_string()
                })
            );
        }
    }

    #[test]
    fn counts_columns_in_characters_with_tabs_as_one() -> Result<(), ParseError> {
        let tokens = kinds("\tαβ = é # ünïcode comment\r\n  x\n")?;
        assert_eq!(
            tokens,
            vec![
                (TokenKind::Ident, 1, 2),
                (TokenKind::Equals, 1, 5),
                (TokenKind::Ident, 1, 7),
                (TokenKind::Newline, 1, 8),
                (TokenKind::Ident, 2, 3),
                (TokenKind::Newline, 2, 4),
                (TokenKind::Eof, 3, 1),
            ]
        );
        Ok(())
    }

    #[test]
    fn reports_unexpected_characters_with_their_position() {
        assert_eq!(
            kinds("x = 1\ny = x $ 2"),
            Err(ParseError::UnexpectedChar {
                line: 2,
                col: 7,
                ch: '$'
            })
        );
    }

    proptest::proptest! {
        /// Any text lexes to tokens whose positions only move forward, or to an error.
        #[test]
        fn any_text_lexes_without_panicking(text in "\\PC{0,80}|[0-9eE.+\\-x ]{0,20}") {
            let mut lexer = Lexer::new(&text);
            let mut last = (1, 0);
            for _ in 0..=text.chars().count() {
                match lexer.next_token() {
                    Ok(token) => {
                        proptest::prop_assert!((token.line, token.col) >= last, "{token:?}");
                        proptest::prop_assert!(text.get(token.start..token.end).is_some());
                        last = (token.line, token.col);
                        if token.kind == TokenKind::Eof {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        }
    }

    #[test]
    fn skips_a_byte_order_mark() -> Result<(), ParseError> {
        assert_eq!(kinds("\u{feff}x")?[0], (TokenKind::Ident, 1, 1));
        Ok(())
    }
}
