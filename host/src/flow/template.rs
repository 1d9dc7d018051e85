//! Input values with references: `"${{ vars.group }}"`, `"${{ steps.sp.outputs.appId }}"`,
//! or text around them (`"api://${{ vars.name }}-server"`).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Literal(String),
    Var(String),
    Output { step: String, name: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template(pub Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("`${{{{` at byte {0} is never closed with `}}}}`")]
    Unterminated(usize),
    #[error("`${{{{ {0} }}}}` is not a reference aksflow knows")]
    UnknownForm(String),
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Template {
    pub fn parse(s: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = s;
        let mut offset = 0;
        while let Some(start) = rest.find("${{") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_string()));
            }
            let after = &rest[start + 3..];
            let end = after.find("}}").ok_or(TemplateError::Unterminated(offset + start))?;
            let expr = after[..end].trim();
            let segs: Vec<&str> = expr.split('.').collect();
            let part = match segs.as_slice() {
                ["vars", name] if is_name(name) => Part::Var(name.to_string()),
                ["steps", step, "outputs", name] if is_name(step) && is_name(name) => {
                    Part::Output { step: step.to_string(), name: name.to_string() }
                }
                _ => return Err(TemplateError::UnknownForm(expr.to_string())),
            };
            parts.push(part);
            let consumed = start + 3 + end + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Template(parts))
    }

    /// The steps whose outputs this value needs.
    pub fn steps(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Part::Output { step, .. } => Some(step.as_str()),
            _ => None,
        })
    }

    /// Fills in references. `lookup` returns the value and whether it is secret; the result
    /// is secret if any part is.
    pub fn render(&self, mut lookup: impl FnMut(&Part) -> Option<(String, bool)>) -> Option<(String, bool)> {
        let mut out = String::new();
        let mut secret = false;
        for p in &self.0 {
            match p {
                Part::Literal(s) => out.push_str(s),
                other => {
                    let (v, s) = lookup(other)?;
                    out.push_str(&v);
                    secret |= s;
                }
            }
        }
        Some((out, secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn forms() {
        assert_eq!(Template::parse("plain").unwrap().0, vec![Part::Literal("plain".into())]);
        assert_eq!(
            Template::parse("api://${{ vars.name }}-x").unwrap().0,
            vec![Part::Literal("api://".into()), Part::Var("name".into()), Part::Literal("-x".into())]
        );
        assert_eq!(
            Template::parse("${{steps.sp.outputs.appId}}").unwrap().0,
            vec![Part::Output { step: "sp".into(), name: "appId".into() }]
        );
        assert_eq!(Template::parse("a ${{ vars.x").unwrap_err(), TemplateError::Unterminated(2));
        assert_eq!(Template::parse("${{ env.HOME }}").unwrap_err(), TemplateError::UnknownForm("env.HOME".into()));
        assert_eq!(Template::parse("${{ steps.a.outputs }}").unwrap_err(), TemplateError::UnknownForm("steps.a.outputs".into()));
    }

    #[test]
    fn secrets_taint_the_whole_value() {
        let t = Template::parse("Bearer ${{ steps.login.outputs.token }}").unwrap();
        let r = t.render(|_| Some(("abc".into(), true))).unwrap();
        assert_eq!(r, ("Bearer abc".into(), true));
        assert_eq!(t.render(|_| None), None);
    }

    fn name() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_-]{1,12}"
    }

    fn part() -> impl Strategy<Value = Part> {
        prop_oneof![
            "[^$]{1,10}".prop_map(Part::Literal),
            name().prop_map(Part::Var),
            (name(), name()).prop_map(|(step, name)| Part::Output { step, name }),
        ]
    }

    fn write(parts: &[Part]) -> String {
        parts
            .iter()
            .map(|p| match p {
                Part::Literal(s) => s.clone(),
                Part::Var(v) => format!("${{{{ vars.{v} }}}}"),
                Part::Output { step, name } => format!("${{{{steps.{step}.outputs.{name}}}}}"),
            })
            .collect()
    }

    /// Adjacent literals are one literal once written out.
    fn merge(parts: Vec<Part>) -> Vec<Part> {
        let mut out: Vec<Part> = Vec::new();
        for p in parts {
            match (out.last_mut(), p) {
                (Some(Part::Literal(a)), Part::Literal(b)) => a.push_str(&b),
                (_, p) => out.push(p),
            }
        }
        out
    }

    proptest! {
        #[test]
        fn written_references_parse_back(parts in proptest::collection::vec(part(), 0..8)) {
            let text = write(&parts);
            let parsed = Template::parse(&text).unwrap();
            prop_assert_eq!(parsed.0, merge(parts.clone()));
            let steps: Vec<&str> = parts.iter().filter_map(|p| match p { Part::Output { step, .. } => Some(step.as_str()), _ => None }).collect();
            let parsed = Template::parse(&text).unwrap();
            prop_assert_eq!(parsed.steps().collect::<Vec<_>>(), steps);
        }

        #[test]
        fn rendering_substitutes_every_reference(parts in proptest::collection::vec(part(), 0..8)) {
            let t = Template::parse(&write(&parts)).unwrap();
            let (out, secret) = t.render(|p| match p {
                Part::Var(v) => Some((format!("<{v}>"), false)),
                Part::Output { step, name } => Some((format!("<{step}:{name}>"), false)),
                Part::Literal(_) => unreachable!(),
            }).unwrap();
            prop_assert!(!secret);
            prop_assert!(!out.contains("${{"));
        }

        #[test]
        fn arbitrary_text_never_panics(s in ".{0,60}") {
            let _ = Template::parse(&s);
        }
    }
}
