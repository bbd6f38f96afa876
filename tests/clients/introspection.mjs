// Writes the standard introspection queries of graphql-js 15, 16 and 17 (with every
// option on, and with none) to ../api/queries/, where the tests read them:
//   npm ci && node introspection.mjs
import { writeFileSync } from 'node:fs';
import * as v15 from 'graphql-15';
import * as v16 from 'graphql';
import * as v17 from 'graphql-17';

const all = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
};
for (const [name, graphql] of [['15', v15], ['16', v16], ['17', v17]]) {
  for (const [options, suffix] of [[all, 'all'], [{}, 'default']]) {
    const query = graphql.getIntrospectionQuery(options);
    const file = new URL(`../api/queries/introspection-graphql-js-${name}-${suffix}.graphql`, import.meta.url);
    writeFileSync(file, `# graphql-js ${graphql.version}: getIntrospectionQuery(${JSON.stringify(options)})\n${query}\n`);
  }
}

// The Python `gql` client's query (introspection-python-gql-default.graphql) comes
// from PyPI, not npm:
//   pip install gql==4.4.0 && python3 -c "from gql.utilities import \
//     get_introspection_query_ast; from graphql import print_ast; \
//     print(print_ast(get_introspection_query_ast()))"
