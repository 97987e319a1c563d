// Clusters: not built yet (issue 9).
export function ClustersPage() {
  return (
    <section className="page" aria-labelledby="clusterspage-title">
      <h1 id="clusterspage-title">Clusters</h1>
    </section>
  );
}
