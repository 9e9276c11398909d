//! The `.adn` formula language: a network written one node per line, parsed into a [`Graph`].
//!
//! ```text
//! # comment to end of line
//! input x, y                      # scalar inputs, in this order
//! param alpha = 0.8, beta = 1.2   # trainable parameters with initial values
//! const c = 3.0                   # named constants (not differentiated)
//! p = alpha*x + exp(y)            # one node per line: NAME = EXPRESSION
//! q = ln(beta*x + y)
//! o = p*q + c
//! output o                        # one or more outputs, comma separated
//! ```
//!
//! Expressions are built from numbers (`1`, `2.5`, `1e-3`), names, `+ - * / ^`, parentheses
//! and calls. `^` is right-associative and binds tighter than unary minus (`-x^2` is
//! `-(x^2)`, `2^3^2` is `2^9`). The functions are `exp`, `ln` (also `log`), `sqrt`, `abs`,
//! `sin`, `cos`, `tan`, `asin`, `acos`, `atan`, `sinh`, `cosh`, `tanh`, `sigmoid`, `softplus`,
//! `softsign`, `relu`, `leaky_relu(x, slope)`, `pow(a, b)`, `min(a, b)` and `max(a, b)`.
//!
//! - A power of a negative base is defined where the exponent is an integer (`(-2)^3` is -8);
//!   otherwise it is NaN, as `powf` gives.
//! - `leaky_relu(x, s)` is `x` for `x > 0` and `s·x` otherwise. A constant slope (a literal, a
//!   named constant, or arithmetic on them) uses the `LeakyRelu` op; any other slope (a
//!   parameter, say) is built as `where(x > 0, x, s·x)`, so it is differentiated too.
//! - Declarations may repeat (several `param` lines) and take signed literals (`param w = -4.9`).
//!   Several `output` lines add up.
//! - A name must be defined above its use and only once; keywords (`input`, `param`, `const`,
//!   `output`) and function names cannot be defined.
//! - Number literals become shared scalar constants ([`Graph::scalar`]); `-3` is the constant -3.
//!   A `const` gets a node of its own, named after it.
//! - Each `NAME = EXPRESSION` gets a node named `NAME`. When the expression adds no node of its
//!   own (`p = x`, `p = 3`), the name goes on a copy (a scalar reshape, or a new constant), so
//!   it never renames another node.
//!
//! Every error is a [`ParseError`] with the `line:column` of the offending token;
//! [`ParseError::render`] shows the line with a caret under it.
//!
//! # Examples
//! ```
//! use adnet_graph::{parse, Graph};
//!
//! let network = parse("input x\nparam w = -2\ny = w*x^2 + 1\noutput y\n")?;
//! let (name, y) = &network.outputs[0];
//! assert_eq!(name, "y");
//! assert_eq!(network.graph.eval(*y, &[("x", 3.0)])?, -17.0);
//!
//! let network = Graph::parse("input x\noutput x\n")?;
//! assert_eq!(network.inputs.len(), 1);
//! # Ok::<(), adnet_graph::GraphError>(())
//! ```

mod error;
mod function;
mod lexer;
mod parser;

pub use error::ParseError;

use crate::{Graph, NodeId};

/// A network parsed from `.adn` source: its graph and the names the file gave its nodes.
///
/// Every value is an `f64` scalar. The lists are in the order of the file.
#[derive(Debug, Clone)]
pub struct Network {
    /// The graph holding every node the file describes.
    pub graph: Graph,
    /// The `input` declarations: name and node, in order (the order a caller passes values in).
    pub inputs: Vec<(String, NodeId)>,
    /// The `param` declarations, with their initial values in the graph.
    pub params: Vec<(String, NodeId)>,
    /// The `const` declarations.
    pub consts: Vec<(String, NodeId)>,
    /// The names on the `output` line(s), in order.
    pub outputs: Vec<(String, NodeId)>,
    /// Each `NAME = EXPRESSION` line: the name, its node, the expression's source text (without
    /// comment) and the 1-based line.
    pub nodes: Vec<(String, NodeId, String, u32)>,
}

/// Parses `.adn` source into a [`Network`].
///
/// Parsing stops at the first error. Any input, valid UTF-8 or not turned into it lossily,
/// gives a network or an error; nothing panics.
///
/// # Errors
/// A [`ParseError`] at the first problem: a character or token out of place
/// ([`ParseError::UnexpectedChar`], [`ParseError::UnexpectedToken`], [`ParseError::BadNumber`]),
/// a name that is unknown, used before its definition, defined twice or reserved, an unknown
/// function or wrong number of arguments, a file without an `output` line
/// ([`ParseError::NoOutput`]), or one with no statements at all ([`ParseError::Empty`]).
///
/// # Examples
/// ```
/// let error = adnet_graph::parse("input x\ny = expp(x)\noutput y\n").unwrap_err();
/// assert_eq!(error.to_string(), "2:5: unknown function `expp`");
/// assert_eq!((error.line(), error.col()), (2, 5));
/// ```
pub fn parse(source: &str) -> Result<Network, ParseError> {
    parser::Parser::new(source)?.parse()
}

impl Graph {
    /// Parses `.adn` source into a [`Network`] (its graph and named nodes); see [`parse`].
    ///
    /// # Errors
    /// As [`parse`].
    pub fn parse(source: &str) -> Result<Network, ParseError> {
        parse(source)
    }
}
