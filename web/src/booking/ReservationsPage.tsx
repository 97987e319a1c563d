// My reservations: not built yet (issue 9).
export function ReservationsPage() {
  return (
    <section className="page" aria-labelledby="reservationspage-title">
      <h1 id="reservationspage-title">My reservations</h1>
    </section>
  );
}
