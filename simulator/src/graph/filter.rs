//! The OData `$filter` subset that Microsoft Graph v1.0 clients actually send, parsed and then
//! evaluated against a directory object's JSON (camelCase names, as Graph returns them).
//!
//! The az CLI, kubelogin and MSAL tooling look objects up with a handful of forms, so that is
//! what is supported, and everything else is refused with Graph's own 400 message
//! (`Invalid filter clause: ...`) rather than silently matching nothing:
//!
//! - comparisons `eq`, `ne`, `gt`, `ge`, `lt`, `le` between a property path (`appId`,
//!   `web/homePageUrl`) and a literal: `'string'` (with `''` for a quote), integers and
//!   decimals, `true`, `false`, `null`, and bare GUIDs (`id eq 6dae42f8-...`);
//! - membership: `id in ('a', 'b')`;
//! - `and`, `or`, `not` and parentheses, nested at will (`not` binds tighter than `and`,
//!   which binds tighter than `or`; `not x eq 'y'` reads as `not (x eq 'y')`);
//! - `startswith(prop, 'x')` and `endswith(prop, 'x')`, optionally followed by `eq true` or
//!   `eq false`; any other function is an error;
//! - lambdas over collections: `identifierUris/any(s:s eq 'api://x')`, `all(...)`, and the
//!   argument-less `any()` ("the collection is not empty").
//!
//! Keywords and property names are case-insensitive, and so are string comparisons: Graph
//! compares directory strings that way. A missing property is `null`: it equals only `null`,
//! and orders against nothing. `ne` is the negation of `eq`, as in OData.
//!
//! Parsing never panics: nesting is capped at [`MAX_DEPTH`] so that a hostile filter cannot
//! overflow the stack, and `and`/`or` chains are kept flat for the same reason.

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Number, Value};

/// How deeply parentheses, `not` and lambdas may nest. Real filters nest two or three levels;
/// the cap keeps recursive parsing, evaluation and dropping well within the stack.
pub const MAX_DEPTH: usize = 64;

/// A parsed `$filter`: a boolean expression over one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// True when any part is true. Kept flat (not nested pairs) so long chains stay shallow.
    Or(Vec<Filter>),
    /// True when every part is true.
    And(Vec<Filter>),
    Not(Box<Filter>),
    Compare {
        left: Operand,
        op: CompareOp,
        right: Operand,
    },
    /// `operand in (v1, v2, ...)`: equal to any of the values.
    In {
        operand: Operand,
        values: Vec<Value>,
    },
    /// `startswith(...)` or `endswith(...)`, case-insensitive like Graph.
    Text {
        function: TextFunction,
        subject: Operand,
        affix: Operand,
    },
    /// `collection/any(v: predicate)` or `collection/all(v: predicate)`; `any()` has no predicate.
    Lambda {
        collection: Vec<String>,
        quantifier: Quantifier,
        variable: String,
        predicate: Option<Box<Filter>>,
    },
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A `/`-separated path; its first segment may name a lambda's range variable.
    Property(Vec<String>),
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFunction {
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
}

/// Why a filter was refused; `message` is what Graph puts in its `BadRequest` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub message: String,
}

impl FilterError {
    fn new(detail: impl fmt::Display) -> Self {
        FilterError { message: format!("Invalid filter clause: {detail}") }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FilterError {}

/// Parses a URL-decoded `$filter` value.
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    let tokens = lex(input)?;
    let mut parser = Parser { input, tokens, next: 0, depth: 0 };
    let filter = parser.expression()?;
    match parser.peek() {
        Token::End => Ok(filter),
        _ => Err(parser.syntax_error("end of filter")),
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A name: property, keyword or function. Keywords are recognised by the parser, so that
    /// their case does not matter.
    Ident(String),
    Str(String),
    Number(Number),
    Open,
    Close,
    Comma,
    Colon,
    Slash,
    End,
}

impl Token {
    /// How the token reads in an error message.
    fn describe(&self) -> String {
        match self {
            Token::Ident(name) => format!("'{name}'"),
            Token::Str(_) => "a string literal".to_string(),
            Token::Number(n) => format!("'{n}'"),
            Token::Open => "'('".to_string(),
            Token::Close => "')'".to_string(),
            Token::Comma => "','".to_string(),
            Token::Colon => "':'".to_string(),
            Token::Slash => "'/'".to_string(),
            Token::End => "end of input".to_string(),
        }
    }

    /// Is this the keyword `word` (in any case)?
    fn is_keyword(&self, word: &str) -> bool {
        matches!(self, Token::Ident(name) if name.eq_ignore_ascii_case(word))
    }
}

/// A token and the character position (0-based) where it starts, for error messages.
type Positioned = (Token, usize);

/// Splits the filter into tokens; the list always ends with [`Token::End`].
fn lex(input: &str) -> Result<Vec<Positioned>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c.is_whitespace() {
            at += 1;
            continue;
        }
        let (token, next) = lex_one(&chars, at)?;
        tokens.push((token, at));
        at = next;
    }
    tokens.push((Token::End, chars.len()));
    Ok(tokens)
}

/// Reads the token starting at `at`; returns it and the position after it.
fn lex_one(chars: &[char], at: usize) -> Result<(Token, usize), FilterError> {
    let punctuation = match chars[at] {
        '(' => Some(Token::Open),
        ')' => Some(Token::Close),
        ',' => Some(Token::Comma),
        ':' => Some(Token::Colon),
        '/' => Some(Token::Slash),
        _ => None,
    };
    if let Some(token) = punctuation {
        return Ok((token, at + 1));
    }
    let c = chars[at];
    if c == '\'' {
        return lex_string(chars, at);
    }
    if let Some(end) = guid_end(chars, at) {
        return Ok((Token::Str(chars[at..end].iter().collect()), end));
    }
    if c.is_ascii_digit() || (c == '-' && chars.get(at + 1).is_some_and(char::is_ascii_digit)) {
        return lex_number(chars, at);
    }
    if is_name_start(c) {
        let end = scan(chars, at + 1, is_name_char);
        return Ok((Token::Ident(chars[at..end].iter().collect()), end));
    }
    Err(FilterError::new(format!("unexpected character '{c}' at position {at}.")))
}

