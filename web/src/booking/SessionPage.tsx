// Session: not built yet (issue 9).
export function SessionPage() {
  return (
    <section className="page" aria-labelledby="sessionpage-title">
      <h1 id="sessionpage-title">Session</h1>
    </section>
  );
}
