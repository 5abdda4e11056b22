//! Checks for `plugin` steps against the linked plugins' action signatures.

use super::Checker;
use super::references::Scope;
use crate::finding::{Finding, FindingCode};
use crate::model::PluginStep;
use crate::raw::RawPlugin;
use crate::spanned::Spanned;
use crate::suggest::did_you_mean;

impl Checker<'_> {
    pub(super) fn check_plugin(
        &mut self,
        scope: Scope,
        spanned: &Spanned<RawPlugin>,
    ) -> Option<PluginStep> {
        let plugin = &spanned.value;
        let action_span = self.span(&plugin.action);
        let names = self.catalog.names();
        let Some(spec) = self.catalog.spec(&plugin.action.value).copied() else {
            let finding = Finding::error(
                FindingCode::UnknownPlugin,
                action_span,
                format!("no linked plugin offers `{}`", plugin.action.value),
            )
            .with_label("unknown action");
            let finding = match did_you_mean(&plugin.action.value, names.iter().copied()) {
                Some(candidate) => finding.with_help(format!("did you mean `{candidate}`?")),
                None if names.is_empty() => {
                    finding.with_help("this build of runbook links no plugins")
                }
                None => finding.with_help(format!("available actions: {}", names.join(", "))),
            };
            self.report(finding);
            return None;
        };
        let before = self.findings.len();
        let mut params = Vec::new();
        for (name, value) in &plugin.params {
            if spec.param(name).is_none() {
                let span = self.key_span(self.span(value), name);
                let known = spec.params.iter().map(|param| param.name);
                self.report(
                    Finding::error(
                        FindingCode::UnknownPlugin,
                        span,
                        format!("`{}` has no parameter `{name}`", spec.name),
                    )
                    .with_label("unknown parameter")
                    .with_help(match did_you_mean(name, known) {
                        Some(candidate) => format!("did you mean `{candidate}`?"),
                        None => format!(
                            "parameters: {}",
                            spec.params
                                .iter()
                                .map(|p| p.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    }),
                );
                continue;
            }
            if let Some(value) = self.value_template(value, scope) {
                params.push((name.clone(), value));
            }
        }
        for param in spec.params.iter().filter(|param| param.required) {
            if !plugin.params.contains_key(param.name) {
                self.report(
                    Finding::error(
                        FindingCode::UnknownPlugin,
                        action_span,
                        format!("`{}` needs the parameter `{}`", spec.name, param.name),
                    )
                    .with_label("missing parameter")
                    .with_help(format!(
                        "add `{}:` under `with:` ({})",
                        param.name, param.summary
                    )),
                );
            }
        }
        (self.findings.len() == before).then(|| PluginStep {
            action: spec.name.to_owned(),
            params,
            outputs: spec.outputs.iter().map(|name| (*name).to_owned()).collect(),
            secret_params: spec
                .params
                .iter()
                .filter(|param| param.secret)
                .map(|param| param.name.to_owned())
                .collect(),
            read_only: spec.read_only,
        })
    }
}