/// Names may start like an identifier; `$` allows OData's `$it`-style names.
fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

/// `.` inside a name allows qualified names such as `microsoft.graph.user`.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.' || c == '$'
}

/// The first position from `from` whose character fails `keep`.
fn scan(chars: &[char], from: usize, keep: impl Fn(char) -> bool) -> usize {
    let mut at = from;
    while at < chars.len() && keep(chars[at]) {
        at += 1;
    }
    at
}

/// A single-quoted string literal, where `''` stands for one quote.
fn lex_string(chars: &[char], start: usize) -> Result<(Token, usize), FilterError> {
    let mut text = String::new();
    let mut at = start + 1;
    while at < chars.len() {
        if chars[at] != '\'' {
            text.push(chars[at]);
            at += 1;
        } else if chars.get(at + 1) == Some(&'\'') {
            text.push('\'');
            at += 2;
        } else {
            return Ok((Token::Str(text), at + 1));
        }
    }
    Err(FilterError::new(format!("unterminated string literal at position {start}.")))
}

/// OData allows GUIDs unquoted; they would otherwise lex as a number or a name followed by
/// `-`. Returns the end of an `8-4-4-4-12` hex GUID at `at` that is not part of a longer name.
fn guid_end(chars: &[char], at: usize) -> Option<usize> {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut pos = at;
    for (i, len) in GROUPS.iter().enumerate() {
        if i > 0 {
            (chars.get(pos) == Some(&'-')).then_some(())?;
            pos += 1;
        }
        let end = scan(chars, pos, |c| c.is_ascii_hexdigit());
        (end - pos == *len).then_some(())?;
        pos = end;
    }
    let followed_by_name = chars.get(pos).is_some_and(|c| is_name_char(*c) || *c == '-');
    (!followed_by_name).then_some(pos)
}

/// An integer or decimal literal, optionally negative.
fn lex_number(chars: &[char], start: usize) -> Result<(Token, usize), FilterError> {
    let mut end = scan(chars, start + 1, |c| c.is_ascii_digit());
    if chars.get(end) == Some(&'.') && chars.get(end + 1).is_some_and(char::is_ascii_digit) {
        end = scan(chars, end + 1, |c| c.is_ascii_digit());
    }
    let text: String = chars[start..end].iter().collect();
    let invalid = || FilterError::new(format!("invalid number literal at position {start}."));
    if chars.get(end).is_some_and(|c| is_name_char(*c)) {
        return Err(invalid());
    }
    number_value(&text).map(|n| (Token::Number(n), end)).ok_or_else(invalid)
}

