//! Bound expressions: `[expect]` limits written in terms of the scenario's own fields, so a
//! bound scales with the run (`"0.5 * log2(peers.count) + 1.2"`).
//!
//! Grammar: numbers, dotted scenario fields (`peers.count`, `churn.mean_session_s`), `+ - * /`,
//! `^` (power, right-associative), unary minus, parentheses, and the functions `log2`, `ln`,
//! `log10`, `sqrt`, `abs` (one argument) and `min`, `max` (two).

use serde_json::Value;

/// Evaluates `text` with the scenario's fields `fields` (the scenario as JSON). The error
/// says what is wrong and where (a 1-based character column).
pub fn evaluate(text: &str, fields: &Value) -> Result<f64, String> {
    let mut p = Parser {
        chars: text.chars().collect(),
        at: 0,
        fields,
    };
    let v = p.sum()?;
    p.skip_space();
    if p.at < p.chars.len() {
        return Err(p.error(&format!("unexpected `{}`", p.chars[p.at])));
    }
    if !v.is_finite() {
        return Err(format!("`{text}` is not a finite number ({v})"));
    }
    Ok(v)
}

struct Parser<'a> {
    chars: Vec<char>,
    at: usize,
    fields: &'a Value,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        let text: String = self.chars.iter().collect();
        format!("{what} at column {} of `{text}`", self.at + 1)
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn skip_while(&mut self, mut more: impl FnMut(char) -> bool) {
        while self.chars.get(self.at).is_some_and(|&c| more(c)) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.chars.get(self.at) == Some(&c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn sum(&mut self) -> Result<f64, String> {
        let mut v = self.product()?;
        loop {
            if self.eat('+') {
                v += self.product()?;
            } else if self.eat('-') {
                v -= self.product()?;
            } else {
                return Ok(v);
            }
        }
    }

    fn product(&mut self) -> Result<f64, String> {
        let mut v = self.power()?;
        loop {
            if self.eat('*') {
                v *= self.power()?;
            } else if self.eat('/') {
                v /= self.power()?;
            } else {
                return Ok(v);
            }
        }
    }

    fn power(&mut self) -> Result<f64, String> {
        let base = self.unary()?;
        if self.eat('^') {
            Ok(base.powf(self.power()?))
        } else {
            Ok(base)
        }
    }

    fn unary(&mut self) -> Result<f64, String> {
        if self.eat('-') {
            return Ok(-self.unary()?);
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<f64, String> {
        self.skip_space();
        if self.eat('(') {
            let v = self.sum()?;
            if !self.eat(')') {
                return Err(self.error("expected `)`"));
            }
            return Ok(v);
        }
        let start = self.at;
        match self.chars.get(self.at) {
            Some(c) if c.is_ascii_digit() || *c == '.' => {
                let mut prev = ' ';
                self.skip_while(|c| {
                    let more = c.is_ascii_digit()
                        || c == '.'
                        || c == 'e'
                        || (prev == 'e' && (c == '-' || c == '+'));
                    prev = c;
                    more
                });
                let s: String = self.chars[start..self.at].iter().collect();
                s.parse::<f64>().map_err(|_| {
                    self.at = start;
                    self.error(&format!("`{s}` is not a number"))
                })
            }
            Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
                self.skip_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                let name: String = self.chars[start..self.at].iter().collect();
                if self.eat('(') {
                    self.call(&name, start)
                } else {
                    self.field(&name, start)
                }
            }
            Some(c) => Err(self.error(&format!("unexpected `{c}`"))),
            None => Err(self.error("expected a number, a field or `(`")),
        }
    }

    fn call(&mut self, name: &str, start: usize) -> Result<f64, String> {
        let mut args = vec![self.sum()?];
        while self.eat(',') {
            args.push(self.sum()?);
        }
        if !self.eat(')') {
            return Err(self.error("expected `)`"));
        }
        let one = |f: fn(f64) -> f64, args: &[f64]| (args.len() == 1).then(|| f(args[0]));
        let two =
            |f: fn(f64, f64) -> f64, args: &[f64]| (args.len() == 2).then(|| f(args[0], args[1]));
        let v = match name {
            "log2" => one(f64::log2, &args),
            "ln" => one(f64::ln, &args),
            "log10" => one(f64::log10, &args),
            "sqrt" => one(f64::sqrt, &args),
            "abs" => one(f64::abs, &args),
            "min" => two(f64::min, &args),
            "max" => two(f64::max, &args),
            _ => {
                self.at = start;
                return Err(self.error(&format!(
                    "unknown function `{name}` (known: log2, ln, log10, sqrt, abs, min, max)"
                )));
            }
        };
        v.ok_or_else(|| {
            self.at = start;
            self.error(&format!("`{name}` takes a different number of arguments"))
        })
    }

    fn field(&mut self, name: &str, start: usize) -> Result<f64, String> {
        let Some(v) = json_path(self.fields, name) else {
            self.at = start;
            return Err(self.error(&format!("no scenario field `{name}`")));
        };
        match v {
            Value::Number(n) => n.as_f64().ok_or_else(|| self.error("not a number")),
            Value::Bool(b) => Ok(f64::from(u8::from(*b))),
            _ => {
                self.at = start;
                Err(self.error(&format!("scenario field `{name}` is not a number")))
            }
        }
    }
}

/// The value at a dotted path (`peers.count`); a number indexes a list
/// (`events.0.fraction`).
pub fn json_path<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(root, |v, key| match key.parse::<usize>() {
            Ok(i) if v.is_array() => v.get(i),
            _ => v.get(key),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields() -> Value {
        json!({ "peers": { "count": 4096, "name": "x" }, "churn": { "on": true } })
    }

    #[test]
    fn arithmetic_fields_and_functions() {
        let f = fields();
        assert_eq!(evaluate("0.5 * log2(peers.count) + 1.2", &f), Ok(7.2));
        assert_eq!(evaluate("2 ^ 3 ^ 2", &f), Ok(512.0));
        assert_eq!(evaluate("-(1 - 3) * 2", &f), Ok(4.0));
        assert_eq!(evaluate("max(1, min(5, 3)) / 2", &f), Ok(1.5));
        assert_eq!(evaluate("1e3 + churn.on", &f), Ok(1001.0));
        assert_eq!(evaluate("2.5e-1 * 4", &f), Ok(1.0));
        let e = json!({ "events": [{ "fraction": 0.5 }] });
        assert_eq!(evaluate("events.0.fraction ^ 3", &e), Ok(0.125));
    }

    #[test]
    fn bad_expressions_say_what_and_where() {
        let f = fields();
        let e = evaluate("0.5 * log3(peers.count)", &f).unwrap_err();
        assert!(
            e.contains("unknown function `log3`") && e.contains("column 7"),
            "{e}"
        );
        let e = evaluate("peers.cuont + 1", &f).unwrap_err();
        assert!(e.contains("no scenario field `peers.cuont`"), "{e}");
        let e = evaluate("peers.name", &f).unwrap_err();
        assert!(e.contains("is not a number"), "{e}");
        let e = evaluate("(1 + 2", &f).unwrap_err();
        assert!(e.contains("expected `)`"), "{e}");
        let e = evaluate("1 +", &f).unwrap_err();
        assert!(e.contains("expected a number"), "{e}");
        let e = evaluate("2 3", &f).unwrap_err();
        assert!(e.contains("unexpected `3`"), "{e}");
        let e = evaluate("log2(0)", &f).unwrap_err();
        assert!(e.contains("not a finite number"), "{e}");
        assert!(evaluate("min(1)", &f).unwrap_err().contains("arguments"));
    }
}
