// Costs: not built yet (issue 9).
export function CostsPage() {
  return (
    <section className="page" aria-labelledby="costspage-title">
      <h1 id="costspage-title">Costs</h1>
    </section>
  );
}