/// Integers stay exact when they fit in 64 bits; anything else becomes a finite float.
fn number_value(text: &str) -> Option<Number> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(i.into());
    }
    if let Ok(u) = text.parse::<u64>() {
        return Some(u.into());
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

/// Recursive descent over the tokens, one method per precedence level:
/// `or` < `and` < `not` < comparison / function / lambda / parentheses.
struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Positioned>,
    next: usize,
    /// Current nesting of parentheses, `not` and lambdas, capped at [`MAX_DEPTH`].
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.next].0
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        let last = self.tokens.len() - 1;
        &self.tokens[(self.next + ahead).min(last)].0
    }

    fn position(&self) -> usize {
        self.tokens[self.next].1
    }

    /// Consumes and returns the next token; `End` is never consumed past.
    fn advance(&mut self) -> Token {
        let token = self.tokens[self.next].0.clone();
        if self.next + 1 < self.tokens.len() {
            self.next += 1;
        }
        token
    }

    /// Consumes the keyword if it is next.
    fn eat_keyword(&mut self, word: &str) -> bool {
        let found = self.peek().is_keyword(word);
        if found {
            self.advance();
        }
        found
    }

    fn expect(&mut self, token: Token, what: &str) -> Result<(), FilterError> {
        if *self.peek() == token {
            self.advance();
            Ok(())
        } else {
            Err(self.syntax_error(what))
        }
    }

    /// The OData-style message: where, in what, and what was expected instead of what.
    fn syntax_error(&self, expected: &str) -> FilterError {
        FilterError::new(format!(
            "syntax error at position {} in '{}': expected {}, found {}.",
            self.position(),
            self.input,
            expected,
            self.peek().describe()
        ))
    }

    /// Runs `inner` one nesting level deeper, refusing filters nested beyond [`MAX_DEPTH`].
    fn nested<T>(&mut self, inner: impl FnOnce(&mut Self) -> Result<T, FilterError>) -> Result<T, FilterError> {
        if self.depth >= MAX_DEPTH {
            let at = self.position();
            return Err(FilterError::new(format!("filter nested more than {MAX_DEPTH} levels deep at position {at}.")));
        }
        self.depth += 1;
        let result = inner(self);
        self.depth -= 1;
        result
    }

    fn expression(&mut self) -> Result<Filter, FilterError> {
        self.chain("or", Self::conjunction, Filter::Or)
    }

    fn conjunction(&mut self) -> Result<Filter, FilterError> {
        self.chain("and", Self::unary, Filter::And)
    }

    /// `part (keyword part)*`, collected flat; a single part is returned as is.
    fn chain(
        &mut self,
        keyword: &str,
        part: fn(&mut Self) -> Result<Filter, FilterError>,
        combine: fn(Vec<Filter>) -> Filter,
    ) -> Result<Filter, FilterError> {
        let mut parts = vec![part(self)?];
        while self.eat_keyword(keyword) {
            parts.push(part(self)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { combine(parts) })
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        if self.peek().is_keyword("not") {
            return self.nested(|p| {
                p.advance();
                Ok(Filter::Not(Box::new(p.unary()?)))
            });
        }
        self.primary()
    }

    /// A parenthesised expression, a function call, a lambda or a comparison.
    fn primary(&mut self) -> Result<Filter, FilterError> {
        if *self.peek() == Token::Open {
            return self.nested(|p| {
                p.advance();
                let inner = p.expression()?;
                p.expect(Token::Close, "')'")?;
                Ok(inner)
            });
        }
        if let (Token::Ident(name), Token::Open) = (self.peek(), self.peek_at(1)) {
            let name = name.clone();
            return self.function_call(&name);
        }
        let left = match self.peek() {
            Token::Ident(name) if !is_reserved(name) => match self.path_or_lambda()? {
                PathOrLambda::Lambda(lambda) => return Ok(lambda),
                PathOrLambda::Path(path) => Operand::Property(path),
            },
            Token::Ident(name) if !is_literal_keyword(name) => return Err(self.syntax_error("an expression")),
            Token::Ident(_) | Token::Str(_) | Token::Number(_) => Operand::Literal(self.literal()?),
            _ => return Err(self.syntax_error("an expression")),
        };
        self.comparison(left)
    }

    /// `startswith(subject, affix)` or `endswith(...)`, optionally compared with a boolean.
    fn function_call(&mut self, name: &str) -> Result<Filter, FilterError> {
        let function = match name.to_ascii_lowercase().as_str() {
            "startswith" => TextFunction::StartsWith,
            "endswith" => TextFunction::EndsWith,
            _ => return Err(FilterError::new(format!("unknown function '{name}'."))),
        };
        self.advance();
        self.advance();
        let subject = self.operand()?;
        self.expect(Token::Comma, "','")?;
        let affix = self.operand()?;
        self.expect(Token::Close, "')'")?;
        let call = Filter::Text { function, subject, affix };
        self.compared_with_boolean(call)
    }

    /// Clients sometimes write `startswith(x,'y') eq true`; accept `eq`/`ne` with a boolean.
    fn compared_with_boolean(&mut self, call: Filter) -> Result<Filter, FilterError> {
        let negate_op = if self.eat_keyword("eq") {
            false
        } else if self.eat_keyword("ne") {
            true
        } else {
            return Ok(call);
        };
        let wanted = match self.literal()? {
            Value::Bool(b) => b,
            _ => return Err(self.syntax_error_before("'true' or 'false'")),
        };
        Ok(if wanted != negate_op { call } else { Filter::Not(Box::new(call)) })
    }

    /// Like [`Self::syntax_error`], but blaming the token just consumed.
    fn syntax_error_before(&mut self, expected: &str) -> FilterError {
        self.next = self.next.saturating_sub(1);
        self.syntax_error(expected)
    }

    /// A property path, which turns into a lambda when a segment is `any(` or `all(`.
    fn path_or_lambda(&mut self) -> Result<PathOrLambda, FilterError> {
        let mut path = vec![self.name()?];
        while *self.peek() == Token::Slash {
            self.advance();
            if let Some(quantifier) = self.quantifier() {
                return self.lambda(path, quantifier).map(PathOrLambda::Lambda);
            }
            path.push(self.name()?);
        }
        Ok(PathOrLambda::Path(path))
    }

    /// `any` or `all` followed by `(`; a property may be called `any` otherwise.
    fn quantifier(&self) -> Option<Quantifier> {
        if *self.peek_at(1) != Token::Open {
            return None;
        }
        if self.peek().is_keyword("any") {
            Some(Quantifier::Any)
        } else if self.peek().is_keyword("all") {
            Some(Quantifier::All)
        } else {
            None
        }
    }

    /// `any(v: predicate)`, `all(v: predicate)` or `any()`, after the collection's path.
    fn lambda(&mut self, collection: Vec<String>, quantifier: Quantifier) -> Result<Filter, FilterError> {
        self.advance();
        self.advance();
        if quantifier == Quantifier::Any && *self.peek() == Token::Close {
            self.advance();
            return Ok(Filter::Lambda { collection, quantifier, variable: String::new(), predicate: None });
        }
        let variable = self.name()?;
        self.expect(Token::Colon, "':' after the range variable")?;
        let predicate = self.nested(Self::expression)?;
        self.expect(Token::Close, "')'")?;
        Ok(Filter::Lambda { collection, quantifier, variable, predicate: Some(Box::new(predicate)) })
    }

    /// A property name: any name that is not a keyword.
    fn name(&mut self) -> Result<String, FilterError> {
        match self.peek() {
            Token::Ident(name) if !is_reserved(name) => {
                let name = name.clone();
                self.advance();
                Ok(name)
            }
            _ => Err(self.syntax_error("a property name")),
        }
    }

    /// The operator and right-hand side after `left`.
    fn comparison(&mut self, left: Operand) -> Result<Filter, FilterError> {
        if self.eat_keyword("in") {
            return Ok(Filter::In { operand: left, values: self.literal_list()? });
        }
        let op = self.compare_op()?;
        let right = self.operand()?;
        Ok(Filter::Compare { left, op, right })
    }

    fn compare_op(&mut self) -> Result<CompareOp, FilterError> {
        const OPS: [(&str, CompareOp); 6] = [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
        ];
        for (word, op) in OPS {
            if self.eat_keyword(word) {
                return Ok(op);
            }
        }
        Err(self.syntax_error("a comparison operator ('eq', 'ne', 'gt', 'ge', 'lt', 'le' or 'in')"))
    }

    /// A property path or a literal (the sides of comparisons and function arguments).
    fn operand(&mut self) -> Result<Operand, FilterError> {
        match self.peek() {
            Token::Ident(name) if !is_reserved(name) => {
                if *self.peek_at(1) == Token::Open {
                    return Err(FilterError::new(format!("unknown function '{name}'.")));
                }
                let mut path = vec![self.name()?];
                while *self.peek() == Token::Slash {
                    self.advance();
                    path.push(self.name()?);
                }
                Ok(Operand::Property(path))
            }
            _ => self.literal().map(Operand::Literal),
        }
    }

    /// `('a', 'b', ...)` after `in`.
    fn literal_list(&mut self) -> Result<Vec<Value>, FilterError> {
        self.expect(Token::Open, "'(' after 'in'")?;
        let mut values = vec![self.literal()?];
        while *self.peek() == Token::Comma {
            self.advance();
            values.push(self.literal()?);
        }
        self.expect(Token::Close, "',' or ')'")?;
        Ok(values)
    }

    fn literal(&mut self) -> Result<Value, FilterError> {
        let value = match self.peek() {
            Token::Str(s) => Value::String(s.clone()),
            Token::Number(n) => Value::Number(n.clone()),
            t if t.is_keyword("true") => Value::Bool(true),
            t if t.is_keyword("false") => Value::Bool(false),
            t if t.is_keyword("null") => Value::Null,
            _ => return Err(self.syntax_error("a literal value")),
        };
        self.advance();
        Ok(value)
    }
}

