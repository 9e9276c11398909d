//! The recursive-descent parser: statements line by line, expressions by precedence climbing,
//! building graph nodes as it goes.
//!
//! ```text
//! file      := line*
//! line      := [statement] [# comment] end-of-line
//! statement := 'input' NAME (',' NAME)*
//!            | ('param' | 'const') NAME '=' SIGNED (',' NAME '=' SIGNED)*
//!            | 'output' NAME (',' NAME)*
//!            | NAME '=' expr
//! expr      := term (('+' | '-') term)*
//! term      := unary (('*' | '/') unary)*
//! unary     := ('-' | '+') unary | power
//! power     := atom ['^' unary]            (right-associative; `-x^2` is `-(x^2)`)
//! atom      := NUMBER | NAME | NAME '(' [expr (',' expr)*] ')' | '(' expr ')'
//! SIGNED    := ['+' | '-'] NUMBER
//! ```

use std::collections::HashMap;

use adnet_tensor::{Shape, Tensor};

use super::error::ParseError;
use super::function::{is_reserved, Function};
use super::lexer::{Lexer, Token, TokenKind};
use super::Network;
use crate::{Graph, GraphError, NodeId, Var};

/// How deeply expressions may nest (parentheses, unary signs, exponents), so that no input can
/// overflow the stack of the recursive descent.
pub(crate) const MAX_DEPTH: usize = 100;

/// A parsed (sub)expression: its node, and its value when it is known while parsing.
#[derive(Debug, Clone, Copy)]
struct Value {
    id: NodeId,
    /// The value, when the expression is made of literals and named constants only.
    constant: Option<f64>,
    /// Whether the expression is a number literal, possibly signed or parenthesised (its node
    /// is a shared scalar constant).
    literal: bool,
}

/// What a name refers to.
#[derive(Debug, Clone, Copy)]
struct Symbol {
    id: NodeId,
    line: u32,
    constant: Option<f64>,
}

pub(crate) struct Parser<'a> {
    source: &'a str,
    lexer: Lexer<'a>,
    /// The next token, not yet consumed.
    peeked: Token<'a>,
    /// Byte offset just after the last consumed token.
    last_end: usize,
    symbols: HashMap<&'a str, Symbol>,
    output_lines: HashMap<&'a str, u32>,
    network: Network,
    /// Just after the last statement, where an `output` line would go.
    last_statement_end: Option<(u32, u32)>,
    /// How many `unary` calls are open (every recursion passes through `unary`).
    depth: usize,
}

type Parsed<T> = Result<T, ParseError>;

impl<'a> Parser<'a> {
    pub fn new(source: &'a str) -> Parsed<Self> {
        let mut lexer = Lexer::new(source);
        let peeked = lexer.next_token()?;
        Ok(Parser {
            source,
            lexer,
            peeked,
            last_end: 0,
            symbols: HashMap::new(),
            output_lines: HashMap::new(),
            network: Network {
                graph: Graph::new(),
                inputs: Vec::new(),
                params: Vec::new(),
                consts: Vec::new(),
                outputs: Vec::new(),
                nodes: Vec::new(),
            },
            last_statement_end: None,
            depth: 0,
        })
    }

    /// Parses the whole source into a network.
    pub fn parse(mut self) -> Parsed<Network> {
        loop {
            match self.peeked.kind {
                TokenKind::Eof => break,
                TokenKind::Newline => {
                    self.advance()?;
                }
                _ => {
                    self.statement()?;
                    let end = self.peeked;
                    self.last_statement_end = Some((end.line, end.col));
                    match end.kind {
                        TokenKind::Newline => {
                            self.advance()?;
                        }
                        TokenKind::Eof => {}
                        _ => return Err(unexpected(&end, "end of line")),
                    }
                }
            }
        }
        let Some((line, col)) = self.last_statement_end else {
            return Err(ParseError::Empty { line: 1, col: 1 });
        };
        if self.network.outputs.is_empty() {
            return Err(ParseError::NoOutput { line, col });
        }
        Ok(self.network)
    }

