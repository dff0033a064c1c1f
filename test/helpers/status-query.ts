/** The query the fault and transport tests ask: every image with its host, and each host's status. */
export const QUERY = /* GraphQL */ `
  {
    images {
      totalCount
      nodes {
        id
        repoTags
        host {
          name
        }
      }
    }
    hosts {
      name
      status
      error {
        code
        message
      }
    }
  }
`;

export interface Answer {
  images: { totalCount: number; nodes: Array<{ id: string; repoTags: string[]; host: { name: string } }> };
  hosts: Array<{ name: string; status: string; error: { code: string; message: string } | null }>;
}