/// What a leading name turned out to be.
enum PathOrLambda {
    Path(Vec<String>),
    Lambda(Filter),
}

/// Names that are values, never properties.
fn is_literal_keyword(name: &str) -> bool {
    ["true", "false", "null"].iter().any(|k| name.eq_ignore_ascii_case(k))
}

/// Keywords cannot name properties; refusing them gives clearer errors for `a/ eq 'x'`.
fn is_reserved(name: &str) -> bool {
    const OPERATORS: [&str; 10] = ["and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "in"];
    is_literal_keyword(name) || OPERATORS.iter().any(|k| name.eq_ignore_ascii_case(k))
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

/// What names resolve against: the object, and the lambda range variables in scope
/// (innermost last).
struct Scope<'v> {
    root: &'v Value,
    variables: Vec<(&'v str, &'v Value)>,
}

impl Filter {
    /// Does the object (a Graph resource's JSON) satisfy the filter?
    pub fn matches(&self, object: &Value) -> bool {
        self.eval(&mut Scope { root: object, variables: Vec::new() })
    }

    fn eval<'v>(&'v self, scope: &mut Scope<'v>) -> bool {
        match self {
            Filter::Or(parts) => parts.iter().any(|p| p.eval(scope)),
            Filter::And(parts) => parts.iter().all(|p| p.eval(scope)),
            Filter::Not(inner) => !inner.eval(scope),
            Filter::Compare { left, op, right } => compare(scope.resolve(left), *op, scope.resolve(right)),
            Filter::In { operand, values } => {
                let value = scope.resolve(operand);
                values.iter().any(|v| equal(value, Some(v)))
            }
            Filter::Text { function, subject, affix } => {
                text_matches(*function, scope.resolve(subject), scope.resolve(affix))
            }
            Filter::Lambda { collection, quantifier, variable, predicate } => {
                eval_lambda(scope, collection, *quantifier, variable, predicate.as_deref())
            }
        }
    }
}

impl Filter {
    /// Does the filter read, from the object itself (not from a lambda's range variable),
    /// only properties among `names` (ignoring case, as property lookup does)? Then an
    /// object whose `names` alone fail it fails it whole, and a list need not render the rest
    /// of that object.
    pub fn reads_only(&self, names: &[&str]) -> bool {
        self.reads_within(names, &mut Vec::new())
    }

    fn reads_within<'f>(&'f self, names: &[&str], bound: &mut Vec<&'f str>) -> bool {
        // A path's first segment names a range variable in scope (exactly, as `resolve_path`
        // matches it) or a property of the object.
        let path = |path: &[String], bound: &[&str]| {
            path.first().is_none_or(|first| bound.contains(&first.as_str()) || names.iter().any(|n| n.eq_ignore_ascii_case(first)))
        };
        let operand = |o: &Operand, bound: &[&str]| match o {
            Operand::Literal(_) => true,
            Operand::Property(p) => path(p, bound),
        };
        match self {
            Filter::Or(parts) | Filter::And(parts) => parts.iter().all(|p| p.reads_within(names, bound)),
            Filter::Not(inner) => inner.reads_within(names, bound),
            Filter::Compare { left, right, .. } => operand(left, bound) && operand(right, bound),
            Filter::In { operand: o, .. } => operand(o, bound),
            Filter::Text { subject, affix, .. } => operand(subject, bound) && operand(affix, bound),
            Filter::Lambda { collection, variable, predicate, .. } => {
                if !path(collection, bound) {
                    return false;
                }
                let Some(predicate) = predicate else { return true };
                bound.push(variable);
                let reads = predicate.reads_within(names, bound);
                bound.pop();
                reads
            }
        }
    }
}

impl<'v> Scope<'v> {
    /// The value an operand stands for; `None` when a property is missing.
    fn resolve(&self, operand: &'v Operand) -> Option<&'v Value> {
        match operand {
            Operand::Literal(value) => Some(value),
            Operand::Property(path) => self.resolve_path(path),
        }
    }

    /// Follows a path from the innermost range variable it starts with, else from the object.
    fn resolve_path(&self, path: &[String]) -> Option<&'v Value> {
        let (first, rest) = path.split_first()?;
        let bound = self.variables.iter().rev().find(|(name, _)| *name == first.as_str());
        let (start, rest) = match bound {
            Some((_, value)) => (*value, rest),
            None => (self.root, path),
        };
        rest.iter().try_fold(start, |value, segment| property(value, segment))
    }
}

/// A property of an object: exact name first, then case-insensitively as Graph allows.
fn property<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    let object = value.as_object()?;
    object.get(name).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// `any` holds when some element satisfies the predicate, `all` when every one does (so, as in
/// OData, `all` holds for an empty or missing collection); a scalar property matches neither.
fn eval_lambda<'v>(
    scope: &mut Scope<'v>,
    collection: &'v [String],
    quantifier: Quantifier,
    variable: &'v str,
    predicate: Option<&'v Filter>,
) -> bool {
    let items: &'v [Value] = match scope.resolve_path(collection) {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(_) => return false,
    };
    let Some(predicate) = predicate else {
        return !items.is_empty();
    };
    let mut holds = |item: &'v Value| {
        scope.variables.push((variable, item));
        let result = predicate.eval(scope);
        scope.variables.pop();
        result
    };
    match quantifier {
        Quantifier::Any => items.iter().any(&mut holds),
        Quantifier::All => items.iter().all(&mut holds),
    }
}