    /// Consumes the peeked token and returns it.
    fn advance(&mut self) -> Parsed<Token<'a>> {
        let next = self.lexer.next_token()?;
        let token = std::mem::replace(&mut self.peeked, next);
        if !matches!(token.kind, TokenKind::Newline | TokenKind::Eof) {
            self.last_end = token.end;
        }
        Ok(token)
    }

    /// Consumes a token of `kind`, or fails saying `expected`.
    fn expect(&mut self, kind: TokenKind, expected: &'static str) -> Parsed<Token<'a>> {
        if self.peeked.kind == kind {
            self.advance()
        } else {
            Err(unexpected(&self.peeked, expected))
        }
    }

    fn eat(&mut self, kind: TokenKind) -> Parsed<bool> {
        if self.peeked.kind == kind {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn statement(&mut self) -> Parsed<()> {
        let first = self.peeked;
        if first.kind != TokenKind::Ident {
            return Err(unexpected(
                &first,
                "`input`, `param`, `const`, `output` or `NAME = EXPRESSION`",
            ));
        }
        match first.text {
            "input" => {
                self.advance()?;
                self.list(|parser, name| {
                    parser.check_definable(&name)?;
                    let id = at(&name, parser.network.graph.scalar_input(name.text))?;
                    parser.define(&name, id, None)?;
                    parser.network.inputs.push((name.text.to_string(), id));
                    Ok(())
                })
            }
            "param" | "const" => {
                self.advance()?;
                let is_param = first.text == "param";
                self.list(|parser, name| {
                    parser.check_definable(&name)?;
                    parser.expect(TokenKind::Equals, "`=`")?;
                    let value = parser.signed_number()?;
                    let id = if is_param {
                        at(&name, parser.network.graph.scalar_param(name.text, value))?
                    } else {
                        // a node of its own (not the shared scalar), so that the name does not
                        // land on other uses of the same number
                        let constant = parser.network.graph.constant(Tensor::scalar(value));
                        at(&name, constant.named(name.text))?
                    };
                    parser.define(&name, id, (!is_param).then_some(value))?;
                    let list = if is_param {
                        &mut parser.network.params
                    } else {
                        &mut parser.network.consts
                    };
                    list.push((name.text.to_string(), id));
                    Ok(())
                })
            }
            "output" => {
                self.advance()?;
                self.list(|parser, name| {
                    let symbol = parser.lookup(&name)?;
                    if let Some(&previous_line) = parser.output_lines.get(name.text) {
                        return Err(ParseError::DuplicateOutput {
                            line: name.line,
                            col: name.col,
                            name: name.text.to_string(),
                            previous_line,
                        });
                    }
                    parser.output_lines.insert(name.text, name.line);
                    parser
                        .network
                        .outputs
                        .push((name.text.to_string(), symbol.id));
                    Ok(())
                })
            }
            _ => self.node_definition(),
        }
    }

    /// `NAME (',' NAME)*`, calling `item` with each name token (`item` parses what follows it).
    fn list(&mut self, mut item: impl FnMut(&mut Self, Token<'a>) -> Parsed<()>) -> Parsed<()> {
        loop {
            let name = self.expect(TokenKind::Ident, "a name")?;
            item(self, name)?;
            if !self.eat(TokenKind::Comma)? {
                return Ok(());
            }
        }
    }

    /// `['+' | '-'] NUMBER`.
    fn signed_number(&mut self) -> Parsed<f64> {
        let negative = if self.eat(TokenKind::Minus)? {
            true
        } else {
            self.eat(TokenKind::Plus)?;
            false
        };
        let token = self.peeked;
        match token.kind {
            TokenKind::Number(value) => {
                self.advance()?;
                Ok(if negative { -value } else { value })
            }
            _ => Err(unexpected(&token, "a number")),
        }
    }

    /// `NAME = EXPRESSION`: a node named NAME.
    fn node_definition(&mut self) -> Parsed<()> {
        let name = self.advance()?;
        self.expect(TokenKind::Equals, "`=`")?;
        self.check_definable(&name)?;
        let start = self.peeked.start;
        let nodes_before = self.network.graph.len();
        let value = self.expr()?;
        let text = self.source.get(start..self.last_end).unwrap_or_default();
        // The node must be one of its own before it takes the name: a bare literal is a shared
        // scalar constant, and `p = x` would otherwise rename `x`.
        let id = if value.literal {
            let constant = value.constant.unwrap_or(f64::NAN);
            self.network.graph.constant(Tensor::scalar(constant)).id()
        } else if value.id.index() < nodes_before {
            let copy = self.network.graph.reshape(value.id, Shape::scalar());
            at(&name, copy)?
        } else {
            value.id
        };
        let named = self
            .network
            .graph
            .var(id)
            .and_then(|var| var.named(name.text));
        let id = at(&name, named)?;
        self.define(&name, id, value.constant)?;
        self.network
            .nodes
            .push((name.text.to_string(), id, text.to_string(), name.line));
        Ok(())
    }

    /// Fails unless `name` may be defined here: not reserved, not defined before.
    fn check_definable(&self, name: &Token<'a>) -> Parsed<()> {
        if is_reserved(name.text) {
            return Err(ParseError::ReservedName {
                line: name.line,
                col: name.col,
                name: name.text.to_string(),
            });
        }
        if let Some(previous) = self.symbols.get(name.text) {
            return Err(ParseError::Redefinition {
                line: name.line,
                col: name.col,
                name: name.text.to_string(),
                previous_line: previous.line,
            });
        }
        Ok(())
    }

    fn define(&mut self, name: &Token<'a>, id: NodeId, constant: Option<f64>) -> Parsed<()> {
        self.check_definable(name)?;
        self.symbols.insert(
            name.text,
            Symbol {
                id,
                line: name.line,
                constant,
            },
        );
        Ok(())
    }

    /// The symbol a name refers to, or why there is none.
    fn lookup(&self, name: &Token<'a>) -> Parsed<Symbol> {
        if let Some(&symbol) = self.symbols.get(name.text) {
            return Ok(symbol);
        }
        Err(match definition_line(self.source, name.text) {
            Some(defined_line) if !is_reserved(name.text) => ParseError::UseBeforeDefinition {
                line: name.line,
                col: name.col,
                name: name.text.to_string(),
                defined_line,
            },
            _ => ParseError::UnknownName {
                line: name.line,
                col: name.col,
                name: name.text.to_string(),
            },
        })
    }

    fn expr(&mut self) -> Parsed<Value> {
        let mut lhs = self.term()?;
        loop {
            let op = self.peeked;
            if !matches!(op.kind, TokenKind::Plus | TokenKind::Minus) {
                return Ok(lhs);
            }
            self.advance()?;
            let rhs = self.term()?;
            lhs = self.binary(&op, lhs, rhs)?;
        }
    }

    fn term(&mut self) -> Parsed<Value> {
        let mut lhs = self.unary()?;
        loop {
            let op = self.peeked;
            if !matches!(op.kind, TokenKind::Star | TokenKind::Slash) {
                return Ok(lhs);
            }
            self.advance()?;
            let rhs = self.unary()?;
            lhs = self.binary(&op, lhs, rhs)?;
        }
    }

    fn unary(&mut self) -> Parsed<Value> {
        if self.depth >= MAX_DEPTH {
            return Err(ParseError::TooDeep {
                line: self.peeked.line,
                col: self.peeked.col,
                limit: MAX_DEPTH,
            });
        }
        self.depth += 1;
        let value = self.unary_inner();
        self.depth -= 1;
        value
    }

    fn unary_inner(&mut self) -> Parsed<Value> {
        let op = self.peeked;
        match op.kind {
            TokenKind::Plus => {
                self.advance()?;
                self.unary()
            }
            TokenKind::Minus => {
                self.advance()?;
                let operand = self.unary()?;
                let constant = operand.constant.map(|v| -v);
                if operand.literal {
                    // `-3` is the constant -3, not `neg(3)`
                    let value = constant.unwrap_or(f64::NAN);
                    return Ok(Value {
                        id: self.network.graph.scalar(value).id(),
                        constant,
                        literal: true,
                    });
                }
                let id = at(&op, self.network.graph.neg(operand.id))?;
                Ok(Value {
                    id,
                    constant,
                    literal: false,
                })
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Parsed<Value> {
        let base = self.atom()?;
        let op = self.peeked;
        if op.kind != TokenKind::Caret {
            return Ok(base);
        }
        self.advance()?;
        // the exponent may carry its own sign (`2^-1`) and is right-associative (`2^3^2`)
        let exponent = self.unary()?;
        self.binary(&op, base, exponent)
    }

    fn atom(&mut self) -> Parsed<Value> {
        let token = self.peeked;
        match token.kind {
            TokenKind::Number(value) => {
                self.advance()?;
                Ok(Value {
                    id: self.network.graph.scalar(value).id(),
                    constant: Some(value),
                    literal: true,
                })
            }
            TokenKind::LParen => {
                self.advance()?;
                let inner = self.expr()?;
                self.expect(TokenKind::RParen, "`)`")?;
                Ok(inner)
            }
            TokenKind::Ident => {
                self.advance()?;
                if self.peeked.kind == TokenKind::LParen {
                    return self.call(&token);
                }
                if Function::lookup(token.text).is_some() {
                    return Err(unexpected(&self.peeked, "`(` after the function name"));
                }
                let symbol = self.lookup(&token)?;
                Ok(Value {
                    id: symbol.id,
                    constant: symbol.constant,
                    literal: false,
                })
            }
            _ => Err(unexpected(&token, "an expression")),
        }
    }

    /// `NAME '(' [expr (',' expr)*] ')'`, with `NAME` consumed and `(` peeked.
    fn call(&mut self, name: &Token<'a>) -> Parsed<Value> {
        let function = Function::lookup(name.text).ok_or_else(|| ParseError::UnknownFunction {
            line: name.line,
            col: name.col,
            name: name.text.to_string(),
        })?;
        self.advance()?;
        let mut args = Vec::new();
        if !self.eat(TokenKind::RParen)? {
            loop {
                args.push(self.expr()?);
                if self.eat(TokenKind::RParen)? {
                    break;
                }
                self.expect(TokenKind::Comma, "`,` or `)`")?;
            }
        }
        if args.len() != function.arity() {
            return Err(ParseError::Arity {
                line: name.line,
                col: name.col,
                function: name.text.to_string(),
                expected: function.arity(),
                actual: args.len(),
            });
        }
        let g = &self.network.graph;
        let x = args[0].id;
        let built = match function {
            Function::Exp => g.exp(x),
            Function::Ln => g.ln(x),
            Function::Sqrt => g.sqrt(x),
            Function::Abs => g.abs(x),
            Function::Sin => g.sin(x),
            Function::Cos => g.cos(x),
            Function::Tan => g.tan(x),
            Function::Asin => g.asin(x),
            Function::Acos => g.acos(x),
            Function::Atan => g.atan(x),
            Function::Sinh => g.sinh(x),
            Function::Cosh => g.cosh(x),
            Function::Tanh => g.tanh(x),
            Function::Sigmoid => g.sigmoid(x),
            Function::Softplus => g.softplus(x),
            Function::Softsign => g.softsign(x),
            Function::Relu => g.relu(x),
            Function::Pow => g.pow(x, args[1].id),
            Function::Min => g.minimum(x, args[1].id),
            Function::Max => g.maximum(x, args[1].id),
            Function::LeakyRelu => match args[1].constant {
                Some(slope) => g.leaky_relu(x, slope),
                // a slope that is not a constant (a parameter, say) gets a composition, so
                // that it is differentiated too
                None => g
                    .gt(x, g.scalar(0.0))
                    .and_then(|positive| g.where_(positive, x, g.mul(args[1].id, x)?)),
            },
        };
        let id = at(name, built)?;
        let constant = match (function, args.as_slice()) {
            (Function::Pow, [a, b]) => a.constant.zip(b.constant).map(|(a, b)| a.powf(b)),
            _ => None,
        };
        Ok(Value {
            id,
            constant,
            literal: false,
        })
    }

    /// `lhs op rhs` for `+ - * / ^`.
    fn binary(&mut self, op: &Token<'a>, lhs: Value, rhs: Value) -> Parsed<Value> {
        let g = &self.network.graph;
        let (built, fold): (_, fn(f64, f64) -> f64) = match op.kind {
            TokenKind::Plus => (g.add(lhs.id, rhs.id), |a, b| a + b),
            TokenKind::Minus => (g.sub(lhs.id, rhs.id), |a, b| a - b),
            TokenKind::Star => (g.mul(lhs.id, rhs.id), |a, b| a * b),
            TokenKind::Slash => (g.div(lhs.id, rhs.id), |a, b| a / b),
            // `Pow` computes `powf`, which is exact for a negative base and an integer exponent
            // (`(-2)^3` is -8) and NaN for a negative base otherwise
            _ => (g.pow(lhs.id, rhs.id), f64::powf),
        };
        let id = at(op, built)?;
        Ok(Value {
            id,
            constant: lhs.constant.zip(rhs.constant).map(|(a, b)| fold(a, b)),
            literal: false,
        })
    }
}

/// The node built, or the graph's error at `token`'s position.
fn at(token: &Token<'_>, result: Result<Var<'_>, GraphError>) -> Result<NodeId, ParseError> {
    result.map(Var::id).map_err(|source| ParseError::Graph {
        line: token.line,
        col: token.col,
        source: Box::new(source),
    })
}

fn unexpected(found: &Token<'_>, expected: &'static str) -> ParseError {
    ParseError::UnexpectedToken {
        line: found.line,
        col: found.col,
        expected,
        found: found.describe(),
    }
}

/// The first line that defines `name` (in a declaration or as `name = ...`), for telling a use
/// before the definition from an unknown name. Only called on the error path; lines that do not
/// lex are skipped.
fn definition_line(source: &str, name: &str) -> Option<u32> {
    for (index, line) in source.split('\n').enumerate() {
        let mut lexer = Lexer::new(line);
        let mut tokens = Vec::new();
        while let Ok(token) = lexer.next_token() {
            if matches!(token.kind, TokenKind::Newline | TokenKind::Eof) {
                break;
            }
            tokens.push(token);
        }
        let defines = match tokens.as_slice() {
            [first, rest @ ..] if ["input", "param", "const"].contains(&first.text) => {
                let mut expect_name = true;
                rest.iter().any(|token| {
                    let hit = expect_name && token.kind == TokenKind::Ident && token.text == name;
                    expect_name = token.kind == TokenKind::Comma;
                    hit
                })
            }
            [first, second, ..] => first.text == name && second.kind == TokenKind::Equals,
            _ => false,
        };
        if defines {
            return Some(u32::try_from(index + 1).unwrap_or(u32::MAX));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_definition_lines_of_every_kind() {
        let source = "input a, b\nparam c = 1, d = -2\nconst e = 3\nf = a\n# g = 1\n";
        for (name, line) in [("a", 1), ("b", 1), ("c", 2), ("d", 2), ("e", 3), ("f", 4)] {
            assert_eq!(definition_line(source, name), Some(line), "{name}");
        }
        assert_eq!(definition_line(source, "g"), None);
        assert_eq!(definition_line(source, "input"), None);
    }
}
