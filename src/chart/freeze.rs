//! Hooks on Helm 3: helm never pipes them through a post-renderer, so a patch that targets a hook
//! would silently do nothing. helm-x renders the release once as helm would, patches the hooks, and
//! gives helm a copy of the chart in which only the template files of targeted hooks are replaced by
//! their rendered output (escaped, so helm never evaluates it again). A file that renders a hook and
//! other objects is frozen whole; its other objects still pass through the post-renderer and get
//! their patches there. Everything else in the chart stays live.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{check_relative, escape_template};
use crate::filter::inject;
use crate::helm::{Run, Verb};
use crate::input::{Source, chart, walk};
use crate::invocation::{Invocation, Target};
use crate::patch;
use crate::pipeline::{self, render_release};
use crate::stream::{Document, Stream};

/// The chart copy with frozen hook templates, or `None` when no patch targets a hook.
pub fn hooks(
    inv: &Invocation,
    target: &Target,
    verb: Verb,
    source: &Source,
    workdir: &Path,
    crds: &[serde_json::Value],
) -> Result<Option<PathBuf>> {
    if !may_have_hooks(source)? {
        return Ok(None);
    }
    let args = inv.helm_args.without_post_renderer();
    let rendered = render_release(inv, target, verb, &args)?;
    let documents = &rendered.documents;
    if documents.iter().all(|d| d.hook_events().is_empty()) {
        return Ok(None);
    }
    let ctx = target.patch_context(&inv.namespace, crds);
    let mut patched = rendered.clone();
    let applied = patch::apply(&mut patched, &target.patches, &ctx)?;
    pipeline::force_namespace(inv, target, verb, &mut patched, crds)?;
    if let Some(options) = target.validate_offline {
        // Helm 3 never pipes hooks through the post-renderer, which checks the other objects: the
        // whole release is checked here, so one error lists every problem, and the hooks'
        // warnings are printed here (the post-renderer prints the others').
        let documents = &patched.documents;
        crate::validate::check_documents(documents, documents, crds, options)?;
        let hooks = documents.iter().filter(|d| !d.hook_events().is_empty());
        for warning in crate::validate::check_documents(hooks, documents, crds, options)? {
            eprintln!("helm-x: warning: {warning}");
        }
    }
    let mut after: Vec<Option<&Document>> = vec![None; documents.len()];
    for (origin, doc) in applied.origins.iter().zip(&patched.documents) {
        after[*origin] = Some(doc);
    }
    let targeted: BTreeSet<&str> = documents
        .iter()
        .zip(&after)
        .filter(|(d, a)| {
            let changed = !target.injectors.is_empty() || a.is_none_or(|a| a.is_modified());
            !d.hook_events().is_empty() && changed
        })
        .map(|(d, _)| d.file.as_str())
        .collect();
    if targeted.is_empty() {
        return Ok(None);
    }
    let dir = chart::materialize(
        source,
        inv.helm()?,
        &inv.helm_args.for_run(Verb::Pull, Run::Pull),
        workdir,
    )?;
    for file in &targeted {
        let mut body = String::new();
        let mut push = |text: &str| {
            body.push_str("---\n");
            body.push_str(text.trim_end_matches('\n'));
            body.push('\n');
        };
        // The file's other objects stay as rendered: the post-renderer patches and injects them.
        let mut hooks = Stream::default();
        for (doc, now) in documents
            .iter()
            .zip(&after)
            .filter(|(d, _)| d.file == *file)
        {
            if doc.hook_events().is_empty() {
                push(&doc.text());
            } else if let Some(now) = now {
                hooks.documents.push((*now).clone());
            }
        }
        inject::apply(&mut hooks, &target.injectors)?;
        for hook in &hooks.documents {
            push(&hook.text());
        }
        write_frozen(&dir, file, &escape_template(&body))?;
    }
    // Only now: without frozen hooks the post-renderer checks the targets and warns itself.
    for warning in &applied.warnings {
        eprintln!("helm-x: warning: {warning}");
    }
    let files: Vec<&str> = targeted.into_iter().collect();
    eprintln!(
        "helm-x: Helm 3 does not post-render hooks, so {} {} frozen with the patched render: \
         .Release.Revision, lookup and values in {} are those of this render",
        files.join(", "),
        if files.len() == 1 { "is" } else { "are" },
        if files.len() == 1 { "it" } else { "them" },
    );
    Ok(Some(dir))
}

/// Writes `body` over the template `source` (`chart/templates/x.yaml`) inside the chart copy.
fn write_frozen(dir: &Path, source: &str, body: &str) -> Result<()> {
    let rel = source.split_once('/').map_or("", |(_, rel)| rel);
    check_relative(rel)?;
    let path = dir.join(rel);
    if !path.is_file() {
        bail!(
            "cannot freeze the patched hook of {source}: {} is not a file of the chart (a packaged \
             subchart?); use --pre-render",
            path.display()
        );
    }
    std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))
}

/// Whether the chart can render a hook at all; a local chart dir with no `helm.sh/hook` anywhere
/// (and no packaged subchart) saves the render.
fn may_have_hooks(source: &Source) -> Result<bool> {
    let Source::ChartDir(dir) = source else {
        return Ok(true);
    };
    let filter = walk::Filter {
        extensions: None,
        skip_hidden: false,
    };
    // A chart linking outside itself is still a chart helm renders: render it to be sure.
    let Ok(all) = walk::files(dir, filter) else {
        return Ok(true);
    };
    for found in all {
        if found.rel.ends_with(".tgz") {
            return Ok(true);
        }
        let bytes = std::fs::read(&found.path)
            .with_context(|| format!("cannot read {}", found.path.display()))?;
        if bytes.windows(12).any(|w| w == b"helm.sh/hook") {
            return Ok(true);
        }
    }
    Ok(false)
}
