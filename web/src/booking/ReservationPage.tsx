// Reservation: not built yet (issue 9).
export function ReservationPage() {
  return (
    <section className="page" aria-labelledby="reservationpage-title">
      <h1 id="reservationpage-title">Reservation</h1>
    </section>
  );
}
