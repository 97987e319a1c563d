// Hosting: not built yet (issue 9).
export function HostPage() {
  return (
    <section className="page" aria-labelledby="hostpage-title">
      <h1 id="hostpage-title">Hosting</h1>
    </section>
  );
}
