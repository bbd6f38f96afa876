// Renders GraphiQL against bantin. The endpoint, the default query and the header
// template come from the page (src/graphiql.rs); nothing is loaded from another host.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var settings = JSON.parse(document.getElementById('graphiql-settings').textContent);
  var send = GraphiQL.createFetcher({ url: new URL(root.dataset.endpoint, window.location.origin).toString() });
  // The header box holds a template ("Bearer …"): it is not a token, and is not
  // sent until one replaces it.
  function fetcher(params, options) {
    var headers = Object.assign({}, options && options.headers);
    Object.keys(headers).forEach(function (name) {
      if (name.toLowerCase() === 'authorization' && /^bearer\s*(…|\.\.\.)?$/i.test(String(headers[name]).trim())) {
        delete headers[name];
      }
    });
    return send(params, Object.assign({}, options, { headers: headers }));
  }
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: settings.query,
      defaultHeaders: settings.headers,
      defaultEditorToolsVisibility: 'headers',
    })
  );
})();