/// Missing properties and JSON `null` are the same thing to a filter.
fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

fn compare(left: Option<&Value>, op: CompareOp, right: Option<&Value>) -> bool {
    match op {
        CompareOp::Eq => equal(left, right),
        CompareOp::Ne => !equal(left, right),
        CompareOp::Gt => order(left, right) == Some(Ordering::Greater),
        CompareOp::Ge => matches!(order(left, right), Some(Ordering::Greater | Ordering::Equal)),
        CompareOp::Lt => order(left, right) == Some(Ordering::Less),
        CompareOp::Le => matches!(order(left, right), Some(Ordering::Less | Ordering::Equal)),
    }
}

/// `null` equals only `null`; everything else must be the same kind and order as equal.
fn equal(left: Option<&Value>, right: Option<&Value>) -> bool {
    match (present(left), present(right)) {
        (None, None) => true,
        (None, _) | (_, None) => false,
        _ => order(left, right) == Some(Ordering::Equal),
    }
}

/// Orders two scalars of the same kind: strings case-insensitively, numbers numerically.
/// Anything else (nulls, mixed kinds, arrays, objects) is unordered.
fn order(left: Option<&Value>, right: Option<&Value>) -> Option<Ordering> {
    match (present(left)?, present(right)?) {
        (Value::String(a), Value::String(b)) => Some(a.to_lowercase().cmp(&b.to_lowercase())),
        (Value::Number(a), Value::Number(b)) => order_numbers(a, b),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// Exact for integers, by `f64` when either side is a decimal.
fn order_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
        return Some(a.cmp(&b));
    }
    if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
        return Some(a.cmp(&b));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// `startswith` / `endswith` on strings, case-insensitively; false for anything else.
fn text_matches(function: TextFunction, subject: Option<&Value>, affix: Option<&Value>) -> bool {
    let (Some(Value::String(subject)), Some(Value::String(affix))) = (subject, affix) else {
        return false;
    };
    let (subject, affix) = (subject.to_lowercase(), affix.to_lowercase());
    match function {
        TextFunction::StartsWith => subject.starts_with(&affix),
        TextFunction::EndsWith => subject.ends_with(&affix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const SP_GUID: &str = "6dae42f8-4368-4678-94ff-3960e28e3630";

    /// An object with a bit of every shape Graph returns.
    fn object() -> Value {
        json!({
            "id": "11111111-2222-3333-4444-555555555555",
            "appId": "0b1e6d8c-5a3f-4f1b-9d2e-7c8a9b0c1d2e",
            "displayName": "My App",
            "userPrincipalName": "a@b.com",
            "mailNickname": "G",
            "clientId": "c0ffee00-0000-4000-8000-000000000001",
            "resourceId": "deadbeef-0000-4000-8000-000000000002",
            "securityEnabled": true,
            "mailEnabled": false,
            "description": null,
            "count": 3,
            "ratio": 0.5,
            "identifierUris": ["api://myAKSServer"],
            "servicePrincipalNames": [SP_GUID, "https://myapp.example.com"],
            "tags": [],
            "web": { "homePageUrl": "https://home.example.com", "redirectUris": ["https://r1", "https://r2"] },
            "appRoles": [
                { "value": "Reader", "isEnabled": true },
                { "value": "Writer", "isEnabled": true }
            ],
            "nameWithQuote": "O'Brien"
        })
    }

    fn check(cases: &[(&str, bool)]) {
        let object = object();
        for (filter, expected) in cases {
            let parsed = parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
            assert_eq!(parsed.matches(&object), *expected, "{filter}");
        }
    }

    #[test]
    fn equality_on_the_properties_clients_look_up() {
        check(&[
            ("appId eq '0b1e6d8c-5a3f-4f1b-9d2e-7c8a9b0c1d2e'", true),
            ("appId eq '0B1E6D8C-5A3F-4F1B-9D2E-7C8A9B0C1D2E'", true),
            ("appId eq '0b1e6d8c-5a3f-4f1b-9d2e-7c8a9b0c1d2f'", false),
            ("displayName eq 'My App'", true),
            ("displayName eq 'my app'", true),
            ("displayName eq 'My App2'", false),
            ("userPrincipalName eq 'a@b.com'", true),
            ("userPrincipalName eq 'A@B.COM'", true),
            ("userPrincipalName eq 'b@b.com'", false),
            ("clientId eq 'c0ffee00-0000-4000-8000-000000000001'", true),
            ("resourceId eq 'deadbeef-0000-4000-8000-000000000002'", true),
            ("clientId eq 'deadbeef-0000-4000-8000-000000000002'", false),
            ("nameWithQuote eq 'O''Brien'", true),
            ("nameWithQuote eq 'OBrien'", false),
            ("'My App' eq displayName", true),
            ("true eq securityEnabled", true),
        ]);
    }

    #[test]
    fn unquoted_guids_are_string_literals() {
        check(&[
            ("appId eq 0b1e6d8c-5a3f-4f1b-9d2e-7c8a9b0c1d2e", true),
            ("resourceId eq deadbeef-0000-4000-8000-000000000002", true),
            ("id in (11111111-2222-3333-4444-555555555555, 'x')", true),
            ("appId eq 0b1e6d8c-5a3f-4f1b-9d2e-7c8a9b0c1d2f", false),
        ]);
    }

    #[test]
    fn boolean_operators_and_nesting() {
        check(&[
            ("displayName eq 'My App' and mailNickname eq 'G'", true),
            ("displayName eq 'My App' and mailNickname eq 'H'", false),
            ("displayName eq 'Other' or mailNickname eq 'G'", true),
            ("displayName eq 'Other' or mailNickname eq 'H'", false),
            ("not displayName eq 'Other'", true),
            ("not (displayName eq 'My App')", false),
            ("not(displayName eq 'My App')", false),
            ("not not displayName eq 'My App'", true),
            ("(displayName eq 'Other' or mailNickname eq 'G') and securityEnabled eq true", true),
            ("displayName eq 'Other' or mailNickname eq 'G' and securityEnabled eq false", false),
            ("displayName eq 'My App' or mailNickname eq 'H' and securityEnabled eq false", true),
            ("((((displayName eq 'My App'))))", true),
            ("a eq 'x' or b eq 'y' or c eq 'z' or displayName eq 'My App'", true),
            ("displayName eq 'My App' and (count eq 3 and (not (mailEnabled eq true)))", true),
        ]);
    }

    #[test]
    fn keywords_are_case_insensitive_and_whitespace_is_flexible() {
        check(&[
            ("displayName EQ 'My App' AND mailNickname Eq 'G'", true),
            ("displayName eq 'X' Or NOT mailNickname eq 'H'", true),
            ("  displayName   eq\t'My App'  ", true),
            ("startswith(displayName, 'my')", true),
            ("StartsWith( displayName ,'my' )", true),
            ("identifierUris/ANY( s : s EQ 'api://myAKSServer' )", true),
            ("securityEnabled eq TRUE", true),
            ("DisplayName eq 'My App'", true),
        ]);
    }

    #[test]
    fn startswith_and_endswith() {
        check(&[
            ("startswith(displayName,'myAKS')", false),
            ("startswith(displayName,'My')", true),
            ("startswith(displayName,'my a')", true),
            ("startswith(displayName,'App')", false),
            ("endswith(displayName,'APP')", true),
            ("endswith(displayName,'My')", false),
            ("startswith(missing,'a')", false),
            ("startswith(count,'3')", false),
            ("startswith(displayName,'My') eq true", true),
            ("startswith(displayName,'My') eq false", false),
            ("startswith(displayName,'My') ne true", false),
            ("startswith(displayName,'Zz') ne true", true),
            ("not startswith(displayName,'Zz')", true),
            ("startswith(displayName,'My') and endswith(userPrincipalName,'@b.com')", true),
        ]);
    }

    #[test]
    fn lambdas_over_collections() {
        check(&[
            ("identifierUris/any(s:s eq 'api://myAKSServer')", true),
            ("identifierUris/any(s:s eq 'api://other')", false),
            (&format!("servicePrincipalNames/any(c:c eq '{SP_GUID}')"), true),
            ("servicePrincipalNames/any(c:c eq 'https://other')", false),
            ("servicePrincipalNames/any(x:startswith(x,'https://'))", true),
            ("servicePrincipalNames/all(x:startswith(x,'https://'))", false),
            ("web/redirectUris/all(u:startswith(u,'https://r'))", true),
            ("tags/all(t:t eq 'x')", true),
            ("tags/any(t:t eq 'x')", false),
            ("missing/any(t:t eq 'x')", false),
            ("displayName/any(t:t eq 'x')", false),
            ("identifierUris/any()", true),
            ("tags/any()", false),
            ("appRoles/any(r:r/value eq 'Writer' and r/isEnabled eq true)", true),
            ("appRoles/any(r:r/value eq 'Admin')", false),
            ("appRoles/all(r:r/isEnabled eq true)", true),
            ("appRoles/any(r:r/value eq 'Reader' and displayName eq 'My App')", true),
            ("appRoles/any(r:appRoles/any(q:q/value ne r/value))", true),
            ("not identifierUris/any(s:s eq 'api://other')", true),
        ]);
    }

    #[test]
    fn other_operators_and_literals() {
        check(&[
            ("displayName ne 'Other'", true),
            ("displayName ne 'My App'", false),
            ("id in ('a', '11111111-2222-3333-4444-555555555555')", true),
            ("id in ('a','b')", false),
            ("displayName in ('my app')", true),
            ("securityEnabled eq true", true),
            ("securityEnabled eq false", false),
            ("mailEnabled eq false", true),
            ("securityEnabled eq 'true'", false),
            ("count eq 3", true),
            ("count eq 4", false),
            ("count gt 2 and count ge 3 and count lt 4 and count le 3", true),
            ("count gt 3", false),
            ("count eq -3", false),
            ("ratio lt 1", true),
            ("ratio eq 0.5", true),
            ("displayName gt 'A' and displayName lt 'n'", true),
            ("description eq null", true),
            ("missing eq null", true),
            ("displayName eq null", false),
            ("displayName ne null", true),
            ("missing ne null", false),
            ("missing eq 'x'", false),
            ("missing gt 1", false),
            ("missing ne 'x'", true),
        ]);
    }

    #[test]
    fn nested_properties() {
        check(&[
            ("web/homePageUrl eq 'https://home.example.com'", true),
            ("web/homePageUrl eq 'x'", false),
            ("web/missing eq null", true),
            ("displayName/length eq 6", false),
            ("web eq 'x'", false),
        ]);
    }

    #[test]
    fn parses_to_a_flat_ast() {
        let f = parse("a eq 'x' and b eq 1 and c/d in ('y')").unwrap();
        let prop = |p: &[&str]| Operand::Property(p.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            f,
            Filter::And(vec![
                Filter::Compare { left: prop(&["a"]), op: CompareOp::Eq, right: Operand::Literal(json!("x")) },
                Filter::Compare { left: prop(&["b"]), op: CompareOp::Eq, right: Operand::Literal(json!(1)) },
                Filter::In { operand: prop(&["c", "d"]), values: vec![json!("y")] },
            ])
        );
    }

    fn error(input: &str) -> String {
        match parse(input) {
            Ok(f) => panic!("{input} parsed as {f:?}"),
            Err(e) => {
                assert_eq!(e.to_string(), e.message);
                e.message
            }
        }
    }

    #[test]
    fn errors_name_the_problem_and_where() {
        let cases = [
            ("appId eq", "syntax error at position 8 in 'appId eq': expected a literal value, found end of input."),
            ("appId eq 'abc", "unterminated string literal at position 9."),
            ("displayName eq 'O''Brien", "unterminated string literal at position 15."),
            ("contains(displayName,'x')", "unknown function 'contains'."),
            ("displayName eq tolower('x')", "unknown function 'tolower'."),
            ("", "syntax error at position 0 in '': expected an expression, found end of input."),
            (
                "appId",
                "syntax error at position 5 in 'appId': expected a comparison operator ('eq', 'ne', 'gt', 'ge', 'lt', 'le' or 'in'), found end of input.",
            ),
            ("appId == 'x'", "unexpected character '=' at position 6."),
            (
                "appId eq 'x' and",
                "syntax error at position 16 in 'appId eq 'x' and': expected an expression, found end of input.",
            ),
            (
                "appId eq 'x' and )",
                "syntax error at position 17 in 'appId eq 'x' and )': expected an expression, found ')'.",
            ),
            ("appId eq and", "syntax error at position 9 in 'appId eq and': expected a literal value, found 'and'."),
            ("and eq 'x'", "syntax error at position 0 in 'and eq 'x'': expected an expression, found 'and'."),
            (
                "true eq securityEnabled and",
                "syntax error at position 27 in 'true eq securityEnabled and': expected an expression, found end of input.",
            ),
            ("appId eq 'x')", "syntax error at position 12 in 'appId eq 'x')': expected end of filter, found ')'."),
            ("(appId eq 'x'", "syntax error at position 13 in '(appId eq 'x'': expected ')', found end of input."),
            (
                "appId eq 'x' 'y'",
                "syntax error at position 13 in 'appId eq 'x' 'y'': expected end of filter, found a string literal.",
            ),
            (
                "id in 'a'",
                "syntax error at position 6 in 'id in 'a'': expected '(' after 'in', found a string literal.",
            ),
            (
                "id in ('a' 'b')",
                "syntax error at position 11 in 'id in ('a' 'b')': expected ',' or ')', found a string literal.",
            ),
            (
                "x/any(s s eq 'a')",
                "syntax error at position 8 in 'x/any(s s eq 'a')': expected ':' after the range variable, found 's'.",
            ),
            (
                "startswith(displayName)",
                "syntax error at position 22 in 'startswith(displayName)': expected ',', found ')'.",
            ),
            (
                "startswith(a,'b') eq 'yes'",
                "syntax error at position 21 in 'startswith(a,'b') eq 'yes'': expected 'true' or 'false', found a string literal.",
            ),
            ("count eq 12abc", "invalid number literal at position 9."),
            ("web/ eq 'x'", "syntax error at position 5 in 'web/ eq 'x'': expected a property name, found 'eq'."),
        ];
        for (input, detail) in cases {
            assert_eq!(error(input), format!("Invalid filter clause: {detail}"), "{input}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}a eq 'b'{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(
            error(&deep).starts_with("Invalid filter clause: filter nested more than 64 levels deep at position 64")
        );
        let nots = format!("{}a eq 'b'", "not ".repeat(10_000));
        assert!(error(&nots).contains("nested more than"));
        let ok = format!("{}a eq 'b'{}", "(".repeat(60), ")".repeat(60));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn long_flat_chains_evaluate_without_deep_recursion() {
        let chain = vec!["a eq 'b'"; 50_000].join(" or ") + " or displayName eq 'My App'";
        assert!(parse(&chain).unwrap().matches(&object()));
    }

    #[test]
    fn reads_only_names_the_properties_read_from_the_object() {
        let reads = |f: &str, keys: &[&str]| parse(f).unwrap().reads_only(keys);
        assert!(reads("appId eq 'x'", &["appId"]));
        assert!(reads("APPID eq 'x' or id in ('a', 'b')", &["appId", "id"]), "names are compared ignoring case");
        assert!(!reads("appId eq 'x' and web/homePageUrl eq 'y'", &["appId"]));
        assert!(reads("web/homePageUrl eq 'y'", &["web"]), "a path is read through its first segment");
        assert!(!reads("appId eq displayName", &["appId"]), "a property on the right is read too");
        assert!(!reads("startswith(displayName, 'a')", &["appId"]));
        assert!(reads("servicePrincipalNames/any(c: c eq 'x')", &["servicePrincipalNames"]), "a range variable is not a property");
        assert!(!reads("servicePrincipalNames/any(c: c eq appId)", &["servicePrincipalNames"]));
        assert!(!reads("servicePrincipalNames/any(c: C eq 'x')", &["servicePrincipalNames"]), "variables match exactly, as evaluation binds them");
        assert!(reads("a/any(x: x/b/any(y: y eq 1 and x/c eq 2))", &["a"]), "nested range variables");
        assert!(reads("tags/any()", &["tags"]));
    }

    /// Filters over `id`, `appId`, `other` and the collection `names`, some reading an outer
    /// property from inside a lambda: for [`reads_only`](Filter::reads_only)'s property test.
    fn keyed_filter() -> impl Strategy<Value = String> {
        let prop = prop::sample::select(vec!["id", "appId", "APPID", "other"]);
        let value = prop::sample::select(vec!["'a'", "'b'", "null"]);
        let leaf = prop_oneof![
            (prop.clone(), value.clone()).prop_map(|(p, v)| format!("{p} eq {v}")),
            (prop.clone(), value.clone()).prop_map(|(p, v)| format!("{p} ne {v}")),
            value.clone().prop_map(|v| format!("names/any(c: c eq {v})")),
            prop.clone().prop_map(|p| format!("names/all(c: c eq {p})")),
            prop.prop_map(|p| format!("startswith({p}, 'a')")),
            Just("names/any()".to_string()),
        ];
        leaf.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|t| format!("not ({t})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
                (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) or ({b})")),
            ]
        })
    }

    /// A strategy for property names that are not keywords the parser gives meaning to.
    fn property_name() -> impl Strategy<Value = String> {
        "[a-zA-Z_][a-zA-Z0-9_]{0,15}".prop_filter("not a keyword", |name| !is_reserved(name))
    }

    fn quote(value: &str) -> String {
        format!("'{}'", value.replace('\'', "''"))
    }

    /// Filter-shaped noise: real tokens in random order, to reach deep into the parser.
    fn token_soup() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec![
            "(",
            ")",
            ",",
            ":",
            "/",
            "'",
            "''",
            "'a'",
            "eq",
            "ne",
            "in",
            "and",
            "or",
            "not",
            "any",
            "all",
            "x",
            "s",
            "startswith",
            "endswith",
            "true",
            "null",
            "12",
            "-3",
            "1.5",
            SP_GUID,
            "gt",
            " ",
        ]);
        prop::collection::vec(token, 0..30).prop_map(|tokens| tokens.join(" "))
    }

    /// A random and/or/not tree over comparisons of three properties with two values.
    #[derive(Debug, Clone)]
    enum Tree {
        Leaf(usize, bool),
        Not(Box<Tree>),
        And(Box<Tree>, Box<Tree>),
        Or(Box<Tree>, Box<Tree>),
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = (0usize..3, any::<bool>()).prop_map(|(p, v)| Tree::Leaf(p, v));
        leaf.prop_recursive(6, 48, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|t| Tree::Not(Box::new(t))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Tree::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner).prop_map(|(a, b)| Tree::Or(Box::new(a), Box::new(b))),
            ]
        })
    }

    fn leaf_text(p: usize, v: bool) -> String {
        format!("p{p} eq '{}'", if v { "yes" } else { "no" })
    }

    impl Tree {
        /// The model: plain boolean logic over the object's values.
        fn truth(&self, values: &[bool; 3]) -> bool {
            match self {
                Tree::Leaf(p, v) => values[*p] == *v,
                Tree::Not(t) => !t.truth(values),
                Tree::And(a, b) => a.truth(values) && b.truth(values),
                Tree::Or(a, b) => a.truth(values) || b.truth(values),
            }
        }

        /// Every subexpression parenthesised.
        fn full(&self) -> String {
            match self {
                Tree::Leaf(p, v) => leaf_text(*p, *v),
                Tree::Not(t) => format!("not ({})", t.full()),
                Tree::And(a, b) => format!("({}) and ({})", a.full(), b.full()),
                Tree::Or(a, b) => format!("({}) or ({})", a.full(), b.full()),
            }
        }

        /// Parentheses only where precedence needs them (`not` > `and` > `or`).
        fn minimal(&self, needed: u8) -> String {
            let (text, own) = match self {
                Tree::Leaf(p, v) => (leaf_text(*p, *v), 3),
                Tree::Not(t) => (format!("NOT {}", t.minimal(3)), 3),
                Tree::And(a, b) => (format!("{} And {}", a.minimal(2), b.minimal(2)), 2),
                Tree::Or(a, b) => (format!("{} OR {}", a.minimal(1), b.minimal(1)), 1),
            };
            if own < needed { format!("({text})") } else { text }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_input_never_panics(input in "\\PC{0,80}") {
            if let Ok(filter) = parse(&input) {
                filter.matches(&object());
            }
        }

        #[test]
        fn filter_shaped_noise_never_panics(input in token_soup()) {
            match parse(&input) {
                Ok(filter) => { filter.matches(&object()); }
                Err(e) => prop_assert!(e.message.starts_with("Invalid filter clause: ")),
            }
        }

        #[test]
        fn eq_matches_exactly_the_quoted_value(name in property_name(), value in "\\PC{0,24}", other in "\\PC{0,24}") {
            prop_assume!(value.to_lowercase() != other.to_lowercase());
            let filter = parse(&format!("{name} eq {}", quote(&value))).unwrap();
            let with = |v: String| json!({ name.clone(): v });
            let (same, shouted) = (with(value.clone()), with(value.to_ascii_uppercase()));
            let (unequal, longer, empty) = (with(other), with(format!("{value}x")), json!({}));
            prop_assert!(filter.matches(&same));
            prop_assert!(filter.matches(&shouted));
            prop_assert!(!filter.matches(&unequal));
            prop_assert!(!filter.matches(&longer));
            prop_assert!(!filter.matches(&empty));
        }

        /// What lets a list test an object's lookup properties before rendering the rest: a
        /// filter that reads only `keys` judges the object by those alone.
        #[test]
        fn a_filter_reading_only_keys_judges_an_object_by_its_keys(
            f in keyed_filter(),
            values in prop::collection::vec(prop::sample::select(vec![Some("a"), Some("b"), None]), 3),
            names in prop::collection::vec(prop::sample::select(vec!["a", "b"]), 0..3),
        ) {
            let filter = parse(&f).unwrap();
            let mut object = json!({ "names": names });
            for (p, v) in ["id", "appId", "other"].iter().zip(&values) {
                if let Some(v) = v { object[*p] = json!(v); }
            }
            let keys = ["id", "appId", "names"];
            let projected: serde_json::Map<String, Value> = object.as_object().unwrap().iter().filter(|(k, _)| keys.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
            prop_assert_eq!(filter.reads_only(&keys), !f.contains("other"), "{}", f);
            if filter.reads_only(&keys) {
                prop_assert_eq!(filter.matches(&Value::Object(projected)), filter.matches(&object), "{}", f);
            }
        }

        #[test]
        fn and_or_not_trees_evaluate_like_boolean_logic(t in tree(), values in any::<[bool; 3]>()) {
            let object = json!({
                "p0": if values[0] { "yes" } else { "no" },
                "p1": if values[1] { "YES" } else { "No" },
                "p2": if values[2] { "yes" } else { "no" },
            });
            let expected = t.truth(&values);
            prop_assert_eq!(parse(&t.full()).unwrap().matches(&object), expected, "{}", t.full());
            prop_assert_eq!(parse(&t.minimal(0)).unwrap().matches(&object), expected, "{}", t.minimal(0));
        }
    }
}
