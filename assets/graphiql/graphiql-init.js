// Mounts GraphiQL on this Heimdall's GraphQL endpoint (named by the page).
// Headers are never persisted in browser storage; the schema loads without a key
// (introspection is public), and queries need one in the Headers tab.
(function () {
  var root = document.getElementById('graphiql');
  var fetcher = GraphiQL.createFetcher({ url: root.getAttribute('data-endpoint') });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      shouldPersistHeaders: false,
      defaultHeaders: '{}',
      defaultQuery:
        '# Heimdall GraphQL. Put a key in the Headers tab below, e.g.\n' +
        '#   {"Authorization": "Bearer hm_root_..."}\n' +
        '# (a root key, an app key, or an end user\'s access token).\n' +
        '# Headers are not saved: reloading the page forgets the key.\n\n' +
        '{\n  apps {\n    edges {\n      node {\n        name\n        issuer\n      }\n    }\n  }\n}\n',
    })
  );
})();
