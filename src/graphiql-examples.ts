/** The queries GraphiQL opens with: one tab each, all within the default query limits. */
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
  {
    query: `# Unused images, biggest first, 20 at a time (pass pageInfo.endCursor as "after" for the next page).
query Unused($after: String) {
  images(filter: { inUse: false }, orderBy: [{ field: SIZE, direction: DESC }], first: 20, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id repoTags size createdAt host { name } } }
  }
  fleet { unusedCount unusedSize danglingCount danglingSize totalSize uniqueSize }
}
`,
  },
  {
    query: `# Which hosts hold each image, and which tags point at different builds on different hosts.
query Spread {
  imageGroups(orderBy: [{ field: HOST_COUNT, direction: DESC }], first: 50) {
    nodes { id repoTags size hostCount hosts { name } }
  }
  tagDrift { tag variants { id hosts { name } } }
}
`,
  },
  {
    query: `# Docker's filters, the same on every host. This one: tagged images, newest first.
# Others: reference: ["nginx:1.*", "myorg/*"], label: ["com.example.team=web"], before/since: "IMAGE",
# inUse, dangling, ids, createdAfter; all must match.
query Filtered {
  images(filter: { dangling: false, reference: ["*", "*/*", "*/*/*"] }, orderBy: [{ field: CREATED, direction: DESC }], first: 20) {
    nodes { repoTags createdAt labels { key value } host { name } usedBy { names state } }
  }
}
`,
  },
  {
    query: `# Outdated images: is there a newer image at the registry for each tag, and where is the old one still?
# Registries are asked only when fleetgraph runs with --check-updates (only those in --registry-allow): one
# HEAD per registry, repository and tag per update interval, however many hosts hold it; otherwise UNKNOWN.
# For the outdated ones only: filter: { updateStatus: OUTDATED }.
query Outdated {
  images(filter: { dangling: false }, orderBy: [{ field: REFERENCE }], first: 50) {
    nodes {
      host { name }
      updates { reference status localDigest remoteDigest checkedAt reason }
    }
  }
  fleet { outdatedCount imageCount }
}
`,
  },
];
