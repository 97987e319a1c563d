// My sessions: not built yet (issue 9).
export function SessionsPage() {
  return (
    <section className="page" aria-labelledby="sessionspage-title">
      <h1 id="sessionspage-title">My sessions</h1>
    </section>
  );
}
