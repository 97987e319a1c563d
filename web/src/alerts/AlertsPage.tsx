// Price alerts: not built yet (issue 9).
export function AlertsPage() {
  return (
    <section className="page" aria-labelledby="alertspage-title">
      <h1 id="alertspage-title">Price alerts</h1>
    </section>
  );
}
