//! Query limits beyond complexity: depth (data fields and introspection counted
//! apart, so that the standard introspection query of GraphQL tools passes) and a
//! cap on aliases, which otherwise let one small query fan out into many expensive
//! resolutions.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Name, ServerError, ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery},
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

pub struct AliasLimit(pub usize);

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExtension(self.0))
    }
}

struct AliasLimitExtension(usize);

fn count(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + count(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => count(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

#[async_trait::async_trait]
impl Extension for AliasLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let aliases: usize = document
            .operations
            .iter()
            .map(|(_, op)| count(&op.node.selection_set.node))
            .chain(
                document
                    .fragments
                    .values()
                    .map(|f| count(&f.node.selection_set.node)),
            )
            .sum();
        if aliases > self.0 {
            return Err(ServerError::new(
                format!(
                    "the query uses {aliases} aliases; at most {} are allowed",
                    self.0
                ),
                None,
            ));
        }
        Ok(document)
    }
}

/// Depth limits that GraphQL tooling can live with: data fields are counted up to
/// `data` levels, while the subtree under `__schema` / `__type` (whose `ofType`
/// chains make the standard introspection query of graphql-js and graphql-core 15
/// levels deep) has a limit of its own, `introspection`. Fragments are followed;
/// a fragment cycle is left to validation, which refuses it. With `introspection`
/// `None` (switched off), any `__schema` / `__type` is refused with a clear error
/// rather than answered with `null`.
pub struct DepthLimit {
    pub data: usize,
    pub introspection: Option<usize>,
}

impl ExtensionFactory for DepthLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DepthLimitExtension {
            data: self.data,
            introspection: self.introspection,
        })
    }
}

struct DepthLimitExtension {
    data: usize,
    introspection: Option<usize>,
}

/// Walks a document once per fragment (memoised, so that fragments spread many
/// times cannot make the walk exponential).
struct DepthWalk<'a> {
    doc: &'a ExecutableDocument,
    memo: HashMap<(&'a str, bool), (usize, usize)>,
    visiting: Vec<&'a str>,
}

impl<'a> DepthWalk<'a> {
    /// The deepest path below `set`: (data depth, introspection depth).
    fn depth(&mut self, set: &'a SelectionSet, inside_introspection: bool) -> (usize, usize) {
        let mut deepest = (0, 0);
        for item in &set.items {
            let (data, intro) = match &item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let introspection =
                        inside_introspection || name == "__schema" || name == "__type";
                    let (data, intro) = self.depth(&field.node.selection_set.node, introspection);
                    if introspection {
                        (0, intro + 1)
                    } else {
                        (data + 1, intro)
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.depth(&fragment.node.selection_set.node, inside_introspection)
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node, inside_introspection)
                }
            };
            deepest = (deepest.0.max(data), deepest.1.max(intro));
        }
        deepest
    }

    fn fragment(&mut self, name: &'a Name, inside_introspection: bool) -> (usize, usize) {
        let key = (name.as_str(), inside_introspection);
        if let Some(found) = self.memo.get(&key) {
            return *found;
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            return (0, 0);
        };
        if self.visiting.contains(&key.0) {
            return (0, 0);
        }
        self.visiting.push(key.0);
        let found = self.depth(&fragment.node.selection_set.node, inside_introspection);
        self.visiting.pop();
        self.memo.insert(key, found);
        found
    }
}

#[async_trait::async_trait]
impl Extension for DepthLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        for (_, operation) in document.operations.iter() {
            let mut walk = DepthWalk {
                doc: &document,
                memo: HashMap::new(),
                visiting: Vec::new(),
            };
            let (data, introspection) = walk.depth(&operation.node.selection_set.node, false);
            let Some(introspection_limit) = self.introspection else {
                if introspection > 0 {
                    return Err(ServerError::new(
                        "introspection is switched off on this server",
                        None,
                    ));
                }
                continue;
            };
            if data > self.data || introspection > introspection_limit {
                return Err(ServerError::new(
                    format!(
                        "Query is nested too deep: at most {} levels of data fields and {} of \
                         introspection are allowed",
                        self.data, introspection_limit
                    ),
                    None,
                ));
            }
        }
        Ok(document)
    }
}
