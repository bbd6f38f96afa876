// The types graphql-codegen makes from schema.graphql and the example client's
// documents, used as an app would: `tsc` fails if they do not fit together.
import type { ArticlePageQuery, FrontPageQuery, SearchQuery } from '../../target/codegen/graphql';

export function titles(page: FrontPageQuery): string[] {
  return page.articles.nodes.map((article) => article.title);
}

export function captions(page: ArticlePageQuery): string[] {
  return (page.article?.media ?? []).map((media) => media.caption ?? '');
}

export function found(page: SearchQuery): string[] {
  return page.search.edges.map((edge) =>
    edge.node.__typename === 'Article' ? edge.node.title : edge.snippet,
  );
}
