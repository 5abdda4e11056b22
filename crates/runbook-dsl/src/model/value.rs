use super::super::template::Template;

/// A YAML value whose strings are templates (JSON bodies, query values, condition operands).
#[derive(Debug, Clone)]
pub enum ValueTemplate {
    /// A number, boolean, null, or a string without references.
    Literal(serde_json::Value),
    Template(Template),
    Array(Vec<ValueTemplate>),
    Object(Vec<(String, ValueTemplate)>),
}

impl ValueTemplate {
    /// Every template inside, depth first.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            ValueTemplate::Literal(_) => {}
            ValueTemplate::Template(template) => out.push(template),
            ValueTemplate::Array(items) => items.iter().for_each(|item| item.collect(out)),
            ValueTemplate::Object(fields) => fields.iter().for_each(|(_, item)| item.collect(out)),
        }
    }

    /// How the value reads in a failure message: the template text, or the literal.
    pub fn describe(&self) -> String {
        match self {
            ValueTemplate::Literal(value) => value.to_string(),
            ValueTemplate::Template(template) => template.source.clone(),
            ValueTemplate::Array(_) | ValueTemplate::Object(_) => "(structured value)".into(),
        }
    }
}
