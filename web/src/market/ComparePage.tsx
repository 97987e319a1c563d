// Compare: not built yet (issue 9).
export function ComparePage() {
  return (
    <section className="page" aria-labelledby="compare-title">
      <h1 id="compare-title">Compare offers</h1>
    </section>
  );
}
