// Plan a cluster: not built yet (issue 9).
export function ClusterWizardPage() {
  return (
    <section className="page" aria-labelledby="clusterwizardpage-title">
      <h1 id="clusterwizardpage-title">Plan a cluster</h1>
    </section>
  );
}
