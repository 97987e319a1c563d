// Providers: not built yet (issue 9).
export function ProvidersPage() {
  return (
    <section className="page" aria-labelledby="providerspage-title">
      <h1 id="providerspage-title">Providers</h1>
    </section>
  );
}
