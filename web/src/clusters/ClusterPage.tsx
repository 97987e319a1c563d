// Cluster: not built yet (issue 9).
export function ClusterPage() {
  return (
    <section className="page" aria-labelledby="clusterpage-title">
      <h1 id="clusterpage-title">Cluster</h1>
    </section>
  );
}
