//! The built-in functions of the `.adn` language and the words that cannot be defined.

/// The statement keywords, which cannot name anything.
const KEYWORDS: [&str; 4] = ["input", "param", "const", "output"];

/// A built-in function of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Function {
    Exp,
    Ln,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Sigmoid,
    Softplus,
    Softsign,
    Relu,
    LeakyRelu,
    Pow,
    Min,
    Max,
}

impl Function {
    pub fn lookup(name: &str) -> Option<Function> {
        Some(match name {
            "exp" => Function::Exp,
            "ln" | "log" => Function::Ln,
            "sqrt" => Function::Sqrt,
            "abs" => Function::Abs,
            "sin" => Function::Sin,
            "cos" => Function::Cos,
            "tan" => Function::Tan,
            "asin" => Function::Asin,
            "acos" => Function::Acos,
            "atan" => Function::Atan,
            "sinh" => Function::Sinh,
            "cosh" => Function::Cosh,
            "tanh" => Function::Tanh,
            "sigmoid" => Function::Sigmoid,
            "softplus" => Function::Softplus,
            "softsign" => Function::Softsign,
            "relu" => Function::Relu,
            "leaky_relu" => Function::LeakyRelu,
            "pow" => Function::Pow,
            "min" => Function::Min,
            "max" => Function::Max,
            _ => return None,
        })
    }

    pub fn arity(self) -> usize {
        match self {
            Function::LeakyRelu | Function::Pow | Function::Min | Function::Max => 2,
            _ => 1,
        }
    }
}

/// Whether `name` is a keyword or a function, and so cannot be defined.
pub(crate) fn is_reserved(name: &str) -> bool {
    KEYWORDS.contains(&name) || Function::lookup(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_name_is_reserved_and_has_an_arity() {
        for name in [
            "exp",
            "ln",
            "log",
            "sqrt",
            "abs",
            "sin",
            "cos",
            "tan",
            "asin",
            "acos",
            "atan",
            "sinh",
            "cosh",
            "tanh",
            "sigmoid",
            "softplus",
            "softsign",
            "relu",
            "leaky_relu",
            "pow",
            "min",
            "max",
        ] {
            assert!(is_reserved(name), "{name}");
            let function = Function::lookup(name).expect("listed above");
            let binary = ["leaky_relu", "pow", "min", "max"].contains(&name);
            assert_eq!(function.arity(), if binary { 2 } else { 1 }, "{name}");
        }
        assert_eq!(Function::lookup("log"), Function::lookup("ln"));
        assert!(!is_reserved("expp"));
    }
}
