#!/usr/bin/env bash
# Refreshes assets/graphiql/ from the npm registry: GraphiQL and React at the pinned
# versions below, their production builds and licences, and SHA256SUMS of what was
# written. The binary embeds these files (src/graphiql.rs): `cargo build` needs
# neither npm nor the network, and the page asks no other host for anything.
#   scripts/graphiql-assets.sh      # after changing a version here
set -euo pipefail
cd "$(dirname "$0")/.."
GRAPHIQL=4.0.3
REACT=18.3.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# npm checks each tarball against the integrity the registry publishes.
(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" > /dev/null)
for package in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
    mkdir "$work/$package"
    tar xzf "$work/$package.tgz" -C "$work/$package"
done
out=assets/graphiql
mkdir -p "$out"
cp "$work/graphiql-$GRAPHIQL/package/graphiql.min.js" "$work/graphiql-$GRAPHIQL/package/graphiql.min.css" "$out/"
cp "$work/graphiql-$GRAPHIQL/package/LICENSE" "$out/LICENSE-graphiql"
cp "$work/react-$REACT/package/umd/react.production.min.js" "$out/"
cp "$work/react-$REACT/package/LICENSE" "$out/LICENSE-react"
cp "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" "$out/"
cp "$work/react-dom-$REACT/package/LICENSE" "$out/LICENSE-react-dom"
# The source map a browser's tools would ask for is not shipped.
sed -i 's|//# sourceMappingURL=[^ ]*$||' "$out/graphiql.min.js"
printf 'graphiql %s\nreact %s\nreact-dom %s\n' "$GRAPHIQL" "$REACT" "$REACT" > "$out/VERSIONS"
(cd "$out" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js > SHA256SUMS)
echo "assets/graphiql: graphiql $GRAPHIQL, react $REACT"
