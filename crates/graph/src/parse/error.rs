//! [`ParseError`]: everything the `.adn` parser rejects, each with its `line:column`.

use std::fmt::Write as _;

use crate::GraphError;

/// A `.adn` source that does not describe a network.
///
/// Every variant carries the 1-based `line` and `col` (in characters, a tab counting as one) of
/// the offending token, and its message starts with `LINE:COL: `. [`ParseError::render`] adds
/// the source line with a caret under that column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A character that starts no token.
    #[error("{line}:{col}: unexpected character `{}`", .ch.escape_debug())]
    UnexpectedChar {
        /// Line of the character.
        line: u32,
        /// Column of the character.
        col: u32,
        /// The character.
        ch: char,
    },
    /// A token where the grammar wants something else.
    #[error("{line}:{col}: expected {expected}, found {found}")]
    UnexpectedToken {
        /// Line of the token found.
        line: u32,
        /// Column of the token found.
        col: u32,
        /// What the grammar wants there (`` `=` ``, `an expression`, `a name`, ...).
        expected: &'static str,
        /// The token found (`` `+` ``, `end of line`, ...).
        found: String,
    },
    /// A number literal that is malformed (`1e`, `2x`, `1.2.3`) or not a finite `f64`.
    #[error("{line}:{col}: invalid number `{text}`")]
    BadNumber {
        /// Line of the literal.
        line: u32,
        /// Column of the literal.
        col: u32,
        /// The literal as written.
        text: String,
    },
    /// A name that nothing in the file defines.
    #[error("{line}:{col}: unknown name `{name}`")]
    UnknownName {
        /// Line of the use.
        line: u32,
        /// Column of the use.
        col: u32,
        /// The name.
        name: String,
    },
    /// A name used on a line above (or on) the one that defines it.
    #[error("{line}:{col}: `{name}` is used before its definition on line {defined_line}")]
    UseBeforeDefinition {
        /// Line of the use.
        line: u32,
        /// Column of the use.
        col: u32,
        /// The name.
        name: String,
        /// The line that defines it.
        defined_line: u32,
    },
    /// A call of a function the language does not have.
    #[error("{line}:{col}: unknown function `{name}`")]
    UnknownFunction {
        /// Line of the function name.
        line: u32,
        /// Column of the function name.
        col: u32,
        /// The name called.
        name: String,
    },
    /// A call with the wrong number of arguments.
    #[error("{line}:{col}: `{function}` takes {expected} argument{}, got {actual}", if *.expected == 1 { "" } else { "s" })]
    Arity {
        /// Line of the function name.
        line: u32,
        /// Column of the function name.
        col: u32,
        /// The function called.
        function: String,
        /// How many arguments it takes.
        expected: usize,
        /// How many it was given.
        actual: usize,
    },
    /// A second definition of a name.
    #[error("{line}:{col}: `{name}` is already defined on line {previous_line}")]
    Redefinition {
        /// Line of the second definition.
        line: u32,
        /// Column of the name in the second definition.
        col: u32,
        /// The name.
        name: String,
        /// The line of the first definition.
        previous_line: u32,
    },
    /// A keyword (`input`, `param`, `const`, `output`) or function name used as a name.
    #[error("{line}:{col}: `{name}` is reserved (a keyword or a function) and cannot be defined")]
    ReservedName {
        /// Line of the name.
        line: u32,
        /// Column of the name.
        col: u32,
        /// The name.
        name: String,
    },
    /// A name listed twice as an output.
    #[error("{line}:{col}: `{name}` is already an output (line {previous_line})")]
    DuplicateOutput {
        /// Line of the second listing.
        line: u32,
        /// Column of the second listing.
        col: u32,
        /// The name.
        name: String,
        /// The line that first listed it.
        previous_line: u32,
    },
    /// A file with statements but no `output` line; the position is just after the last
    /// statement, where the line would go.
    #[error("{line}:{col}: no `output` line: name the network's outputs with `output NAME, ...`")]
    NoOutput {
        /// Line of the last statement.
        line: u32,
        /// Column just after it.
        col: u32,
    },
    /// A file that is empty or holds only blank lines and comments.
    #[error("{line}:{col}: empty file: declare `input`s and `param`s, define nodes as `NAME = EXPRESSION`, and list them on an `output` line")]
    Empty {
        /// Always 1.
        line: u32,
        /// Always 1.
        col: u32,
    },
    /// An expression nested too deeply (parentheses, signs or exponents) to parse safely.
    #[error("{line}:{col}: expression nested more than {limit} levels deep")]
    TooDeep {
        /// Line of the token where the limit was reached.
        line: u32,
        /// Column of that token.
        col: u32,
        /// The deepest nesting allowed.
        limit: usize,
    },
    /// The graph rejected a node the file describes.
    #[error("{line}:{col}: {source}")]
    Graph {
        /// Line of the construct.
        line: u32,
        /// Column of the construct.
        col: u32,
        /// What the graph reported.
        source: Box<GraphError>,
    },
}

impl ParseError {
    /// The 1-based line of the offending token.
    pub fn line(&self) -> u32 {
        self.position().0
    }

    /// The 1-based column (in characters) of the offending token.
    pub fn col(&self) -> u32 {
        self.position().1
    }

    fn position(&self) -> (u32, u32) {
        match *self {
            ParseError::UnexpectedChar { line, col, .. }
            | ParseError::UnexpectedToken { line, col, .. }
            | ParseError::BadNumber { line, col, .. }
            | ParseError::UnknownName { line, col, .. }
            | ParseError::UseBeforeDefinition { line, col, .. }
            | ParseError::UnknownFunction { line, col, .. }
            | ParseError::Arity { line, col, .. }
            | ParseError::Redefinition { line, col, .. }
            | ParseError::ReservedName { line, col, .. }
            | ParseError::DuplicateOutput { line, col, .. }
            | ParseError::NoOutput { line, col }
            | ParseError::Empty { line, col }
            | ParseError::TooDeep { line, col, .. }
            | ParseError::Graph { line, col, .. } => (line, col),
        }
    }

    /// The message, then the offending source line with a caret under the column, as rustc
    /// shows it:
    ///
    /// ```text
    /// 3:5: unknown function `expp`
    ///   |
    /// 3 | q = expp(y)
    ///   |     ^
    /// ```
    ///
    /// `source` should be the text that was parsed; a line past its end shows as empty.
    /// Tabs before the column are kept in the caret line so the caret stays aligned.
    ///
    /// # Examples
    /// ```
    /// let source = "input x\ny = x +\noutput y\n";
    /// let error = adnet_graph::parse(source).unwrap_err();
    /// assert_eq!(
    ///     error.render(source),
    ///     "2:8: expected an expression, found end of line\n  |\n2 | y = x +\n  |        ^\n"
    /// );
    /// ```
    pub fn render(&self, source: &str) -> String {
        let (line, col) = self.position();
        let text = source
            .split('\n')
            .nth((line as usize).saturating_sub(1))
            .unwrap_or_default();
        let text = text.strip_suffix('\r').unwrap_or(text);
        let number = line.to_string();
        let gutter = " ".repeat(number.len());
        let pad: String = text
            .chars()
            .take((col as usize).saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        // when the column lies past the line's end (a missing token at the end of the line)
        let missing = (col as usize)
            .saturating_sub(1)
            .saturating_sub(pad.chars().count());
        let mut out = String::new();
        // writing to a String cannot fail
        let _ = write!(
            out,
            "{self}\n{gutter} |\n{number} | {text}\n{gutter} | {pad}{}^\n",
            " ".repeat(missing)
        );
        out
    }
}
