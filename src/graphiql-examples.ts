/** The queries GraphiQL opens with: each one a tab, each within the default query limits. */
export const GRAPHIQL_TABS: Array<{ query: string }> = [
  {
    query: `# Every image on every host, merged. Failed hosts appear in "errors", the rest still answer.
query Inventory {
  images {
    totalCount
    nodes {
      id
      repoTags
      repoDigests
      createdAt
      size
      labels { key value }
      containers
      host { name }
    }
  }
  hosts { name status engine { version apiVersion } imageCount }
}
`,
  },
];
